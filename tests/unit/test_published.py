"""What had been published by a date: the fold of `reported_by` (projections/published.py).

Given logs of the article's kinds of reports, drawn and as the seed has them, when a view is
asked what had been published by a date, then it shows the reports reported by then, each
with the changes published by then or not saying when; and a change cannot be published
before the report it changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.claims import TerritoryControl
from domain.errors import InvalidReport
from domain.events import ReportFiled
from domain.occurrence import Day
from domain.quantities import Unit, about
from domain.recorded import RecordedEvent
from domain.report import correct, corroborate, evolve, retract
from projections.registry import VIEWS
from projections.replay import ReplayAnswer, answer, encode_answer, valid_time
from seed.kursk_article import demo_report_id
from tests.log_drawing import Filing, FollowUp, actions, story
from tests.projection_support import demo_events, recorded
from tests.seed_values import INSTITUTE_FOR_THE_STUDY_OF_WAR

CURRENT_HOLDING = demo_report_id("kursk-current-holding")
KURSK = "kursk-oblast/ukraine"
FAR_FUTURE = date(9999, 12, 31)


def _rows(reply: ReplayAnswer) -> bytes:
    return encode_answer(msgspec.structs.replace(reply, reported_by=None))


@pytest.mark.parametrize("view", sorted(VIEWS))
@settings(max_examples=30, deadline=None)
@given(drawn=actions(shapes=3))
def test_everything_had_been_published_by_the_end_of_time(
    view: str, drawn: list[Filing | FollowUp]
) -> None:
    log = recorded(story(drawn))

    assert _rows(answer(view, log, reported_by=FAR_FUTURE)) == _rows(answer(view, log))


@pytest.mark.parametrize("view", sorted(VIEWS))
@settings(max_examples=30, deadline=None)
@given(
    drawn=actions(shapes=3),
    day=st.dates(date(2022, 1, 1), date(2025, 1, 31)),
)
def test_by_a_date_a_view_shows_the_reports_reported_by_then_with_all_that_befell_them(
    view: str, drawn: list[Filing | FollowUp], day: date
) -> None:
    # A drawn story's follow-ups never say when they came out: each goes with its report.
    log = recorded(story(drawn))
    moment = valid_time(day)
    assert moment is not None
    later = {
        entry.event.originator_id
        for entry in log
        if isinstance(entry.event, ReportFiled)
        and (entry.event.reported.earliest() or moment) > moment
    }
    published_then = [entry for entry in log if entry.event.originator_id not in later]

    by_then = answer(view, log, reported_by=day)

    assert by_then.position == (log[-1].position if log else 0)
    assert by_then.reported_by == day.isoformat()
    assert [row.row for row in by_then.rows] == [
        row.row for row in answer(view, published_then).rows
    ]


def _demo_corrected(published: Day | None) -> list[RecordedEvent]:
    """The demo, then the 800 km² corrected to 700 by a statement of 2 December."""
    events = demo_events()
    current = None
    for event in events:
        if event.originator_id == CURRENT_HOLDING:
            current = evolve(current, event)  # type: ignore[arg-type]
    assert current is not None
    correction = correct(
        current,
        claim=TerritoryControl(
            actor="Ukraine", region="Kursk Oblast", country="RU", area=about(700, Unit.KM2)
        ),
        reason="the source revised the figure",
        reported=published,
    )
    return [
        *recorded(events),
        *recorded(
            [correction],
            first_position=len(events) + 1,
            start=datetime(2024, 12, 3, tzinfo=UTC),
        ),
    ]


def _current_area(reply: ReplayAnswer) -> float:
    row = next(row.row for row in reply.rows if row.key == KURSK)
    return msgspec.to_builtins(row)["current"]["area"]["value"]  # type: ignore[no-any-return]


def test_a_correction_published_later_is_not_shown_before_it_came_out() -> None:
    log = _demo_corrected(Day(on=date(2024, 12, 2)))

    assert _current_area(answer("holdings", log, reported_by=date(2024, 12, 1))) == 800
    assert _current_area(answer("holdings", log, reported_by=date(2024, 12, 2))) == 700
    assert _current_area(answer("holdings", log)) == 700


def test_a_report_stands_as_it_was_before_its_first_change_published_after_the_date() -> None:
    # The 700 km² correction came out on 2 December; a day later analysts corroborated the
    # corrected figure (a change that does not say when it came out).
    log = _demo_corrected(Day(on=date(2024, 12, 2)))
    corrected = None
    for entry in log:
        if entry.event.originator_id == CURRENT_HOLDING:
            corrected = evolve(corrected, entry.event)  # type: ignore[arg-type]
    assert corrected is not None
    log.append(
        recorded(
            [corroborate(corrected, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)],
            first_position=log[-1].position + 1,
            start=datetime(2024, 12, 4, tzinfo=UTC),
        )[0]
    )

    def current(reply: ReplayAnswer) -> dict[str, object]:
        row = next(row.row for row in reply.rows if row.key == KURSK)
        return msgspec.to_builtins(row)["current"]  # type: ignore[no-any-return]

    before = current(answer("holdings", log, reported_by=date(2024, 12, 1)))
    after = current(answer("holdings", log, reported_by=date(2024, 12, 2)))
    # Before it: the report as the log held it before the correction, not corroborated yet
    assert (before["area"], before["verification"]) == (
        {"qualifier": "about", "unit": "km2", "value": 800.0},
        "unverified",
    )
    assert (after["area"], after["verification"]) == (
        {"qualifier": "about", "unit": "km2", "value": 700.0},
        "corroborated",
    )


def test_a_correction_that_does_not_say_when_is_shown_wherever_its_report_is() -> None:
    log = _demo_corrected(None)

    assert _current_area(answer("holdings", log, reported_by=date(2024, 11, 23))) == 700


def test_before_the_article_nothing_had_been_published() -> None:
    reply = answer("holdings", recorded(demo_events()), reported_by=date(2024, 8, 1))

    assert reply.rows == ()


def test_a_change_cannot_be_published_before_its_report() -> None:
    events = demo_events()
    filed = next(event for event in events if event.originator_id == CURRENT_HOLDING)
    assert isinstance(filed, ReportFiled)
    report = evolve(None, filed)
    reported = filed.reported.earliest()
    assert reported is not None
    before = Day(on=(reported - timedelta(days=1)).date())

    with pytest.raises(InvalidReport, match="published before the report itself"):
        retract(report, reason="the source withdrew it", reported=before)
    with pytest.raises(InvalidReport) as refused:
        correct(
            report,
            claim=TerritoryControl(
                actor="Ukraine", region="Kursk Oblast", country="RU", area=about(700, Unit.KM2)
            ),
            reason="revised",
            reported=before,
        )
    assert refused.value.field == "reported"
