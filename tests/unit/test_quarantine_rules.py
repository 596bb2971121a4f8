"""What a view skips, by the fold's own rule (projections/core.py), without a database: the
same whether one view is folded alone or several together, as a rebuild folds them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

import msgspec

from domain.claims import Claim, TerritoryControl
from domain.events import ReportCorrected, ReportRetracted
from domain.recorded import LogEntry, UnreadableEvent
from domain.report import Report
from projections.core import View, fold, render_all
from projections.folds import Folds
from projections.registry import VIEWS
from projections.tracked import Tracked
from projections.views.holdings import HoldingsView
from projections.views.timeline import TimelineView
from tests.projection_support import demo_events, recorded
from tests.seed_values import filed, kursk_at_peak, kursk_held_now


def _kursk_corrected_to_nul_then_retracted() -> list[LogEntry]:
    """The demo, a filing no code can decode, then 800 km² of Kursk Oblast corrected to
    "Kursk\\0Oblast" (holdings cannot key it, the timeline can show it) and retracted, and
    the 1,376 km² peak after it."""
    kursk = filed(kursk_held_now())
    assert isinstance(kursk.claim, TerritoryControl)
    nul_claim = msgspec.structs.replace(kursk.claim, region="Kursk\x00Oblast")
    demo = recorded(demo_events())
    unreadable = UnreadableEvent(len(demo) + 1, demo[-1].recorded_at, "report-filed", "bad")
    story = recorded(
        [
            kursk,
            ReportCorrected(
                originator_id=kursk.originator_id,
                originator_version=2,
                claim=nul_claim,
                reason="typo",
            ),
            ReportRetracted(
                originator_id=kursk.originator_id, originator_version=3, reason="unconfirmed"
            ),
            filed(kursk_at_peak()),
        ],
        first_position=len(demo) + 2,
    )
    return [*demo, unreadable, *story]


def test_a_skipped_correction_leaves_the_report_as_it_stood_for_that_view_only() -> None:
    log = _kursk_corrected_to_nul_then_retracted()
    correction_at = log[-3].position

    holdings, _ = fold(HoldingsView(), log)
    timeline, _ = fold(TimelineView(), log)

    unreadable, skipped = holdings.quarantined
    assert unreadable.report_id is None
    assert skipped.position == correction_at
    assert "NUL" in skipped.error
    kursk_id = log[-4].event.originator_id  # type: ignore[union-attr]
    # holdings kept the report under its old region, and took its retraction
    assert holdings.reports[kursk_id].report.is_retracted
    assert holdings.reports[kursk_id].report.corrections == 0
    # the timeline took both
    assert [q.position for q in timeline.quarantined] == [unreadable.position]
    assert timeline.reports[kursk_id].report.corrections == 1


def test_views_folded_together_skip_exactly_what_each_skips_alone() -> None:
    log = _kursk_corrected_to_nul_then_retracted()

    folds = Folds(list(VIEWS.values()))
    folds.feed(log)

    for view, together in zip(folds.views, folds.states, strict=True):
        alone, _ = fold(view, log)
        assert render_all(view, together) == render_all(view, alone), view.name
        assert together.take_quarantined() == alone.take_quarantined(), view.name


class Figure(msgspec.Struct, frozen=True):
    areas: list[float]


class AreasByActor:
    """A view whose row cannot be drawn with a claim of more than 10,000 km²."""

    name: ClassVar[str] = "test-areas"

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, TerritoryControl)

    def keys(self, report: Report) -> tuple[str, ...]:
        return ("all",)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> Figure:
        areas = []
        for tracked in reports:
            claim = tracked.report.claim
            assert isinstance(claim, TerritoryControl)
            assert claim.area is not None
            area = claim.area.value
            assert area is not None
            if area > 10_000:
                raise OverflowError("more than the whole oblast")
            areas.append(area)
        return Figure(areas)


def test_a_row_leaves_out_the_report_it_cannot_be_drawn_with_and_shows_the_rest() -> None:
    huge = filed(kursk_held_now())
    assert isinstance(huge.claim, TerritoryControl)
    assert huge.claim.area is not None
    huge = msgspec.structs.replace(
        huge,
        claim=msgspec.structs.replace(
            huge.claim, area=msgspec.structs.replace(huge.claim.area, value=1e9)
        ),
    )
    log = recorded([filed(kursk_at_peak()), huge, filed(kursk_held_now())])
    view: View = AreasByActor()

    state, _ = fold(view, log)
    rows = render_all(view, state)

    assert rows == {"all": Figure([1376.0, 800.0])}
    (left_out,) = state.take_quarantined()
    assert (left_out.position, left_out.key) == (2, "all")
    assert left_out.error.startswith("OverflowError")
