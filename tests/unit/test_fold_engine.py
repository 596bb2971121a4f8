"""The fold engine as a live runner drives it: events applied a few at a time, the touched
rows rendered after each batch, on one long-lived state.

The engine remembers, between batches, each key's reports in order and each report's
derived pieces (a series point, a deployment). These tests change a report after its row
was rendered — a later filing that sorts before it, a correction that moves its date or its
region, a corroboration, a retraction — and check that the next render equals a fresh fold
of the same events, where nothing was remembered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from domain.attribution import Attribution, Side
from domain.claims import TerritoryControl, TroopDeployment
from domain.events import DomainEvent
from domain.occurrence import Day
from domain.quantities import Unit, about
from domain.report import Report, correct, corroborate, evolve, file_report, retract
from projections.core import View, ViewState, apply, fold, render, render_all
from projections.views.forces import ForcesHistoryView, ForcesView
from projections.views.holdings import HoldingsSeriesView, HoldingsView
from tests.projection_support import recorded
from tests.seed_values import GENERAL_STAFF_VIA_REUTERS, INSTITUTE_FOR_THE_STUDY_OF_WAR

HOLDINGS = HoldingsView()
HOLDINGS_SERIES = HoldingsSeriesView()
KURSK = "kursk-oblast/ukraine"
BELGOROD = "belgorod-oblast/ukraine"


def held(
    area: float, day: int, *, reported_day: int | None = None, region: str = "Kursk Oblast"
) -> DomainEvent:
    return file_report(
        claim=TerritoryControl(
            actor="Ukraine", region=region, country="RU", area=about(area, Unit.KM2)
        ),
        attribution=GENERAL_STAFF_VIA_REUTERS,
        occurred=Day(on=date(2024, 8, day)),
        reported=Day(on=date(2024, 8, reported_day or day)),
    )


class Runner:
    """Per view, one state, events applied in batches, touched rows rendered after each:
    the runners' loop without the database. Rows by (view, key)."""

    def __init__(self, *views: View) -> None:
        self.views = {view.name: (view, ViewState()) for view in views}
        self.rows: dict[tuple[str, str], bytes] = {}
        self.events: list[DomainEvent] = []
        self.reports: dict[object, Report] = {}

    def batch(self, *events: DomainEvent) -> None:
        log = recorded([*self.events, *events])[len(self.events) :]
        self.events.extend(events)
        for entry in log:
            self.reports[entry.event.originator_id] = evolve(
                self.reports.get(entry.event.originator_id),
                entry.event,  # type: ignore[arg-type]
            )
        for name, (view, state) in self.views.items():
            touched: dict[str, None] = {}
            for entry in log:
                touched.update(dict.fromkeys(apply(view, state, entry)))
            for key in touched:
                row = render(view, state, key)
                if row is None:
                    self.rows.pop((name, key), None)
                else:
                    self.rows[name, key] = msgspec.json.encode(row)

    def report(self, event: DomainEvent) -> Report:
        return self.reports[event.originator_id]

    def row(self, view: str, key: str) -> Any:
        return msgspec.json.decode(self.rows[view, key])

    def fresh(self) -> dict[tuple[str, str], bytes]:
        """Every row from a fold of the same events, in states that remember nothing."""
        rows = {}
        for name, (view, _) in self.views.items():
            state, _ = fold(view, recorded(self.events))
            for key, row in render_all(view, state).items():
                rows[name, key] = msgspec.json.encode(row)
        return rows


def series_points(runner: Runner, holding: str) -> list[dict[str, Any]]:
    """The holding's whole series, day rows in key order."""
    days = sorted(
        key
        for view, key in runner.rows
        if view == "holdings-series" and key.startswith(holding + "/")
    )
    return [point for day in days for point in runner.row("holdings-series", day)["points"]]


def series_areas(runner: Runner, holding: str) -> list[float | None]:
    """The areas of the holding's whole series."""
    return [point["area"]["value"] for point in series_points(runner, holding)]


def test_a_later_filing_that_happened_earlier_takes_its_place_in_the_remembered_order() -> None:
    runner = Runner(HOLDINGS, HOLDINGS_SERIES)
    runner.batch(held(1000, 10), held(1200, 20))
    runner.batch(held(1100, 15))  # recorded last, happened in between

    assert series_areas(runner, KURSK) == [1000, 1100, 1200]
    assert runner.rows == runner.fresh()


def test_a_correction_that_moves_a_date_reorders_the_row_and_changes_the_current_figure() -> None:
    runner = Runner(HOLDINGS, HOLDINGS_SERIES)
    early, late = held(1000, 10, reported_day=26), held(1200, 20)
    runner.batch(early, late)
    assert runner.row("holdings", KURSK)["current"]["area"]["value"] == 1200

    runner.batch(
        correct(
            runner.report(early),
            claim=runner.report(early).claim,
            occurred=Day(on=date(2024, 8, 25)),
            reason="the figure was for late August",
        )
    )

    assert series_areas(runner, KURSK) == [1200, 1000]
    assert runner.row("holdings", KURSK)["current"]["area"]["value"] == 1000
    assert runner.rows == runner.fresh()


def test_a_corroboration_reaches_the_series_point_made_before_it() -> None:
    runner = Runner(HOLDINGS, HOLDINGS_SERIES)
    filed = held(1000, 10)
    runner.batch(filed, held(1200, 20))
    runner.batch(corroborate(runner.report(filed), by=INSTITUTE_FOR_THE_STUDY_OF_WAR))

    points = series_points(runner, KURSK)
    assert [point["verification"] for point in points] == ["corroborated", "unverified"]
    assert runner.rows == runner.fresh()


def test_a_correction_that_moves_a_claim_to_another_region_leaves_the_first_row() -> None:
    runner = Runner(HOLDINGS, HOLDINGS_SERIES)
    moved = held(1000, 10)
    runner.batch(moved, held(1200, 20))
    wrong_region = runner.report(moved).claim
    assert isinstance(wrong_region, TerritoryControl)

    runner.batch(
        correct(
            runner.report(moved),
            claim=msgspec.structs.replace(wrong_region, region="Belgorod Oblast"),
            reason="the area is in Belgorod region",
        )
    )

    assert series_areas(runner, KURSK) == [1200]
    assert series_areas(runner, BELGOROD) == [1000]
    assert runner.rows == runner.fresh()


def test_a_retraction_after_a_render_drops_the_point_and_the_row_falls_back() -> None:
    runner = Runner(HOLDINGS, HOLDINGS_SERIES)
    first, second = held(1000, 10), held(1200, 20)
    runner.batch(first, second)
    runner.batch(retract(runner.report(second), reason="withdrawn"))

    assert series_areas(runner, KURSK) == [1000]
    assert runner.row("holdings", KURSK)["current"]["area"]["value"] == 1000
    assert runner.rows == runner.fresh()
    runner.batch(retract(runner.report(first), reason="withdrawn too"))
    assert ("holdings", KURSK) not in runner.rows
    assert [
        len(runner.row("holdings-series", f"{KURSK}/2024-08-{day}")["retracted"])
        for day in (10, 20)
    ] == [1, 1]
    assert runner.rows == runner.fresh()


def test_a_deployment_remembered_for_the_forces_row_shows_its_correction() -> None:
    runner = Runner(ForcesView(), ForcesHistoryView())
    deployed = file_report(
        claim=TroopDeployment(
            actor="North Korea",
            theatre="Kursk Oblast",
            country="RU",
            troops=about(11_000, Unit.TROOPS),
            in_support_of="Russia",
        ),
        attribution=Attribution(source="US State Department", side=Side.THIRD_PARTY),
        occurred=Day(on=date(2024, 11, 1)),
        reported=Day(on=date(2024, 11, 1)),
    )
    runner.batch(deployed)
    claim = runner.report(deployed).claim
    assert isinstance(claim, TroopDeployment)
    runner.batch(
        correct(
            runner.report(deployed),
            claim=msgspec.structs.replace(claim, troops=about(12_000, Unit.TROOPS)),
            reason="updated estimate",
        )
    )

    key = "north-korea/kursk-oblast"
    assert runner.row("forces", key)["deployment"]["troops"]["value"] == 12_000
    day = runner.row("forces-history", key + "/2024-11-01")
    assert [d["troops"]["value"] for d in day["deployments"]] == [12_000]
    assert [p["troops"]["value"] for p in day["points"]] == [12_000]
    assert runner.rows == runner.fresh()
