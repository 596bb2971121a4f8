"""An answer rewritten on its way out: `held_when` wraps an ASGI `send` so that an answer whose
start its `check` holds back is gathered whole, then handed to `answer`, which sends what
replaces it. The CSV answers (api/csv_answers.py) and the edge's problems (api/edge.py) use it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
# The start of an answer, amended, and whether to hold the answer back.
Check = Callable[[Message], tuple[Message, bool]]
Answer = Callable[[Message, bytes], Awaitable[None]]


def held_when(send: Any, check: Check, answer: Answer) -> Any:
    """`send`, except for an answer `check` holds back: its start and whole body go to
    `answer` instead."""
    held: Message | None = None
    body = b""

    async def wrapped(message: Any) -> None:
        nonlocal held, body
        if message["type"] == "http.response.start":
            message, hold = check(message)
            if hold:
                held = message
                return
        elif held is not None and message["type"] == "http.response.body":
            body += message.get("body", b"")
            if message.get("more_body", False):
                return
            await answer(held, body)
            return
        await send(message)

    return wrapped
