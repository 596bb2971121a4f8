"""Every view the service keeps, by name."""

from __future__ import annotations

import msgspec

from projections.core import View
from projections.views.damage import DamageRow, DamageView
from projections.views.forces import ForcesHistory, ForcesHistoryView, ForcesRow, ForcesView
from projections.views.front import FrontRow, FrontSeries, FrontSeriesView, FrontView
from projections.views.holdings import Holding, HoldingSeries, HoldingsSeriesView, HoldingsView
from projections.views.incidents import IncidentsRow, IncidentsView
from projections.views.strikes import StrikeRow, StrikesView
from projections.views.tallies import TalliesSeriesView, TalliesView, TallyRow, TallySeries
from projections.views.timeline import TimelineRow, TimelineView

VIEWS: dict[str, View] = {
    view.name: view
    for view in (
        HoldingsView(),
        DamageView(),
        ForcesView(),
        FrontView(),
        StrikesView(),
        TimelineView(),
        # The aggregate views' histories, one row per key and day.
        HoldingsSeriesView(),
        ForcesHistoryView(),
        FrontSeriesView(),
        # Incidents added up per region, actor, kind, source and month.
        IncidentsView(),
        # Each source's tallies of losses, and their history by month.
        TalliesView(),
        TalliesSeriesView(),
    )
}

# The type of each view's rows, to read them back from `view_rows`.
ROW_TYPES: dict[str, type[msgspec.Struct]] = {
    "holdings": Holding,
    "damage": DamageRow,
    "forces": ForcesRow,
    "front": FrontRow,
    "strikes": StrikeRow,
    "timeline": TimelineRow,
    "holdings-series": HoldingSeries,
    "forces-history": ForcesHistory,
    "front-series": FrontSeries,
    "incidents": IncidentsRow,
    "tallies": TallyRow,
    "tallies-series": TallySeries,
}
