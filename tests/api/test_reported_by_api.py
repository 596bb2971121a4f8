"""`?reported_by=` over HTTP: every view, the timeline and the strikes answer what had been
published by a date, with the replay's bytes; a bad date or one asked with `explain` is a 400;
it counts as a fold of the log against the request rate."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import ApiSettings, LimitSettings
from application.reports import ReportService
from domain.occurrence import Day, Instant
from projections.registry import VIEWS
from projections.replay import encode_answer, replay
from seed.demo import load_demo
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Client, Keys
from tests.seed_values import berdiansk_strike, kursk_at_peak

_canonical = msgspec.json.Encoder(order="sorted")
ARTICLE_DAY = "2024-11-23"  # the seed article's reports were all published by then
EARLIER = "2024-11-15"  # by then: the counterattack of 11 November, and the two below


@pytest.fixture
def api_settings() -> ApiSettings:
    # Each such question counts for ten requests: more views than one key's burst.
    return ApiSettings(default_wait_seconds=3.0, limits=LimitSettings.unlimited())


async def _demo_and_earlier_reports(store: EventStore) -> int:
    """The demo, and two reports published before the article: the peak in Kursk (said on
    12 November) and a strike on Berdiansk's port (said on 14 November, the night before)."""
    service = ReportService(store)
    await load_demo(service)
    await service.file(
        msgspec.structs.replace(kursk_at_peak(), reported=Day(on=date(2024, 11, 12)))
    )
    strike = msgspec.structs.replace(
        berdiansk_strike(),
        occurred=Instant(at=datetime(2024, 11, 13, 20, 50, tzinfo=UTC)),
        reported=Day(on=date(2024, 11, 14)),
    )
    await service.file(strike)
    return await store.position()


async def test_every_view_answers_what_had_been_published_by_a_date_as_the_replay_does(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    head = await _demo_and_earlier_reports(store)
    asked = [(EARLIER, name) for name in VIEWS if name != "timeline"]
    for day, view in [*asked, (ARTICLE_DAY, "holdings")]:
        response = await client.get(
            f"/v1/{view}", params={"reported_by": day, "min_position": head, "limit": 1000}
        )
        assert response.status_code == 200, response.text
        page = msgspec.json.decode(response.content)
        page.pop("limit", None)
        page.pop("next_cursor", None)
        replayed = await replay(pool, view, reported_by=date.fromisoformat(day))
        assert _canonical.encode(page) == encode_answer(replayed), (view, day)
        assert page["reported_by"] == day


async def test_the_timeline_by_a_date_holds_only_what_was_out_by_then(
    client: Client, store: EventStore
) -> None:
    head = await _demo_and_earlier_reports(store)
    everything = await client.get("/v1/timeline", params={"min_position": head, "limit": 100})
    earlier = await client.get("/v1/timeline", params={"reported_by": EARLIER, "limit": 100})

    assert everything.status_code == earlier.status_code == 200
    reported = sorted(item["reported_on"][:10] for item in earlier.json()["items"])
    assert reported == ["2024-11-11", "2024-11-12", "2024-11-14"]
    assert len(everything.json()["items"]) == len(reported) + 13  # the article's own
    strikes = await client.get("/v1/strikes/by-date", params={"reported_by": EARLIER})
    assert strikes.status_code == 200
    assert [row["row"]["reported"]["on"] for row in strikes.json()["rows"]] == ["2024-11-14"]
    assert strikes.json()["reported_by"] == EARLIER
    # The history's points too: only the peak said on 12 November, and the question repeated
    points = await client.get("/v1/holdings-series/points", params={"reported_by": EARLIER})
    assert points.status_code == 200, points.text
    assert points.json()["reported_by"] == EARLIER
    assert [point["measure"] for point in points.json()["points"]] == ["peak"]
    assert "reported_by" not in (await client.get("/v1/holdings-series/points")).json()
    sources = await client.get("/v1/sources", params={"reported_by": EARLIER})
    assert sources.status_code == 200
    assert sources.json() != (await client.get("/v1/sources")).json()


async def test_a_bad_reported_by_or_one_asked_with_explain_is_a_400(client: Client) -> None:
    bad = await client.get("/v1/holdings", params={"reported_by": "23 November"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "reported_by"

    with_explain = await client.get(
        "/v1/holdings", params={"reported_by": ARTICLE_DAY, "explain": "true"}
    )
    assert with_explain.status_code == 400
    assert with_explain.json()["field"] == "explain, reported_by"


async def test_reported_by_counts_as_a_fold_of_the_log(
    pool: asyncpg.Pool, database_url: str, keys: Keys, store: EventStore
) -> None:
    # Given a key allowed a burst of ten requests and no refill while the test runs
    await load_demo(ReportService(store))
    limits = LimitSettings(requests_per_second=0.01, burst=10, refusal_delay_seconds=0.0)
    app = create_app(
        Database(url=database_url, embedded=False),
        settings=ApiSettings(default_wait_seconds=3.0, limits=limits),
    )
    reader = Keys.header(keys.reader)
    async with AsyncTestClient(app=app, timeout=30) as http:
        # When holdings are asked what had been published by a date (which folds the log,
        # where `as_of` on holdings is read from the versions)
        folded = await http.get("/v1/holdings", params={"reported_by": ARTICLE_DAY}, headers=reader)
        # Then that one request spends the burst
        assert folded.status_code == 200
        assert folded.headers["ratelimit"].split(";")[1] == "r=0"
