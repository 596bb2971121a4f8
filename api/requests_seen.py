"""Every request, seen once from the outside: given a request id, timed, counted by route
template and status, and logged.

The request id is the caller's `X-Request-ID` when it is a sane one (1 to 128 visible ASCII
characters: a log line must not be broken or bloated by it), else one made here; either way it
is returned in `X-Request-ID` on every answer, problems and refusals included, and every log
line written while the request runs carries it (`REQUEST_ID`).

The route is litestar's path template (`/v1/reports/{report_id}`), never the raw path, so a
metric's labels stay as few as the routes however many reports there are; a request no route
matched is counted as `unmatched`. The request log names the API key by its id (the guard's,
or the limits' when a request was refused before the guard ran), never the key.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from litestar.types import HTTPScope, Message, Receive, Send

from api.metrics import ServiceMetrics

log = logging.getLogger("timeline.api.requests")

REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "unmatched"
_SANE_ID = re.compile(r"[!-~]{1,128}")
# Methods are counted by name only when they are ones HTTP defines: a client inventing a
# method per request must not invent a metric series per request.
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

# The id of the request being served in this task, for every log line written meanwhile.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

Serve = Callable[[HTTPScope, Receive, Send], Awaitable[None]]


_made = itertools.count(1)
_prefix = secrets.token_hex(8)


def _new_prefix() -> None:
    global _prefix  # noqa: PLW0603 (a forked worker must not number as its parent does)
    _prefix = secrets.token_hex(8)


os.register_at_fork(after_in_child=_new_prefix)


def new_request_id() -> str:
    """An id no other request of any process is given: a random prefix per process and a
    count (a uuid4 per request cost a system call, a third of what this layer costs)."""
    return f"{_prefix}-{next(_made)}"


def request_id_of(headers: Any) -> str:
    """The caller's X-Request-ID if sane, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else new_request_id()
    return new_request_id()


def key_id_of(state: dict[str, Any]) -> str | None:
    key = state.get("api_key")
    key_id = key.id if key is not None else state.get("key_id")
    return None if key_id is None else str(key_id)


async def seen(
    metrics: ServiceMetrics, scope: HTTPScope, receive: Receive, send: Send, serve: Serve
) -> None:
    """`serve` the request, with its id, its time and its log line."""
    request_id = request_id_of(scope["headers"])
    token = REQUEST_ID.set(request_id)
    state: dict[str, Any] = scope.setdefault("state", {})
    status = 500  # what it was if the app failed before answering
    started = time.perf_counter()

    async def send_with_id(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id.encode())]
            message = {**message, "headers": headers}
        await send(message)

    try:
        await serve(scope, receive, send_with_id)
    finally:
        seconds = time.perf_counter() - started
        method = scope["method"] if scope["method"] in _METHODS else "other"
        route = scope.get("path_template") or UNMATCHED
        metrics.request_answered(method, route, status, seconds)
        if log.isEnabledFor(logging.INFO):
            duration_ms = round(seconds * 1000, 3)
            log.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                duration_ms,
                extra={
                    "request_id": request_id,
                    "key_id": key_id_of(state),
                    "route": route,
                    "method": method,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
        REQUEST_ID.reset(token)
