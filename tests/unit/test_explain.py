"""Explaining a figure: given the seed article's reports as the log recorded them, and later
corrections and retractions, when a reader asks where a view's figure came from, then the
explanation names the reports behind it, their log positions, who said them and who relayed
them, and what superseded, corrected or withdrew them.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec
import pytest

from application.reports import decide_filing
from domain.attribution import Side, Verification
from domain.claims import DamageTally
from domain.events import DomainEvent
from domain.occurrence import Day, Interval, Month
from domain.quantities import Unit, exactly
from domain.report import Report, correct, file_report, project_report
from domain.report import retract as retract_report
from projections.core import fold
from projections.explain_keys import Page, UnknownRow, page_keys
from projections.explanation import (
    Contribution,
    Explanation,
    ReportRole,
    RowExplanation,
    encode_explanation,
    explain_log,
    explain_rows,
)
from projections.registry import VIEWS
from projections.replay import InvalidReplayQuestion, valid_time
from projections.views.holdings import HoldingsView
from seed.kursk_article import demo_report_id
from tests.projection_support import demo_events, recorded
from tests.seed_values import (
    PRESIDENT_ZELENSKIY,
    general_staff_personnel,
    general_staff_tanks,
    tanks_lost_on_the_day,
)

KURSK = "kursk-oblast/ukraine"
PORTS = "ua/port-infrastructure-facilities/russia"
CURRENT_HOLDING = demo_report_id("kursk-current-holding")
PEAK_HOLDING = demo_report_id("kursk-peak-holding")
PORT_TALLY = demo_report_id("port-facilities-damaged")
DEMO_LENGTH = len(demo_events())
# Fixed, so that two explanations of "the same events" really are of the same events.
OCTOBER_TALLY = UUID("5e7c2b90-3d4a-4f16-8e2b-9a0c1d7f6b35")


def position_filed(report_id: UUID) -> int:
    """Where `timeline demo` records the filing of a demo report."""
    return next(
        position
        for position, event in enumerate(demo_events(), start=1)
        if event.originator_id == report_id
    )


def report_after(events: list[DomainEvent], report_id: UUID) -> Report:
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def only_row(explanation: Explanation) -> RowExplanation:
    (row,) = explanation.rows
    return row


def by_id(row: RowExplanation) -> dict[UUID, Contribution]:
    return {report.report_id: report for report in row.reports}


def test_kursk_800_km2_comes_from_the_general_staff_source_via_reuters_over_the_peak() -> None:
    # Given the seed article as `timeline demo` records it
    # When a reader asks where the Kursk holding comes from, typing only "kursk"
    row = only_row(explain_log("holdings", recorded(demo_events()), "kursk"))

    # Then the row's current figure is the 800 km² claim
    assert row.key == KURSK
    figures = {figure.field: figure for figure in row.figures}
    assert figures["current"].text == "about 800 km2"
    assert figures["current"].report_ids == (CURRENT_HOLDING,)
    assert figures["peak"].text == "about 1,376 km2"
    assert figures["computed_share_lost_percent"].report_ids == (PEAK_HOLDING, CURRENT_HOLDING)
    # told by the General Staff source, relayed by Reuters, unverified, at its log position
    reports = by_id(row)
    current = reports[CURRENT_HOLDING]
    assert current.role is ReportRole.CURRENT
    assert (current.source, current.outlet, current.side) == (
        "Ukrainian General Staff source",
        "Reuters",
        Side.UKRAINE,
    )
    assert current.verification is Verification.UNVERIFIED
    assert current.filed_at_position == position_filed(CURRENT_HOLDING)
    assert (current.corrections, current.retracted, current.changes) == (0, False, ())
    assert current.summary == "Ukraine holds about 800 km2 of Kursk Oblast"
    # and it supersedes the 1,376 km² peak claim, which the row still shows as its peak
    peak = reports[PEAK_HOLDING]
    assert peak.role is ReportRole.SUPERSEDED
    assert peak.superseded_by == CURRENT_HOLDING
    assert peak.shown_as == ("peak", "computed_share_lost_percent")
    assert peak.summary == "Ukraine holds about 1,376 km2 of Kursk Oblast at peak"
    assert peak.filed_at_position == position_filed(PEAK_HOLDING)


def test_once_the_800_claim_is_retracted_the_peak_claim_is_current_again() -> None:
    # Given the demo, then the 800 km² claim withdrawn
    events = demo_events()
    withdrawn = retract_report(
        report_after(events, CURRENT_HOLDING), reason="the source withdrew the figure"
    )
    log = recorded([*events, withdrawn])

    row = only_row(explain_log("holdings", log, KURSK))

    # Then the withdrawn claim is shown retracted, at the position of its retraction
    reports = by_id(row)
    retracted = reports[CURRENT_HOLDING]
    assert (retracted.role, retracted.retracted) == (ReportRole.RETRACTED, True)
    assert retracted.verification is Verification.RETRACTED
    assert retracted.shown_as == ()
    (change,) = retracted.changes
    assert (change.type, change.position) == ("report-retracted", DEMO_LENGTH + 1)
    assert change.summary == "retracted: the source withdrew the figure"
    assert retracted.last_changed_at_position == DEMO_LENGTH + 1
    # and the earlier claim leads the row: nobody gives a current figure any more
    assert reports[PEAK_HOLDING].role is ReportRole.CURRENT
    assert [figure.field for figure in row.figures] == ["peak"]
    # Known before the retraction, the 800 km² was still the current figure
    before = only_row(explain_log("holdings", log, KURSK, position=DEMO_LENGTH))
    assert by_id(before)[CURRENT_HOLDING].role is ReportRole.CURRENT


def test_when_every_claim_is_withdrawn_the_explanation_still_says_why_the_row_went() -> None:
    events = demo_events()
    withdrawals = [
        retract_report(report_after(events, report_id), reason="the source withdrew the figure")
        for report_id in (PEAK_HOLDING, CURRENT_HOLDING)
    ]

    row = only_row(explain_log("holdings", recorded([*events, *withdrawals]), "kursk"))

    assert (row.shown, row.figures) == (False, ())
    assert {report.role for report in row.reports} == {ReportRole.RETRACTED}


def port_tally(count: float, since: Month, stated: Day, report_id: UUID) -> DomainEvent:
    return file_report(
        claim=DamageTally(
            category="port infrastructure facilities",
            count=exactly(count, Unit.FACILITIES),
            responsible="Russia",
            country="UA",
        ),
        attribution=PRESIDENT_ZELENSKIY,
        occurred=Interval(start=since),
        reported=stated,
        report_id=report_id,
    )


def test_a_corrected_running_total_shows_its_correction_and_the_tally_it_replaced() -> None:
    # Given the demo's 321 port facilities (since July 2023, said 23 November), an earlier
    # 310 (since September 2023, said 1 October), and then the 321 corrected to 330
    events = demo_events()
    october = port_tally(310, Month(year=2023, month=9), Day(on=date(2024, 10, 1)), OCTOBER_TALLY)
    correction = correct(
        report_after(events, PORT_TALLY),
        claim=DamageTally(
            category="port infrastructure facilities",
            count=exactly(330, Unit.FACILITIES),
            responsible="Russia",
            country="UA",
            cause="Russian drone and missile attacks",
        ),
        reason="the president's office revised the count",
    )

    row = only_row(explain_log("damage", recorded([*events, october, correction]), "port"))

    # Then the figure is the corrected total, from the corrected report
    assert row.key == PORTS
    (total,) = row.figures
    assert (total.text, total.report_ids) == ("330 facilities", (PORT_TALLY,))
    reports = by_id(row)
    corrected = reports[PORT_TALLY]
    assert (corrected.role, corrected.corrections) == (ReportRole.CURRENT, 1)
    (change,) = corrected.changes
    assert (change.type, change.position) == ("report-corrected", DEMO_LENGTH + 2)
    assert "330 facilities" in change.summary
    assert corrected.summary.startswith("330 facilities")
    # and the October tally, though its count began later, is the older total it replaced
    assert reports[OCTOBER_TALLY].role is ReportRole.SUPERSEDED
    assert reports[OCTOBER_TALLY].superseded_by == PORT_TALLY


def test_a_total_not_yet_known_on_the_date_asked_is_not_counted() -> None:
    october = port_tally(310, Month(year=2023, month=9), Day(on=date(2024, 10, 1)), OCTOBER_TALLY)

    row = only_row(
        explain_log("damage", recorded([*demo_events(), october]), PORTS, as_of=date(2024, 10, 15))
    )

    reports = by_id(row)
    assert reports[OCTOBER_TALLY].role is ReportRole.CURRENT
    assert reports[PORT_TALLY].role is ReportRole.NOT_COUNTED  # counted up to 23 November


def test_every_figure_of_every_view_names_reports_of_its_row() -> None:
    # The article counts no losses: the General Staff's tallies give the tallies their rows.
    losses = [
        general_staff_tanks(3_799, date(2023, 5, 27)),
        general_staff_tanks(3_797, date(2023, 5, 28)),
        tanks_lost_on_the_day(12, date(2023, 5, 28)),
        general_staff_personnel(729_720, date(2024, 11, 23)),
    ]
    events = [*demo_events(), *map(decide_filing, losses)]
    for name in VIEWS:
        explanation = explain_log(name, recorded(events))

        assert explanation.rows, name
        for row in explanation.rows:
            roles = {report.report_id: report.role for report in row.reports}
            assert row.shown, (name, row.key)
            assert row.figures, (name, row.key)
            for figure in row.figures:
                for report_id in figure.report_ids:
                    assert roles[report_id] in {
                        ReportRole.CURRENT,
                        ReportRole.SUPERSEDED,
                        ReportRole.SHOWN,
                    }


def test_the_pure_function_explains_a_fold_state() -> None:
    state, _ = fold(HoldingsView(), recorded(demo_events()))

    (row,) = explain_rows(HoldingsView(), state, "Kursk Oblast/Ukraine")

    assert row.key == KURSK
    assert by_id(row)[CURRENT_HOLDING].changes == ()  # no changes given: none listed


@pytest.mark.parametrize("as_of", [None, date(2024, 9, 1)])
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_pages_of_keys_are_the_explained_rows_in_order_each_once(
    as_of: date | None, limit: int
) -> None:
    for name, view in VIEWS.items():
        state, _ = fold(view, recorded(demo_events()))
        when = valid_time(as_of)
        for asked in (None, "russia") if name == "forces" else (None,):
            whole = [row.key for row in explain_rows(view, state, asked, as_of=when)]
            paged: list[str] = []
            after = None
            while True:
                keys, more = page_keys(
                    view, state, asked, Page(limit=limit, after=after), as_of=when
                )
                assert len(keys) <= limit
                paged += keys
                if not more:
                    break
                after = keys[-1]
            assert paged == whole, (name, as_of, asked)


@pytest.mark.parametrize(
    ("view", "asked", "keys"),
    [
        ("holdings", "kursk-oblast/ukraine", [KURSK]),
        ("holdings", "Kursk Oblast / Ukraine", [KURSK]),
        ("holdings", "kursk/ukr", [KURSK]),
        ("holdings", "ukraine", [KURSK]),
        ("forces", "kursk", ["north-korea/kursk-oblast", "russia/kursk-oblast"]),
        ("damage", "ua/port", [PORTS]),
        ("timeline", str(CURRENT_HOLDING)[:8], [str(CURRENT_HOLDING)]),
    ],
)
def test_a_key_picks_rows_as_a_reader_types_it(view: str, asked: str, keys: list[str]) -> None:
    explanation = explain_log(view, recorded(demo_events()), asked)

    assert [row.key for row in explanation.rows] == keys
    assert explanation.key == asked


def test_a_key_that_picks_nothing_names_the_nearest_keys() -> None:
    with pytest.raises(UnknownRow) as misspelt:
        explain_log("holdings", recorded(demo_events()), "kurks")
    with pytest.raises(UnknownRow) as unrelated:
        explain_log("front", recorded(demo_events()), "bakhmut")
    with pytest.raises(UnknownRow) as empty:
        explain_log("holdings", recorded(demo_events()), "kursk", position=0)

    assert str(misspelt.value) == (
        "no row of holdings matches 'kurks'; did you mean kursk-oblast/ukraine?"
    )
    assert str(unrelated.value) == "no row of front matches 'bakhmut'; its keys: kurakhove/russia"
    assert str(empty.value) == "holdings has no rows to explain"
    # an unknown row is an unanswerable question, as a caller maps it
    assert isinstance(misspelt.value, InvalidReplayQuestion)


def test_an_unknown_view_is_refused_as_a_replay_is() -> None:
    with pytest.raises(InvalidReplayQuestion, match="no view is named 'territory'"):
        explain_log("territory", recorded(demo_events()))


def test_the_same_question_gives_the_same_canonical_bytes() -> None:
    first = encode_explanation(explain_log("holdings", recorded(demo_events()), "kursk"))
    second = encode_explanation(explain_log("holdings", recorded(demo_events()), "kursk"))

    assert first == second
    decoded = msgspec.json.decode(first)
    assert list(decoded) == ["as_of", "key", "known_at", "position", "rows", "view"]
    assert decoded["position"] == DEMO_LENGTH
    report = decoded["rows"][0]["reports"][0]
    assert list(report) == sorted(report)
