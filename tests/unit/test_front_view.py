"""The front view: how fast Russia advances towards Kurakhove, as each source claimed it.

Given the seed article's reports and what happened to them later, when the front view folds
them, then each direction shows its latest standing rate, and the front-series view beside it
a point per standing claim, one row per day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from domain.attribution import Verification
from domain.claims import FrontAdvance
from domain.events import DomainEvent
from domain.occurrence import Day
from domain.quantities import Qualifier, Quantity, Unit, about, between
from domain.report import Report, correct, dispute, file_report, project_report, retract
from projections.core import fold, render_all
from projections.views.front import FrontRow, FrontSeries, FrontSeriesView, FrontView
from seed.kursk_article import demo_report_id
from tests.projection_support import demo_events, recorded
from tests.seed_values import (
    GENERAL_STAFF_VIA_REUTERS,
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
)

VIEW = FrontView()
SERIES = FrontSeriesView()
KURAKHOVE = "kurakhove/russia"
KURAKHOVE_NOVEMBER = f"{KURAKHOVE}/2024-11-23"  # the day of the demo's claim
KURAKHOVE_NOVEMBER_11 = f"{KURAKHOVE}/2024-11-11"
KURAKHOVE_ADVANCE = demo_report_id("kurakhove-advance")
NOVEMBER_11 = Day(on=date(2024, 11, 11))
# Fixed, so that two folds of "the same events" really are the same events.
ANALYSTS_ESTIMATE = UUID("5f0c2a8e-4d1b-4c7a-9a51-3a1f0e6b7c11")
OCTOBER_ESTIMATE = UUID("9b3e7d21-6a4f-4e8c-b0d5-2c8f1a6e4d93")


def report_after(events: list[DomainEvent], report_id: UUID) -> Report:
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def front(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, FrontRow]:
    state, _ = fold(VIEW, recorded(events))
    rows = render_all(VIEW, state, as_of)
    assert all(isinstance(row, FrontRow) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, FrontRow)}


def series(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, FrontSeries]:
    state, _ = fold(SERIES, recorded(events))
    rows = render_all(SERIES, state, as_of)
    assert all(isinstance(row, FrontSeries) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, FrontSeries)}


def kurakhove(rate: Quantity, *, direction: str = "Kurakhove") -> FrontAdvance:
    return FrontAdvance(
        actor="Russia",
        direction=direction,
        region="Donetsk Oblast",
        country="UA",
        rate=rate,
    )


def earlier_estimate_by_analysts() -> DomainEvent:
    """An analysts' desk put the pace at about 150 m/day on 11 November (recorded later)."""
    return file_report(
        claim=kurakhove(about(150, Unit.METRES_PER_DAY)),
        attribution=INSTITUTE_FOR_THE_STUDY_OF_WAR,
        occurred=NOVEMBER_11,
        reported=Day(on=date(2024, 11, 12)),
        report_id=ANALYSTS_ESTIMATE,
    )


def october_estimate_by_analysts() -> DomainEvent:
    """The same desk's about 100 m/day on 28 October, a month before."""
    october_28 = Day(on=date(2024, 10, 28))
    return file_report(
        claim=kurakhove(about(100, Unit.METRES_PER_DAY)),
        attribution=INSTITUTE_FOR_THE_STUDY_OF_WAR,
        occurred=october_28,
        reported=october_28,
        report_id=OCTOBER_ESTIMATE,
    )


def test_the_demo_shows_russia_advancing_200_to_300_metres_a_day_towards_kurakhove() -> None:
    rows = front(demo_events())

    assert list(rows) == [KURAKHOVE]
    row = rows[KURAKHOVE]
    assert (row.direction, row.actor, row.region, row.country) == (
        "Kurakhove",
        "Russia",
        "Donetsk Oblast",
        "UA",
    )
    assert row.rate == between(200, 300, Unit.METRES_PER_DAY)
    assert row.rate.qualifier is Qualifier.BETWEEN
    assert row.verification is Verification.UNVERIFIED
    assert row.attribution == GENERAL_STAFF_VIA_REUTERS
    assert row.date == "2024-11-23T00:00:00Z"
    assert row.source.report_id == KURAKHOVE_ADVANCE
    assert row.source.filed_at_position == 9
    assert row.source.recorded_at == datetime(2024, 11, 23, 18, 0, 8, tzinfo=UTC)

    days = series(demo_events())
    assert list(days) == [KURAKHOVE_NOVEMBER]
    day = days[KURAKHOVE_NOVEMBER]
    assert (day.direction, day.actor, day.day) == ("Kurakhove", "Russia", "2024-11-23")
    assert [(p.date, p.rate.low, p.rate.high, p.report_id) for p in day.points] == [
        ("2024-11-23T00:00:00Z", 200, 300, KURAKHOVE_ADVANCE)
    ]
    assert day.retracted == ()


def test_an_earlier_claim_recorded_later_joins_the_series_in_its_place() -> None:
    # Given the demo, when an analysts' estimate for 11 November is recorded afterwards,
    events = [*demo_events(), earlier_estimate_by_analysts()]

    row = front(events)[KURAKHOVE]
    days = series(events)

    # then it charts before Saturday's claim, in its own day's row, and Saturday's stays
    # the latest rate.
    assert list(days) == [KURAKHOVE_NOVEMBER_11, KURAKHOVE_NOVEMBER]
    assert [(p.date, p.source) for day in days.values() for p in day.points] == [
        ("2024-11-11T00:00:00Z", "Institute for the Study of War"),
        ("2024-11-23T00:00:00Z", "Ukrainian General Staff source"),
    ]
    assert row.rate == between(200, 300, Unit.METRES_PER_DAY)
    assert row.source.report_id == KURAKHOVE_ADVANCE


def test_as_of_a_date_shows_only_the_claims_about_what_had_happened_by_then() -> None:
    events = [*demo_events(), earlier_estimate_by_analysts()]

    mid_november = front(events, as_of=datetime(2024, 11, 15, tzinfo=UTC))
    mid_november_series = series(events, as_of=datetime(2024, 11, 15, tzinfo=UTC))
    before_any_claim = front(events, as_of=datetime(2024, 11, 1, tzinfo=UTC))

    assert mid_november[KURAKHOVE].rate == about(150, Unit.METRES_PER_DAY)
    assert list(mid_november_series) == [KURAKHOVE_NOVEMBER_11]
    assert [p.report_id for p in mid_november_series[KURAKHOVE_NOVEMBER_11].points] == [
        ANALYSTS_ESTIMATE
    ]
    assert before_any_claim == {}
    assert series(events, as_of=datetime(2024, 11, 1, tzinfo=UTC)) == {}


def test_a_corrected_rate_replaces_the_old_one_without_adding_a_point() -> None:
    demo = demo_events()
    correction = correct(
        report_after(demo, KURAKHOVE_ADVANCE),
        claim=kurakhove(Quantity(unit=Unit.METRES_PER_DAY, high=300, qualifier=Qualifier.AT_MOST)),
        reason="the source said up to 300 metres a day, not between 200 and 300",
    )

    row = front([*demo, correction])[KURAKHOVE]
    [point] = series([*demo, correction])[KURAKHOVE_NOVEMBER].points

    assert row.rate.qualifier is Qualifier.AT_MOST
    assert (row.rate.low, row.rate.high) == (None, 300)
    assert point.rate == row.rate
    assert (row.source.filed_at_position, row.source.last_changed_at_position) == (9, 17)


def test_a_correction_naming_another_direction_moves_the_claim_to_that_row() -> None:
    demo = demo_events()
    correction = correct(
        report_after(demo, KURAKHOVE_ADVANCE),
        claim=kurakhove(between(200, 300, Unit.METRES_PER_DAY), direction="Pokrovsk"),
        reason="the source meant the Pokrovsk direction",
    )

    state, touched = fold(VIEW, recorded([*demo, correction]))

    assert touched == {KURAKHOVE, "pokrovsk/russia"}
    assert list(render_all(VIEW, state)) == ["pokrovsk/russia"]

    # Its day of the series moves with it.
    series_state, series_touched = fold(SERIES, recorded([*demo, correction]))

    assert series_touched == {KURAKHOVE_NOVEMBER, "pokrovsk/russia/2024-11-23"}
    assert list(render_all(SERIES, series_state)) == ["pokrovsk/russia/2024-11-23"]


def test_a_retracted_claim_leaves_the_series_and_the_previous_one_is_latest_again() -> None:
    demo = [*demo_events(), earlier_estimate_by_analysts()]
    retraction = retract(
        report_after(demo, KURAKHOVE_ADVANCE), reason="the source withdrew the figure"
    )

    row = front([*demo, retraction])[KURAKHOVE]
    days = series([*demo, retraction])

    assert row.rate == about(150, Unit.METRES_PER_DAY)
    assert [p.source for p in days[KURAKHOVE_NOVEMBER_11].points] == [
        "Institute for the Study of War"
    ]
    assert days[KURAKHOVE_NOVEMBER].points == ()
    assert [source.report_id for source in days[KURAKHOVE_NOVEMBER].retracted] == [
        KURAKHOVE_ADVANCE
    ]


def test_when_every_claim_about_a_direction_is_retracted_the_row_goes() -> None:
    demo = demo_events()
    retraction = retract(
        report_after(demo, KURAKHOVE_ADVANCE), reason="the source withdrew the figure"
    )

    assert front([*demo, retraction]) == {}


def test_a_disputed_rate_stays_marked_as_disputed() -> None:
    demo = demo_events()
    disputed = dispute(
        report_after(demo, KURAKHOVE_ADVANCE),
        by=RUSSIAN_DEFENCE_MINISTRY,
        reason="says its forces advance faster than Kyiv admits",
    )

    row = front([*demo, disputed])[KURAKHOVE]
    [point] = series([*demo, disputed])[KURAKHOVE_NOVEMBER].points

    assert row.verification is Verification.DISPUTED
    assert point.verification is Verification.DISPUTED


def test_the_same_events_render_byte_identical_rows() -> None:
    def encoded() -> bytes:
        # A fresh demo each time: the events' own creation timestamps differ between
        # calls, and must not reach the rows.
        events = [*demo_events(), earlier_estimate_by_analysts()]
        return msgspec.json.encode(front(events)) + msgspec.json.encode(series(events))

    first = encoded()
    assert first == encoded()
    assert b'"qualifier":"between"' in first


def test_the_series_is_split_by_day_and_a_withdrawn_claim_stays_in_its_day() -> None:
    # Given an October estimate as well as November's two claims,
    events = [*demo_events(), earlier_estimate_by_analysts(), october_estimate_by_analysts()]
    before = series(events)
    # when the October one is retracted,
    events.append(
        retract(report_after(events, OCTOBER_ESTIMATE), reason="the source withdrew the figure")
    )
    after = series(events)

    # then each day is a row of its own, keyed and named by its day,
    october = f"{KURAKHOVE}/2024-10-28"
    assert list(before) == list(after) == [october, KURAKHOVE_NOVEMBER_11, KURAKHOVE_NOVEMBER]
    assert [row.day for row in after.values()] == ["2024-10-28", "2024-11-11", "2024-11-23"]
    assert [p.report_id for p in before[october].points] == [OCTOBER_ESTIMATE]
    assert [
        p.report_id
        for day in (KURAKHOVE_NOVEMBER_11, KURAKHOVE_NOVEMBER)
        for p in after[day].points
    ] == [ANALYSTS_ESTIMATE, KURAKHOVE_ADVANCE]
    # and the withdrawn claim leaves its day's points for that day's `retracted`,
    assert after[october].points == ()
    assert [source.report_id for source in after[october].retracted] == [OCTOBER_ESTIMATE]
    # while November's rows are untouched.
    assert after[KURAKHOVE_NOVEMBER] == before[KURAKHOVE_NOVEMBER]
    assert after[KURAKHOVE_NOVEMBER_11] == before[KURAKHOVE_NOVEMBER_11]
    assert after[KURAKHOVE_NOVEMBER].retracted == ()
