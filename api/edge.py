"""What the service does with a request before routing it: refuse headers it will not read,
answer HEAD wherever GET answers, answer a read as CSV when asked (api/csv_answers.py),
and turn any error litestar answers in plain text (a CORS
preflight from an origin not allowed, say) into problem+json like every other.

litestar routes by method before any middleware runs, so a HEAD on a GET route would be 405,
and a header litestar never looks at would never be refused; this layer wraps the whole app.
Refusals here are problem+json like every other error. The server in front has its own
limits (granian answers an empty 431 for a header block larger than its read buffer, about
417 KiB, and an empty 400 for a control character in a header, before the app is called);
what passes them meets these.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.types import (
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)

from api.csv_answers import answer_in_kind
from api.held_answers import held_when
from api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from api.requests_seen import seen
from api.services import metrics_of
from api.settings import DEFAULT_MAX_HEADER_BYTES

# A header value may hold visible ASCII, spaces, tabs and (obsolete but legal) bytes 0x80+.
_CONTROL_BYTES = bytes(b for b in range(0x20) if b != 0x09) + b"\x7f"
_encoder = msgspec.json.Encoder()


def _refusal(scope: Scope, max_header_bytes: int) -> Problem | None:
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
    size = sum(len(name) + len(value) for name, value in headers)
    path = str(scope.get("path", ""))
    if size > max_header_bytes:
        return Problem(
            type=PROBLEM_BASE + "headers-too-large",
            title="Request headers too large",
            status=431,
            detail=f"the request's headers hold {size:,} bytes; this service reads at most "
            f"{max_header_bytes:,}",
            instance=path,
        )
    for name, value in headers:
        if value != value.translate(None, _CONTROL_BYTES):
            field = name.decode("latin-1").title()
            return Problem(
                type=PROBLEM_BASE + "invalid-header",
                title="A header is not valid",
                status=400,
                detail=f"{field}: a header value must not hold control characters",
                instance=path,
                field=field,
            )
    return None


async def _send_problem(send: Send, problem: Problem) -> None:
    body = _encoder.encode(problem)
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _problems_only(scope: Scope, send: Send) -> Send:
    """`send`, with an error answered in anything but JSON rewritten as a problem whose
    detail is the text litestar wrote (its middleware, such as CORS, answers in plain text
    before any exception handler could)."""

    def check(message: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        headers = dict(message.get("headers", ()))
        media = bytes(headers.get(b"content-type", b"")).split(b";")[0].strip()
        return message, message["status"] >= 400 and not media.endswith(b"json")

    async def answer(start: dict[str, Any], body: bytes) -> None:
        await _send_problem(send, _rewritten(scope, start, body))

    return cast(Send, held_when(send, check, answer))


def _rewritten(scope: Scope, start: dict[str, Any], body: bytes) -> Problem:
    status = int(start["status"])
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    detail = body.decode("utf-8", "replace").strip() or title
    slug = "-".join(title.lower().split())
    return Problem(
        type=PROBLEM_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=str(scope.get("path", "")),
    )


class TimelineApp(Litestar):
    """The litestar app, behind the checks above; HEAD is answered as GET without the body."""

    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        http: Any = scope
        if http["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # Outermost, so that refusals here too carry the request id and are counted.
        await seen(metrics_of(self), http, receive, send, self._checked)  # type: ignore[arg-type]

    async def _checked(self, http: Any, receive: Receive, send: Send) -> None:
        refused = _refusal(http, self.max_header_bytes)
        if refused is not None:
            await _send_problem(send, refused)
            return
        send = _problems_only(http, send)
        if http["method"] != "HEAD":
            await answer_in_kind(http, receive, send, super().__call__)
            return
        await self._head(http, send)

    async def _head(self, scope: Scope, send: Send) -> None:
        started = False

        async def headers_only(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await send(message)

        async def no_body() -> Any:
            # A HEAD has no body to read; to a stream, "disconnected" says stop at once.
            return {"type": "http.disconnect"}

        as_get: Any = {**scope, "method": "GET"}
        await answer_in_kind(as_get, no_body, headers_only, super().__call__)
        if "path_template" in as_get:  # the route it took, for the request's metrics
            scope["path_template"] = as_get["path_template"]
        if started:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
