"""Event streams for driving the pure projection folds without a database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from application.reports import decide, decide_filing
from domain.events import DomainEvent
from domain.recorded import RecordedEvent
from domain.report import evolve
from seed.kursk_article import demo_reports

# When the demo was "recorded" in these tests: the evening of the article's day.
RECORDED_FROM = datetime(2024, 11, 23, 18, 0, tzinfo=UTC)


def recorded(
    events: Iterable[DomainEvent], *, first_position: int = 1, start: datetime = RECORDED_FROM
) -> list[RecordedEvent]:
    """Number the events as the log would, one second apart."""
    return [
        RecordedEvent(position, start + timedelta(seconds=offset), event)
        for offset, (position, event) in enumerate(enumerate(events, start=first_position))
    ]


def demo_events() -> list[DomainEvent]:
    """The seed article's reports and their follow-ups, in the order `timeline demo` records
    them."""
    events: list[DomainEvent] = []
    for demo in demo_reports():
        filed = decide_filing(demo.filing)
        events.append(filed)
        report = evolve(None, filed)
        for command in demo.follow_ups:
            step = decide(report, command)
            events.append(step)
            report = evolve(report, step)
    return events
