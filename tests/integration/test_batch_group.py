"""The runners of one process take their batches together (projections/batch_group.py):
one read and one transaction for the views standing at the same position, and the rows each
view would have written alone; one view's failure stays its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

import asyncpg
import msgspec

from application.reports import ReportService
from bench._generated_war import load_log
from projections import quarantine
from projections.batch_group import BatchGroup
from projections.core import View, fold, render_all
from projections.registry import VIEWS
from projections.row_stores import Generation, read_rows, row_store
from projections.tracked import Tracked
from projections.views.holdings import Holding, HoldingsView
from seed.demo import load_demo
from store.event_store import EventStore
from tests.following import follow_to_head


async def _followed_in_a_group(
    views: Sequence[View], pool: asyncpg.Pool, database_url: str
) -> BatchGroup:
    group = BatchGroup(pool)
    await follow_to_head(views, pool, database_url, group=group)
    return group


async def _folded_rows(view: View, store: EventStore) -> dict[str, str]:
    state, _ = fold(view, await store.read_log(limit=100_000))
    return {
        key: row_store(view.name).document(row).decode()
        for key, row in render_all(view, state).items()
    }


async def test_the_runners_of_a_process_write_their_batches_together_as_each_would_alone(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given a generated war of 3,000 events, and a runner per view in one process
    await load_log(database_url, events=3_000)

    # When they follow it in batches of 97
    group = await _followed_in_a_group(list(VIEWS.values()), pool, database_url)

    # Then most of their batches went in rounds of several views, one transaction each
    # (a view that starts late, or stands at another position, goes alone)
    assert group.together > group.alone
    # and every view's rows are the fold's
    for view in VIEWS.values():
        assert dict(await read_rows(pool, view.name)) == await _folded_rows(view, store), view.name


class RefusedHoldings(HoldingsView):
    """Holdings whose Kursk row holds a lone surrogate, which no JSON encoder writes: the
    database write of that row fails, as a row PostgreSQL refuses would."""

    name: ClassVar[str] = "holdings-refused"

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> Holding | None:
        row = super().render(key, reports, as_of)
        if row is None or not key.startswith("kursk-oblast"):
            return row
        return msgspec.structs.replace(row, region=row.region + "\ud800")


async def test_a_view_whose_write_fails_does_not_hold_back_the_others_in_its_round(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the seed article, and in one process holdings and a view whose Kursk row
    # cannot be written
    await load_demo(ReportService(store))
    refused = RefusedHoldings()

    # When their runners take the log in one round
    group = await _followed_in_a_group([HoldingsView(), refused], pool, database_url)

    # (each reached the head: `follow_to_head`)
    # Then the round was written view by view: holdings has every row of the fold,
    assert group.alone >= 2
    holdings = VIEWS["holdings"]
    assert dict(await read_rows(pool, holdings.name)) == await _folded_rows(holdings, store)
    # and the other view reached the head without its Kursk row (the seed's only holding),
    # which is quarantined
    assert dict(await read_rows(pool, refused.name)) == {}
    (entry,) = await quarantine.listed(pool, refused.name)
    assert (entry.key or "").startswith("kursk-oblast")


async def test_a_group_whose_database_is_gone_tells_each_runner_instead_of_leaving_it_waiting(
    database_url: str,
) -> None:
    # Given two views in a group whose pool has been closed (the database out of reach)
    gone = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    await gone.close()
    group = BatchGroup(gone)
    views = [VIEWS["holdings"], VIEWS["timeline"]]
    start = Generation("holdings", 1, 0)

    # When both ask for their next batch together
    with group.joined(views[0]), group.joined(views[1]):
        answers = await asyncio.wait_for(
            asyncio.gather(
                *(group.step(view, start, 97) for view in views), return_exceptions=True
            ),
            timeout=10,
        )

    # Then each hears the error (none was written with the others)
    assert all(isinstance(answer, asyncpg.InterfaceError) for answer in answers), answers
    assert (group.together, group.alone) == (0, 2)
