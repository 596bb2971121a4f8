"""GET /v1/stream: new events as Server-Sent Events, each with its log position as its id,
fed by this process's log tailer (api/log_tailer.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent

from api.auth import requires_reader
from api.limits import Cost, costs
from api.log_tailer import LogTailer, feed
from api.problems import ApiProblem, Documented, problem
from store.event_store import MAX_POSITION

MAX_POSITION_DIGITS = 18  # positions are int8


def _start_position(last_event_id: str | None, after: int | None) -> tuple[str, int] | None:
    """Where the client asked to resume, and which parameter said so. The header wins: a
    browser's EventSource keeps the URL's `?after=` and sends the newer Last-Event-ID."""
    if last_event_id is not None:
        text = last_event_id.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= MAX_POSITION_DIGITS):
            raise ApiProblem(
                400,
                "invalid-parameter",
                "A header is not valid",
                "Last-Event-ID: expected a log position (a whole number, as in the `id:` of "
                f"an event this stream sent), got {last_event_id[:40]!r}",
                field="Last-Event-ID",
            )
        return "Last-Event-ID", int(text)
    if after is not None:
        return "after", after
    return None


# The seed article's 1,376 km² peak, as `timeline demo` records it third.
EXAMPLE = (
    "id: 3\n"
    "event: report-filed\n"
    'data: {"position":3,"recorded_at":"2026-11-28T04:19:46.361389Z",'
    '"report_id":"f3919e56-d211-5a62-822d-0fb7b4f31083","version":1,"type":"report-filed",'
    '"summary":"Ukraine holds about 1,376 km2 of Kursk Oblast at peak (per Ukrainian General '
    'Staff source via Reuters)","event":{"originator_id":"f3919e56-d211-5a62-822d-0fb7b4f31083",'
    '"originator_version":1,"timestamp":"2026-11-28T04:19:46.361201Z","claim":{"kind":'
    '"territory_control","actor":"Ukraine","region":"Kursk Oblast","country":"RU","area":'
    '{"unit":"km2","value":1376.0,"qualifier":"about"},"extent":"peak"},"attribution":{"source":'
    '"Ukrainian General Staff source","side":"ukraine","outlet":"Reuters"},"occurred":'
    '{"precision":"interval","start":{"precision":"month","year":2024,"month":8},"end":'
    '{"precision":"day","on":"2024-11-23"}},"reported":{"precision":"day","on":"2024-11-23"},'
    '"caveats":[{"party":"Reuters","stance":"could_not_verify"},{"party":'
    '"Russian Defence Ministry","stance":"did_not_respond"}],"notes":"\\"At most, we '
    'controlled about 1376 square kilometres\\""}}\n'
    "\n"
    ": heartbeat\n"
    "\n"
)

DESCRIPTION = f"""\
A `text/event-stream` of events as they are recorded, in log order. Each event's `id:` is its
log position, `event:` its stored type (`report-filed`, `report-corroborated`, ...) and
`data:` one JSON object: `position`, `recorded_at`, `report_id`, `version`, `type`, a human
`summary` and the domain `event` itself (as in `GET /v1/reports/{{report_id}}`'s history).

Without `Last-Event-ID` or `after` the stream starts with the events recorded after the
request. To resume, send `Last-Event-ID: N` (EventSource does so by itself when it
reconnects) or `?after=N` (the header wins when both are given): the stream then starts at
position N+1, with no gap and no repeat. `?after=0` replays the whole log first.

A comment line (`: heartbeat`) comes every 15 s without events. A client too slow to keep up is
switched back to reading the log from its last position, then to the live feed again. When the
service stops, the stream ends with `: the service is stopping; reconnect with
Last-Event-ID: N`.

```
{EXAMPLE}```
"""


@get(
    "/stream",
    operation_id="streamEvents",
    summary="New events as Server-Sent Events, resumable with Last-Event-ID",
    description=DESCRIPTION,
    tags=["stream"],
    guards=[requires_reader],
    opt=costs(Cost.STREAM),
    responses={
        200: Documented(
            str,
            description="An endless stream of events (text/event-stream)",
            media_type="text/event-stream",
            generate_examples=False,
            examples=[Example(summary="A report filed, then a heartbeat", value=EXAMPLE)],
        ),
        400: problem("Last-Event-ID or after is not a log position this log has reached"),
        401: problem("An API key is needed"),
        403: problem("The key's role does not allow this"),
        429: problem("This key (or address) has too many streams open"),
        503: problem("The process has too many streams open"),
    },
)
async def stream(
    *,
    tailer: NamedDependency[LogTailer],
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            description="Resume after this log position (the last `id:` received)",
        ),
    ] = None,
    after: Annotated[
        int | None,
        QueryParameter(
            ge=0,
            le=MAX_POSITION,
            description="Resume after this log position, for clients that cannot send headers",
        ),
    ] = None,
) -> ServerSentEvent:
    head = await tailer.store.position()
    asked = _start_position(last_event_id, after)
    if asked is not None and asked[1] > head:
        name, position = asked
        raise ApiProblem(
            400,
            "invalid-parameter",
            "A parameter is not valid",
            f"{name}: position {position} is beyond the newest event of this log ({head})",
            field=name,
        )
    start = head if asked is None else asked[1]
    return ServerSentEvent(feed(tailer, start))


STREAM_ROUTES = [stream]
