"""The holdings view: how much of Kursk region Ukraine holds now and held at its peak.

Given the seed article's reports and what happened to them later, when the holdings view
folds them, then each region and actor shows the latest standing figure, the peak and the
share lost between them; the holdings-series view beside it keeps every standing claim, one
row per region, actor and day, with that day's withdrawn claims listed apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Side, Stance, Verification
from domain.claims import Extent, TerritoryControl
from domain.events import DomainEvent
from domain.occurrence import Day
from domain.quantities import Qualifier, Quantity, Unit, about
from domain.report import Report, correct, corroborate, dispute, file_report, project_report
from domain.report import retract as retract_report
from projections.core import fold, render_all
from projections.views.holdings import (
    Holding,
    HoldingPoint,
    HoldingSeries,
    HoldingsSeriesView,
    HoldingsView,
    PeakBasis,
)
from seed.kursk_article import demo_report_id
from tests.projection_support import demo_events, recorded
from tests.seed_values import (
    GENERAL_STAFF_VIA_REUTERS,
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
)

VIEW = HoldingsView()
SERIES = HoldingsSeriesView()
KURSK = "kursk-oblast/ukraine"
# Day rows: the demo's peak was held "in August" (a month, on the axis at its first day).
KURSK_AUGUST = f"{KURSK}/2024-08-01"
KURSK_LATE_AUGUST = f"{KURSK}/2024-08-27"
KURSK_OCTOBER = f"{KURSK}/2024-10-15"
KURSK_NOVEMBER = f"{KURSK}/2024-11-23"
CURRENT_HOLDING = demo_report_id("kursk-current-holding")
PEAK_HOLDING = demo_report_id("kursk-peak-holding")
# Fixed, so that two folds of "the same events" really are the same events.
SYRSKYI_LATE_AUGUST = UUID("0d6f2b1e-7c3a-4e59-8b0f-2a9d5c4e1f37")
SYRSKYI_MID_OCTOBER = UUID("5b8e1c47-2d9a-4f06-a3e1-7c4b9d2f6a18")
SYRSKYI_VIA_REUTERS = Attribution(
    source="Commander-in-Chief Oleksandr Syrskyi", side=Side.UKRAINE, outlet="Reuters"
)


def report_after(events: list[DomainEvent], report_id: UUID) -> Report:
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def holdings(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, Holding]:
    state, _ = fold(VIEW, recorded(events))
    rows = render_all(VIEW, state, as_of)
    assert all(isinstance(row, Holding) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, Holding)}


def series(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, HoldingSeries]:
    state, _ = fold(SERIES, recorded(events))
    rows = render_all(SERIES, state, as_of)
    assert all(isinstance(row, HoldingSeries) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, HoldingSeries)}


def points(history: dict[str, HoldingSeries]) -> list[HoldingPoint]:
    """Every standing point of the history, day after day (keys sort by day)."""
    return [point for row in history.values() for point in row.points]


def kursk_held(area: Quantity) -> TerritoryControl:
    return TerritoryControl(actor="Ukraine", region="Kursk Oblast", country="RU", area=area)


def syrskyi_late_august() -> DomainEvent:
    """Syrskyi's "about 1,294 km²" of 27 August 2024: an earlier current figure."""
    return file_report(
        claim=kursk_held(about(1294, Unit.KM2)),
        attribution=SYRSKYI_VIA_REUTERS,
        occurred=Day(on=date(2024, 8, 27)),
        reported=Day(on=date(2024, 8, 27)),
        report_id=SYRSKYI_LATE_AUGUST,
    )


def retract(events: list[DomainEvent], report_id: UUID) -> DomainEvent:
    return retract_report(report_after(events, report_id), reason="the source withdrew the figure")


def test_the_demo_shows_ukraine_holding_about_800_km2_of_kursk_down_from_1376() -> None:
    rows = holdings(demo_events())

    assert list(rows) == [KURSK]
    row = rows[KURSK]
    assert (row.region, row.country, row.actor) == ("Kursk Oblast", "RU", "Ukraine")
    assert row.current is not None
    assert row.current.area == about(800, Unit.KM2)
    assert row.current.verification is Verification.UNVERIFIED
    assert row.current.attribution == GENERAL_STAFF_VIA_REUTERS
    assert Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY) in row.current.caveats
    assert row.current.date == "2024-11-23T00:00:00Z"
    assert row.current.source.report_id == CURRENT_HOLDING
    assert row.current.source.filed_at_position == 4
    assert row.peak is not None
    assert row.peak_basis is PeakBasis.CLAIMED
    assert row.peak.area == about(1376, Unit.KM2)
    assert row.peak.source.report_id == PEAK_HOLDING
    assert row.share_lost_from_peak == Quantity(
        unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN
    )
    # (1376 - 800) / 1376: more than 40 per cent, as the source said.
    assert row.computed_share_lost_percent == 41.9
    # The history: one row for August's peak claim, one for November's current figure.
    history = series(demo_events())
    assert list(history) == [KURSK_AUGUST, KURSK_NOVEMBER]
    assert [(p.date, p.area.value, p.extent, p.report_id) for p in points(history)] == [
        ("2024-08-01T00:00:00Z", 1376, Extent.PEAK, PEAK_HOLDING),
        ("2024-11-23T00:00:00Z", 800, Extent.CURRENT, CURRENT_HOLDING),
    ]
    assert all(day.retracted == () for day in history.values())


def test_a_corrected_figure_replaces_the_old_one_everywhere() -> None:
    # Given the demo, when the source corrects "about 800" to "about 700" km²,
    events = demo_events()
    events.append(
        correct(
            report_after(events, CURRENT_HOLDING),
            claim=kursk_held(about(700, Unit.KM2)),
            reason="the source revised the figure",
        )
    )

    row = holdings(events)[KURSK]

    # then only the corrected figure counts, and the share lost is computed again.
    assert row.current is not None
    assert row.current.area == about(700, Unit.KM2)
    assert row.current.source.last_changed_at_position == len(events)
    assert row.share_lost_from_peak is None
    assert row.computed_share_lost_percent == 49.1
    assert [p.area.value for p in points(series(events))] == [1376, 700]


def test_retracting_the_current_figure_falls_back_to_the_previous_one() -> None:
    # Given Syrskyi's late-August figure and the demo, when the 800 km² claim is retracted,
    events = [*demo_events(), syrskyi_late_august()]
    events.append(retract(events, CURRENT_HOLDING))

    row = holdings(events)[KURSK]

    # then Syrskyi's 1,294 km² is current again, and the withdrawn claim is only listed.
    assert row.current is not None
    assert row.current.area == about(1294, Unit.KM2)
    assert row.current.attribution == SYRSKYI_VIA_REUTERS
    assert row.share_lost_from_peak is None
    assert row.computed_share_lost_percent == 6.0
    history = series(events)
    assert [p.area.value for p in points(history)] == [1376, 1294]
    assert history[KURSK_AUGUST].retracted == ()
    # November's only claim left its points and is listed as withdrawn, by the retraction.
    november = history[KURSK_NOVEMBER]
    assert november.points == ()
    assert [source.report_id for source in november.retracted] == [CURRENT_HOLDING]
    assert november.retracted[0].last_changed_at_position == len(events)


def test_retracting_the_only_current_figure_leaves_the_peak_alone() -> None:
    events = demo_events()
    events.append(retract(events, CURRENT_HOLDING))

    row = holdings(events)[KURSK]

    assert row.current is None
    assert row.peak is not None
    assert row.peak.area == about(1376, Unit.KM2)
    assert row.share_lost_from_peak is None
    assert row.computed_share_lost_percent is None


def test_without_a_peak_claim_the_highest_current_figure_is_the_peak() -> None:
    # Given Syrskyi's late-August figure, when the peak claim is retracted,
    events = [*demo_events(), syrskyi_late_august()]
    events.append(retract(events, PEAK_HOLDING))

    row = holdings(events)[KURSK]

    # then the largest figure on record stands for the peak, and says so.
    assert row.peak is not None
    assert row.peak_basis is PeakBasis.HIGHEST_CURRENT
    assert row.peak.area == about(1294, Unit.KM2)
    assert row.computed_share_lost_percent == 38.2


def test_retracting_every_claim_removes_the_row() -> None:
    events = demo_events()
    events.append(retract(events, CURRENT_HOLDING))
    events.append(retract(events, PEAK_HOLDING))

    assert holdings(events) == {}


def test_corroboration_then_dispute_changes_the_verification_shown() -> None:
    # Given the demo, when analysts corroborate the 800 km² figure,
    events = demo_events()
    events.append(
        corroborate(report_after(events, CURRENT_HOLDING), by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
    )
    corroborated = holdings(events)[KURSK]
    corroborated_points = points(series(events))
    # and then Moscow disputes it,
    events.append(
        dispute(
            report_after(events, CURRENT_HOLDING),
            by=RUSSIAN_DEFENCE_MINISTRY,
            reason="says Ukrainian forces hold far less of the region",
        )
    )
    disputed = holdings(events)[KURSK]
    disputed_points = points(series(events))

    # then the figure and its point show each state in turn, and the figure still counts.
    assert corroborated.current is not None
    assert corroborated.current.verification is Verification.CORROBORATED
    assert corroborated_points[-1].report_id == CURRENT_HOLDING
    assert corroborated_points[-1].verification is Verification.CORROBORATED
    assert disputed.current is not None
    assert disputed.current.verification is Verification.DISPUTED
    assert disputed.current.area == about(800, Unit.KM2)
    assert disputed_points[-1].verification is Verification.DISPUTED
    assert disputed.peak is not None
    assert disputed.peak.verification is Verification.UNVERIFIED


def test_the_same_events_render_the_same_bytes() -> None:
    first = holdings([*demo_events(), syrskyi_late_august()])
    second = holdings([*demo_events(), syrskyi_late_august()])

    assert msgspec.json.encode(first) == msgspec.json.encode(second)


def test_as_of_early_september_shows_the_peak_era_not_the_800_km2() -> None:
    as_of = datetime(2024, 9, 1, tzinfo=UTC)

    row = holdings(demo_events(), as_of=as_of)[KURSK]

    assert row.current is None
    assert row.peak is not None
    assert row.peak.area == about(1376, Unit.KM2)
    history = series(demo_events(), as_of=as_of)
    assert list(history) == [KURSK_AUGUST]
    assert [p.area.value for p in points(history)] == [1376]


def test_as_of_early_september_the_current_figure_is_the_one_given_then() -> None:
    as_of = datetime(2024, 9, 1, tzinfo=UTC)

    row = holdings([*demo_events(), syrskyi_late_august()], as_of=as_of)[KURSK]

    assert row.current is not None
    assert row.current.area == about(1294, Unit.KM2)
    assert row.computed_share_lost_percent == 6.0
    assert holdings(demo_events(), as_of=datetime(2024, 7, 1, tzinfo=UTC)) == {}


def test_claims_about_two_days_make_two_series_rows_and_one_summary_row() -> None:
    # Given a mid-October figure, and Syrskyi's late-August one recorded after it,
    mid_october = file_report(
        claim=kursk_held(about(1000, Unit.KM2)),
        attribution=SYRSKYI_VIA_REUTERS,
        occurred=Day(on=date(2024, 10, 15)),
        reported=Day(on=date(2024, 10, 15)),
        report_id=SYRSKYI_MID_OCTOBER,
    )
    events = [mid_october, syrskyi_late_august()]

    history = series(events)
    summary = holdings(events)

    # then each claim lands in the row of the day it speaks of, named by that day,
    assert list(history) == [KURSK_LATE_AUGUST, KURSK_OCTOBER]
    assert [row.day for row in history.values()] == ["2024-08-27", "2024-10-15"]
    assert [[p.report_id for p in row.points] for row in history.values()] == [
        [SYRSKYI_LATE_AUGUST],
        [SYRSKYI_MID_OCTOBER],
    ]
    assert all(
        (row.region, row.country, row.actor) == ("Kursk Oblast", "RU", "Ukraine")
        for row in history.values()
    )
    # while the summary stays one row, showing the latest claim by occurrence, not the
    # last one recorded.
    assert list(summary) == [KURSK]
    current = summary[KURSK].current
    assert current is not None
    assert current.source.report_id == SYRSKYI_MID_OCTOBER
    assert current.area == about(1000, Unit.KM2)
