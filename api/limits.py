"""The limits every client meets, enforced in one middleware around every route.

- **Requests per second**, a token bucket per API key (by the key's id, never its secret;
  by client address for a request without a key): `burst` requests at once, then
  `requests_per_second`. Over it: 429 with `Retry-After` and the `RateLimit` and
  `RateLimit-Policy` fields of draft-ietf-httpapi-ratelimit-headers-11; every answer within
  the limit carries them too, so a client can slow down before it is refused.
- **Streams** (`GET /v1/stream`), counted while they stay open: per key (429) and in all
  (503). A stream that never reads holds a connection and a task for as long as it lasts.
- **Questions about the past** (`as_of`, `known_at`, `position`, `explain` on the views and
  the timeline, and `GET /v1/audit/verify`) fold or reread the log in the request: one
  (`past_running`) runs at a time, a few more wait their turn, the rest are refused (503),
  so that however many are asked, the process keeps answering everything else. Each
  counts as `PAST_REQUESTS` requests against its key's rate, except on the views that
  answer the past from their reports' versions (holdings, damage, forces, front, tallies
  and the histories: milliseconds, as many rows as the answer holds), where it counts as
  `VERSIONED_PAST_REQUESTS`: a dashboard moving a date slider asks eight at a time.
- **Imports** (`POST /v1/imports`): `imports_at_once` at a time, the rest refused (503) before
  their files are read, since each holds its files (up to 64 MiB) and their rows in memory.
- **Wrong keys**: after `auth_failures` unknown or revoked keys from one address, that
  address must wait (429) before its next key is even looked up, one second, then twice as
  long after each further wrong key, up to `auth_max_wait_seconds`. A key this process
  already knows to be good is never kept waiting, and other addresses are unaffected.

Every refusal is a problem document with `Retry-After`, sent a second late (while few are
held back) so that a client looping without reading it slows down by itself.

The limits hold per API process: with several processes, a client may have each one's.
Behind a proxy every client has the proxy's address, so anonymous reads and wrong keys are
then limited for all of them together.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import bearer_secret
from api.limit_counters import FailedKeys, OverLimit, Partition, Slots, TokenBuckets, Turns
from api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, ApiProblem, Problem
from api.services import limits_of, services_of
from api.settings import LimitSettings

COST_OPTION = "cost"  # the route option (`opt`) saying what a route costs beyond a request
PAST_PARAMETERS = frozenset(("as_of", "known_at", "position"))
# A question that folds the log on every route that takes it: what had been published by a
# date (projections/published.py).
FOLDING_PARAMETERS = frozenset(("reported_by",))
FALSE_WORDS = frozenset(("", "0", "false", "no", "off"))
_encoder = msgspec.json.Encoder()
STREAM_RETRY_SECONDS = 5
PAST_RETRY_SECONDS = 2
IMPORT_RETRY_SECONDS = 10  # an import of a large file takes tens of seconds
MAX_HELD_BACK = 256  # refusals held back at once; beyond, they are answered at once
# What a question about the past counts for against the request rate: a fold of the log
# costs the process tens of milliseconds to seconds where a live read costs tens of
# microseconds; an answer from the versions, a few milliseconds.
PAST_REQUESTS = 10
VERSIONED_PAST_REQUESTS = 2


class Cost(StrEnum):
    """What a route costs beyond one request, in its `opt`."""

    STREAM = "stream"  # held open for as long as the client stays
    PAST = "past"  # a fold of the log when the question names a past (or explain=true)
    # the same question, read from the reports' versions (but folded, and so held to the
    # same queue, while the view's generation is behind the cut)
    VERSIONED_PAST = "versioned_past"
    LOG = "log"  # always rereads the log
    IMPORT = "import"  # holds a dataset's files and rows in memory while it runs


def costs(cost: Cost) -> dict[str, Any]:
    """The route option for a route that costs `cost`: `@get(..., opt=costs(Cost.PAST))`."""
    return {COST_OPTION: cost}


class Refused(ApiProblem):
    """A request refused by a limit, before the route saw it. Answered straight from the
    middleware, as `api/problems.py` answers an ApiProblem but without litestar's exception
    machinery: a client that ignores Retry-After and loops must cost the process as little
    as possible, or refusing it would itself be the overload."""

    async def send_to(self, scope: Scope, send: Send) -> None:
        body = _encoder.encode(
            Problem(
                type=PROBLEM_BASE + self.slug,
                title=self.title,
                status=self.status_code,
                detail=self.detail,
                instance=scope["path"],
            )
        )
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            *(
                (name.lower().encode(), value.encode())
                for name, value in (self.headers or {}).items()
            ),
        ]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def presented_secret(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The API key a request presents, if it reads as one (the guard words the errors)."""
    api_key = None
    for name, value in headers:
        if name == b"authorization":
            return bearer_secret(value.decode("latin-1"))
        if name == b"x-api-key":
            api_key = value.decode("latin-1") or None
    return api_key


class PastQuestion(StrEnum):
    """What a question about the past costs, whatever route asks it."""

    NONE = "none"
    ASKED = "asked"  # as the route's own cost says (`Cost.PAST` or `Cost.VERSIONED_PAST`)
    FOLDED = "folded"  # a fold of the log, on any route that answers the past


def _asks_about_the_past(query_string: bytes) -> PastQuestion:
    if not query_string:
        return PastQuestion.NONE
    asked = PastQuestion.NONE
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in FOLDING_PARAMETERS:
            return PastQuestion.FOLDED
        if name in PAST_PARAMETERS or (name == "explain" and value.lower() not in FALSE_WORDS):
            asked = PastQuestion.ASKED
    return asked


class Limits:
    """Every limit of one API process; `serve` enforces them around a route."""

    def __init__(
        self, settings: LimitSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.requests = (
            TokenBuckets(settings.requests_per_second, settings.burst, clock)
            if settings.requests_per_second > 0
            else None
        )
        self.streams = Slots(settings.streams_per_key, settings.streams)
        self.past = Turns(settings.past_running, settings.past_waiting)
        self.imports = Turns(settings.imports_at_once, 0)
        self._held_back = 0
        self.failed_keys = FailedKeys(settings.auth_failures, settings.auth_max_wait_seconds, clock)
        self.refusals: collections.Counter[str] = collections.Counter()  # by problem slug

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """`app` for this request, if the request is within the limits."""
        try:
            await self._within_limits(app, scope, receive, send)
        except Refused as refused:
            self.refusals[refused.slug] += 1
            await self._slow_down()
            await refused.send_to(scope, send)

    async def _slow_down(self) -> None:
        """Hold a refusal back a moment (while few are held): a client looping without
        reading Retry-After then loops at the pace of the refusals, and a task asleep costs
        the process nothing, where answering it at once, over and over, would not."""
        delay = self.settings.refusal_delay_seconds
        if delay <= 0 or self._held_back >= MAX_HELD_BACK:
            return
        self._held_back += 1
        try:
            await asyncio.sleep(delay)
        finally:
            self._held_back -= 1

    async def _within_limits(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send
    ) -> None:
        partition = await self._partition(scope)
        handler = scope.get("route_handler")
        cost = handler.opt.get(COST_OPTION) if handler is not None else None
        past = (
            _asks_about_the_past(scope["query_string"])
            if cost in (Cost.PAST, Cost.VERSIONED_PAST)
            else PastQuestion.NONE
        )
        asks_past = past is not PastQuestion.NONE
        folds = cost is Cost.LOG or past is PastQuestion.FOLDED or (asks_past and cost is Cost.PAST)
        if self.requests is not None:
            weight = PAST_REQUESTS if folds else VERSIONED_PAST_REQUESTS if asks_past else 1
            send = self._counted(partition, send, weight)
        if cost is Cost.STREAM:
            async with self._stream(partition):
                await app(scope, receive, send)
        elif cost is Cost.IMPORT:
            async with self._import():
                await app(scope, receive, send)
        elif folds or asks_past:
            async with self._past():
                await app(scope, receive, send)
        else:
            await app(scope, receive, send)

    async def _partition(self, scope: Scope) -> Partition:
        """Who is asking: the key's id, or the client's address when it sends no key we
        know (the guard then refuses a wrong one); counts and refuses wrong keys."""
        client = scope.get("client")
        address = client[0] if client else "unknown"
        secret = presented_secret(scope["headers"])
        if secret is None:
            return ("address", address)
        keys = services_of(scope["litestar_app"]).api_keys
        key = keys.known(secret)
        if key is None:
            wait = self.failed_keys.wait(address)
            if wait > 0:
                retry = str(math.ceil(wait))
                raise Refused(
                    429,
                    "too-many-wrong-keys",
                    "Too many wrong API keys",
                    f"too many unknown or revoked API keys came from this address; "
                    f"try again in {retry} s",
                    headers={"Retry-After": retry},
                )
            key = await keys.lookup(secret)
            if key is None:
                self.failed_keys.failed(address)
                return ("address", address)
            self.failed_keys.succeeded(address)
        scope["state"]["key_id"] = key.id  # for the request's log line, should it be refused
        return ("key", key.id)

    def _counted(self, partition: Partition, send: Send, cost: int) -> Send:
        """`send`, adding where the partition stands to the answer; 429 when it is spent."""
        assert self.requests is not None
        quota = self.requests.take(partition, cost)
        policy = f'"per-{partition[0]}";q={self.requests.burst};w={self.requests.window}'
        left = f'"per-{partition[0]}";r={quota.remaining};t={quota.full_in}'
        if quota.retry_after is not None:
            raise Refused(
                429,
                "rate-limited",
                "Too many requests",
                f"this {partition[0]} sent more than {self.requests.burst} requests at once "
                f"or {self.requests.rate:g} a second for too long; try again in "
                f"{quota.retry_after} s",
                headers={
                    "Retry-After": str(quota.retry_after),
                    "RateLimit-Policy": policy,
                    "RateLimit": left,
                },
            )
        fields = [(b"ratelimit-policy", policy.encode()), (b"ratelimit", left.encode())]

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *fields]}
            await send(message)

        return counted

    @asynccontextmanager
    async def _stream(self, partition: Partition) -> AsyncIterator[None]:
        try:
            async with self.streams.held(partition):
                yield
        except OverLimit as over:
            retry = {"Retry-After": str(STREAM_RETRY_SECONDS)}
            if over.in_all:
                raise Refused(
                    503,
                    "too-many-streams",
                    "Too many streams",
                    f"this process serves {self.streams.total} streams at most, all open; "
                    "try again shortly",
                    headers=retry,
                ) from None
            raise Refused(
                429,
                "too-many-streams",
                "Too many streams",
                f"this {partition[0]} has {self.streams.per_partition} streams open, the most "
                "it may; close one first",
                headers=retry,
            ) from None

    @asynccontextmanager
    async def _past(self) -> AsyncIterator[None]:
        try:
            async with self.past.turn():
                yield
        except OverLimit:
            raise Refused(
                503,
                "busy",
                "Too many questions about the past",
                f"{self.past.running} questions about the past (as_of, known_at, position, "
                f"explain, audit verify) are being answered and {self.past.waiting} more "
                "are waiting, the most this process takes; try again shortly",
                headers={"Retry-After": str(PAST_RETRY_SECONDS)},
            ) from None

    @asynccontextmanager
    async def _import(self) -> AsyncIterator[None]:
        try:
            async with self.imports.turn():
                yield
        except OverLimit:
            raise Refused(
                503,
                "too-many-imports",
                "Too many imports at once",
                f"this process runs {self.imports.running} import(s) at once, and is running "
                "them; nothing was read or written: post the file again shortly",
                headers={"Retry-After": str(IMPORT_RETRY_SECONDS)},
            ) from None


def limit_requests(app: ASGIApp) -> ASGIApp:
    """Middleware for a router: the app's limits around each route."""

    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        limits = limits_of(scope["litestar_app"])
        await limits.serve(app, scope, receive, send)

    return limited
