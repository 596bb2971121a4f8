"""Every view the service keeps, by name."""

from __future__ import annotations

from projections.core import View
from projections.damage import DamageView
from projections.forces import ForcesView
from projections.front import FrontView
from projections.holdings import HoldingsView
from projections.strikes import StrikesView
from projections.timeline import TimelineView

VIEWS: dict[str, View] = {
    view.name: view
    for view in (
        HoldingsView(),
        DamageView(),
        ForcesView(),
        FrontView(),
        StrikesView(),
        TimelineView(),
    )
}
