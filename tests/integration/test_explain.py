"""Explaining a figure from the stored log: given the seed article recorded, then the 800 km²
corrected and the peak claim withdrawn, when an auditor asks where the Kursk holding comes
from, then the explanation names the reports and the log positions that made it, as known
now or at any earlier point of the log.
"""

from __future__ import annotations

import asyncpg
import pytest

from application.commands import CorrectReport, RetractReport
from application.reports import ReportService
from domain.attribution import Verification
from domain.claims import TerritoryControl
from domain.quantities import Unit, about
from projections import replay as replay_module
from projections.explain import explain
from projections.explain_keys import UnknownRow
from projections.explanation import Contribution, RowExplanation, encode_explanation, explain_log
from projections.registry import VIEWS
from projections.replay import InvalidReplayQuestion
from seed.demo import load_demo
from seed.kursk_article import demo_report_id
from store.event_store import EventStore

KURSK = "kursk-oblast/ukraine"
CURRENT_HOLDING = demo_report_id("kursk-current-holding")
PEAK_HOLDING = demo_report_id("kursk-peak-holding")


async def _record_the_demo_then_correct_and_retract(store: EventStore) -> tuple[int, int, int]:
    """Returns the last demo position, the correction's and the retraction's."""
    service = ReportService(store)
    await load_demo(service)
    demo_head = await store.position()
    corrected = await service.apply(
        CURRENT_HOLDING,
        CorrectReport(
            claim=TerritoryControl(
                actor="Ukraine", region="Kursk Oblast", country="RU", area=about(700, Unit.KM2)
            ),
            reason="the source revised the figure",
        ),
    )
    retracted = await service.apply(
        PEAK_HOLDING, RetractReport(reason="the source withdrew the figure")
    )
    return demo_head, corrected.last_position, retracted.last_position


def _reports(row: RowExplanation) -> dict[str, Contribution]:
    return {
        "current": next(r for r in row.reports if r.report_id == CURRENT_HOLDING),
        "peak": next(r for r in row.reports if r.report_id == PEAK_HOLDING),
    }


async def test_the_kursk_holding_names_its_correction_and_the_withdrawn_peak(
    store: EventStore,
) -> None:
    demo_head, correction, retraction = await _record_the_demo_then_correct_and_retract(store)

    now = await explain(store, "holdings", "kursk")
    then = await explain(store, "holdings", "kursk", position=demo_head)

    # Now: the corrected 700 km² is current, corrected at its position; the peak is withdrawn
    assert now.position == retraction
    (row,) = now.rows
    assert row.key == KURSK
    assert (row.figures[0].field, row.figures[0].text) == ("current", "about 700 km2")
    reports = _reports(row)
    assert (reports["current"].role, reports["current"].corrections) == ("current", 1)
    assert [(c.type, c.position) for c in reports["current"].changes] == [
        ("report-corrected", correction)
    ]
    assert reports["current"].last_changed_at_position == correction
    assert (reports["peak"].role, reports["peak"].verification) == (
        "retracted",
        Verification.RETRACTED,
    )
    assert [(c.type, c.position) for c in reports["peak"].changes] == [
        ("report-retracted", retraction)
    ]
    # Then, at the end of the demo: the 800 km² current, superseding the peak claim
    (row_then,) = then.rows
    reports_then = _reports(row_then)
    assert row_then.figures[0].text == "about 800 km2"
    assert (reports_then["current"].role, reports_then["current"].changes) == ("current", ())
    assert reports_then["peak"].superseded_by == CURRENT_HOLDING


async def test_the_stored_log_read_in_pages_explains_as_the_pure_fold_does(
    store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given pages of three events, so changes are noted across page boundaries
    await _record_the_demo_then_correct_and_retract(store)
    head = await store.position()
    log = await store.read_log_through(head, limit=head)
    monkeypatch.setattr(replay_module, "READ_PAGE", 3)

    for name in VIEWS:
        stored = await explain(pool, name)

        assert encode_explanation(stored) == encode_explanation(explain_log(name, log)), name


async def test_questions_that_cannot_be_answered_are_refused(store: EventStore) -> None:
    await _record_the_demo_then_correct_and_retract(store)
    head = await store.position()

    with pytest.raises(UnknownRow, match="no row of holdings matches 'donetsk'"):
        await explain(store, "holdings", "donetsk")
    with pytest.raises(InvalidReplayQuestion, match=rf"position {head + 1} is beyond the head"):
        await explain(store, "holdings", position=head + 1)
