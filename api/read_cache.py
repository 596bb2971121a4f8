"""The live reads' fast path: an answer given before is given again, without the handler.

A dashboard asks the same few URLs over and over, and a view changes only when the log
moves. The answer itself is already encoded in memory (api/live_views.py); what a request
costs is litestar's work around it: the request object, the guard (litestar copies the
route handler for every guard call), parsing a dozen query parameters, building the
response. So each read route remembers, in its view's memo (emptied whenever the view
moves), the exact response it gave for a path and query string at the view's generation
and position, and sends those bytes again to the next identical GET from a key that may
read: the same status, headers and body the handler would give.

Everything else goes the ordinary way, which answers (and is remembered) or fails exactly
as before: another question, an answer other than 200, a request with If-None-Match (the
handler decides 304s), a view that moved while answering, and any key this process has not
checked within the key cache's minute, including bad and revoked ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from api.auth import bearer_secret
from api.services import Services, services_of
from store.api_keys import Role

READING_ROLES = frozenset(role for role in Role if role.allows(Role.READER))


@dataclass(frozen=True, slots=True)
class _Answer:
    stamp: tuple[int, int]  # the view's generation and position when it was given
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


def _may_read(services: Services, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request may be answered from memory: it asks no If-None-Match, and its
    key was found active, with a role that reads, within the key cache's minute."""
    authorization = api_key = None
    for name, value in headers:
        if name == b"authorization":
            authorization = value
        elif name == b"x-api-key":
            api_key = value
        elif name == b"if-none-match":
            return False
    if services.settings.public_reads:
        return True
    if authorization:
        secret = bearer_secret(authorization.decode("latin-1"))
    else:
        secret = api_key.decode("latin-1") if api_key else None
    if secret is None:
        return False
    key = services.api_keys.known(secret)
    return key is not None and key.role in READING_ROLES


class _Recorder:
    """Passes the response on, keeping a copy when it is one 200 with its whole body."""

    __slots__ = ("answer", "headers", "send", "stamp", "status")

    def __init__(self, send: Send, stamp: tuple[int, int]) -> None:
        self.send = send
        self.stamp = stamp
        self.status = 0
        self.headers: tuple[tuple[bytes, bytes], ...] = ()
        self.answer: _Answer | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            # Copied before sending: middleware outside this one (CORS) adds its headers
            # to the message it is given.
            self.status = message["status"]
            self.headers = tuple(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            if self.status == 200 and not message.get("more_body", False):
                self.answer = _Answer(self.stamp, self.status, self.headers, message["body"])
            self.status = 0
        await self.send(message)


def answered_before(view_name: str) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware for a read route that answers from the view `view_name`."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["method"] != "GET":
                await app(scope, receive, send)
                return
            services = services_of(scope["litestar_app"])
            view = services.views[view_name]
            question = ("answered", scope["path"], scope["query_string"])
            stamp = (view.generation, view.position)
            if _may_read(services, scope["headers"]):
                given = view.memo(question)
                if isinstance(given, _Answer) and given.stamp == stamp:
                    await send(
                        HTTPResponseStartEvent(
                            type="http.response.start",
                            status=given.status,
                            headers=list(given.headers),
                        )
                    )
                    await send(
                        HTTPResponseBodyEvent(
                            type="http.response.body", body=given.body, more_body=False
                        )
                    )
                    return
            recorder = _Recorder(send, stamp)
            await app(scope, receive, recorder)
            if recorder.answer is not None and stamp == (view.generation, view.position):
                view.remember(question, recorder.answer)

        return answer

    return middleware
