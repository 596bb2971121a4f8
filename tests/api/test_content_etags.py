"""A view's ETag comes from its rows: a dashboard polling with If-None-Match downloads the
damage view again only when the damage changed, however far the log moved meanwhile."""

from __future__ import annotations

import msgspec

from application.commands import FileReport
from application.reports import ReportService
from domain.claims import DamageTally, TerritoryControl
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.event_store import EventStore
from tests.api.conftest import Client


def _demo_filing(kind: type[TerritoryControl | DamageTally]) -> FileReport:
    return next(demo.filing for demo in demo_reports() if isinstance(demo.filing.claim, kind))


def _belgorod_holding() -> FileReport:
    """A territory claim about Belgorod Oblast: it changes the holdings, not the damage."""
    filing = _demo_filing(TerritoryControl)
    claim = msgspec.structs.replace(filing.claim, region="Belgorod Oblast")
    return msgspec.structs.replace(filing, claim=claim, report_id=None)


def _more_port_damage() -> FileReport:
    """The demo's damage tally, 321 port facilities, raised to 322: it changes the damage."""
    filing = _demo_filing(DamageTally)
    assert isinstance(filing.claim, DamageTally)
    assert filing.claim.count.value == 321
    count = msgspec.structs.replace(filing.claim.count, value=322)
    claim = msgspec.structs.replace(filing.claim, count=count)
    return msgspec.structs.replace(filing, claim=claim, report_id=None)


async def test_the_damage_etag_moves_only_when_the_damage_does(
    client: Client, store: EventStore
) -> None:
    service = ReportService(store)
    await load_demo(service)
    before = await client.get("/v1/damage", params={"min_position": await store.position()})
    assert before.status_code == 200
    etag = before.headers["etag"]

    holding = await service.file(_belgorod_holding())
    unchanged = await client.get("/v1/damage", params={"min_position": holding.last_position})
    assert int(unchanged.headers["x-timeline-position"]) > int(
        before.headers["x-timeline-position"]
    )
    assert unchanged.headers["etag"] == etag
    polled = await client.get("/v1/damage", headers={"If-None-Match": etag})
    assert polled.status_code == 304
    assert polled.headers["x-timeline-position"] == unchanged.headers["x-timeline-position"]

    damage = await service.file(_more_port_damage())
    changed = await client.get("/v1/damage", params={"min_position": damage.last_position})
    assert changed.headers["etag"] != etag
    assert (await client.get("/v1/damage", headers={"If-None-Match": etag})).status_code == 200
