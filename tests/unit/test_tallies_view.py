"""The tallies: the General Staff's daily running totals of Russian losses, and increments.

Given tallies of losses as `timeline import gs-losses` and `economist-estimates` file them,
when the tallies view and its history fold them, then each source's latest standing total
shows (a lower later one replacing a higher), increments add up beside it, never mixed, and
the month rows hold one flat point per standing report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from application.commands import FileReport
from application.reports import decide_filing
from domain.events import DomainEvent
from domain.quantities import Qualifier, Unit, between, exactly
from domain.report import retract
from projections.core import fold, render_all
from projections.explanation import ReportRole, explain_log
from projections.views.tallies import TalliesSeriesView, TalliesView, TallyRow, TallySeries
from tests.projection_support import recorded
from tests.seed_values import (
    general_staff_personnel,
    general_staff_tanks,
    tanks_lost_on_the_day,
    uk_mod_estimate,
)

TALLIES = TalliesView()
SERIES = TalliesSeriesView()
TANKS = "russia/equipment/tanks/unspecified/general-staff-of-the-armed-forces-of-ukraine"
PERSONNEL = "russia/people/total/military/general-staff-of-the-armed-forces-of-ukraine"
MAY_27 = UUID("0b6f3c1e-8d2a-4e5b-9c7f-1a2b3c4d5e6f")
MAY_28 = UUID("7d9e1f2a-3b4c-4d5e-8f6a-0b1c2d3e4f5a")
TWELVE_TANKS = UUID("4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f")


def filed(*filings: FileReport) -> list[DomainEvent]:
    return [decide_filing(filing) for filing in filings]


def tallies(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, TallyRow]:
    state, _ = fold(TALLIES, recorded(events))
    rows = render_all(TALLIES, state, as_of)
    return {key: row for key, row in rows.items() if isinstance(row, TallyRow)}


def series(events: list[DomainEvent]) -> dict[str, TallySeries]:
    state, _ = fold(SERIES, recorded(events))
    rows = render_all(SERIES, state)
    return {key: row for key, row in rows.items() if isinstance(row, TallySeries)}


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)


def test_a_lower_later_total_replaces_the_higher_one_and_is_never_added() -> None:
    # Given the General Staff's 3,799 tanks on 27 May 2023, then 3,797 on the 28th
    events = filed(
        general_staff_tanks(3_799, date(2023, 5, 27), MAY_27),
        general_staff_tanks(3_797, date(2023, 5, 28), MAY_28),
    )

    # Then the row shows the 28th's lower total, as published, counted since the invasion
    total = tallies(events)[TANKS].total
    assert total is not None
    assert (total.count.value, total.as_of, total.since) == (3_797, "2023-05-28", "2022-02-24")
    assert (total.source_name, total.source.report_id) == ("tank", MAY_28)
    # and on the 27th, the 27th's
    earlier = tallies(events, end_of(date(2023, 5, 27)))[TANKS].total
    assert earlier is not None
    assert earlier.count.value == 3_799


def test_increments_add_up_beside_the_total_never_into_it() -> None:
    # Given a running total and two days' increments of the same tanks
    events = filed(
        general_staff_tanks(3_797, date(2023, 5, 28)),
        tanks_lost_on_the_day(12, date(2023, 5, 28), TWELVE_TANKS),
        tanks_lost_on_the_day(7, date(2023, 5, 29)),
    )

    row = tallies(events)[TANKS]

    # Then the total stays the total, and the increments are summed apart
    assert row.total is not None
    assert row.total.count.value == 3_797
    assert row.increments is not None
    assert (row.increments.value, row.increments.counted) == (19, 2)
    assert (row.increments.first, row.increments.last) == (
        "2023-05-28T00:00:00Z",
        "2023-05-29T00:00:00Z",
    )


def test_a_retracted_total_falls_back_to_the_one_before_and_is_named() -> None:
    events = filed(
        general_staff_tanks(3_799, date(2023, 5, 27), MAY_27),
        general_staff_tanks(3_797, date(2023, 5, 28), MAY_28),
    )
    report = fold(TALLIES, recorded(events))[0].reports[MAY_28].report
    events.append(retract(report, reason="the General Staff withdrew it"))

    row = tallies(events)[TANKS]

    assert row.total is not None
    assert row.total.count.value == 3_799
    assert [source.report_id for source in row.retracted] == [MAY_28]


def test_a_report_of_several_figures_feeds_a_row_per_figure_each_sources_own() -> None:
    # Given UK MoD's killed (a range) and wounded, and the General Staff's personnel
    events = filed(
        uk_mod_estimate(
            between(200_000, 250_000, Unit.PEOPLE),
            date(2025, 3, 20),
            wounded=exactly(500_000, Unit.PEOPLE),
        ),
        general_staff_personnel(729_720, date(2024, 11, 23)),
    )

    rows = tallies(events)

    assert set(rows) == {
        "russia/people/killed/military/uk-mod",
        "russia/people/wounded/military/uk-mod",
        PERSONNEL,
    }
    killed = rows["russia/people/killed/military/uk-mod"].total
    assert killed is not None
    assert (killed.count.low, killed.count.high, killed.source_name) == (200_000, 250_000, "killed")
    personnel = rows[PERSONNEL].total
    assert personnel is not None
    assert (personnel.count.value, personnel.count.qualifier) == (729_720, Qualifier.ABOUT)
    assert personnel.source_name == "personnel"


def test_the_history_keeps_a_month_row_of_flat_points_totals_and_increments_apart() -> None:
    events = filed(
        general_staff_tanks(3_799, date(2023, 5, 27), MAY_27),
        general_staff_tanks(3_797, date(2023, 5, 28), MAY_28),
        tanks_lost_on_the_day(12, date(2023, 5, 28), TWELVE_TANKS),
        general_staff_tanks(3_800, date(2023, 6, 1)),
    )

    rows = series(events)

    assert set(rows) == {f"{TANKS}/2023-05", f"{TANKS}/2023-06"}
    may = rows[f"{TANKS}/2023-05"]
    assert may.month == "2023-05"
    assert [(p.date[:10], p.value, p.report_id) for p in may.totals] == [
        ("2023-05-27", 3_799, MAY_27),
        ("2023-05-28", 3_797, MAY_28),
    ]
    assert [(p.value, p.report_id) for p in may.increments] == [(12, TWELVE_TANKS)]
    point = may.totals[1]
    assert (point.source, point.source_name, point.qualifier) == (
        "General Staff of the Armed Forces of Ukraine",
        "tank",
        Qualifier.EXACT,
    )


def test_explaining_a_tally_names_the_total_behind_it_and_the_one_it_replaced() -> None:
    events = filed(
        general_staff_tanks(3_799, date(2023, 5, 27), MAY_27),
        general_staff_tanks(3_797, date(2023, 5, 28), MAY_28),
        tanks_lost_on_the_day(12, date(2023, 5, 28), TWELVE_TANKS),
    )

    (row,) = explain_log("tallies", recorded(events), TANKS).rows

    assert [(figure.field, figure.report_ids) for figure in row.figures] == [
        ("total", (MAY_28,)),
        ("increments", (TWELVE_TANKS,)),
    ]
    roles = {report.report_id: (report.role, report.superseded_by) for report in row.reports}
    assert roles == {
        MAY_28: (ReportRole.CURRENT, None),
        MAY_27: (ReportRole.SUPERSEDED, MAY_28),
        TWELVE_TANKS: (ReportRole.SHOWN, None),
    }
