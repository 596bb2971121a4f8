"""GET /metrics: an operator's Prometheus scrapes the requests by route template, the appends,
the refusals and each view's lag, from the addresses the operator allows or with an admin
key, and nobody else."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from api.app import create_app
from api.settings import ApiSettings, LimitSettings, networks
from projections.registry import VIEWS
from store.database import Database
from tests.api.conftest import Keys
from tests.api.live_server import serving
from tests.api.test_writes_api import filing

PROBLEM = "application/problem+json"
# Three requests per key, then none for 100 s: the fourth is refused however slow the machine.
THREE_THEN_REFUSED = LimitSettings(requests_per_second=0.01, burst=3, refusal_delay_seconds=0)


def _scraped(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    (value,) = [s.value for s in samples if s.name == name and s.labels == labels]
    return value


@pytest.fixture
def served(pool: asyncpg.Pool, service_url: str) -> Iterator[str]:
    app = create_app(
        Database(url=service_url, embedded=False),
        settings=ApiSettings(default_wait_seconds=3.0, limits=THREE_THEN_REFUSED),
    )
    with serving(app) as url:
        yield url


async def test_a_scrape_counts_requests_by_route_template_appends_refusals_and_each_views_lag(
    served: str, keys: Keys
) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        filed = await http.post(
            "/v1/reports", json=filing("kursk-current-holding"), headers=Keys.header(keys.editor)
        )
        assert filed.status_code == 201, filed.text
        report_id = filed.json()["report_id"]
        read = await http.get(f"/v1/reports/{report_id}", headers=Keys.header(keys.editor))
        assert read.status_code == 200
        head = await http.head(f"/v1/reports/{report_id}", headers=Keys.header(keys.editor))
        assert head.status_code == 200
        answers = [await http.get("/v1/damage", headers=Keys.header(keys.reader)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]

        scrape = await http.get("/metrics")  # from 127.0.0.1, allowed by default, no key

    assert scrape.status_code == 200, scrape.text
    assert scrape.headers["content-type"].startswith("text/plain")
    metrics = _scraped(scrape.text)

    requests = metrics["timeline_http_request_duration_seconds"]
    count = "timeline_http_request_duration_seconds_count"
    assert _value(requests, count, method="POST", route="/v1/reports", status="201") == 1
    assert _value(requests, count, method="GET", route="/v1/reports/{report_id}", status="200") == 1
    assert (
        _value(requests, count, method="HEAD", route="/v1/reports/{report_id}", status="200") == 1
    )
    assert _value(requests, count, method="GET", route="/v1/damage", status="200") == 3
    assert _value(requests, count, method="GET", route="/v1/damage", status="429") == 1
    assert not any(report_id in s.labels.get("route", "") for s in requests), "a raw path"

    assert _value(metrics["timeline_events_appended"], "timeline_events_appended_total") == 1
    appends = metrics["timeline_append_duration_seconds"]
    assert _value(appends, "timeline_append_duration_seconds_count", outcome="appended") == 1
    refused = metrics["timeline_refused_requests"]
    assert _value(refused, "timeline_refused_requests_total", reason="rate-limited") == 1

    for family in ("timeline_projection_lag_events", "timeline_projection_lag_seconds"):
        assert {s.labels["view"] for s in metrics[family]} == set(VIEWS), family
    assert {s.labels["view"] for s in metrics["timeline_quarantined_events"]} == set(VIEWS)
    assert _value(metrics["timeline_log_position"], "timeline_log_position") == 1
    assert _value(metrics["timeline_database_up"], "timeline_database_up") == 1
    assert _value(metrics["timeline_open_streams"], "timeline_open_streams") == 0
    pool_max = metrics["timeline_db_pool_max_connections"]
    assert _value(pool_max, "timeline_db_pool_max_connections") == 10
    in_use = _value(
        metrics["timeline_db_pool_connections"], "timeline_db_pool_connections", state="in_use"
    )
    assert 0 <= in_use <= 10


@pytest.fixture
def served_to_an_office_network(pool: asyncpg.Pool, service_url: str) -> Iterator[str]:
    app = create_app(
        Database(url=service_url, embedded=False),
        settings=ApiSettings(metrics_allow=networks("10.20.0.0/16")),
    )
    with serving(app) as url:
        yield url


async def test_metrics_from_an_address_not_allowed_are_refused_unless_an_admin_key_comes(
    served_to_an_office_network: str, keys: Keys
) -> None:
    async with httpx.AsyncClient(base_url=served_to_an_office_network, timeout=30) as http:
        refused = await http.get("/metrics")
        as_reader = await http.get("/metrics", headers=Keys.header(keys.reader))
        as_admin = await http.get("/metrics", headers=Keys.header(keys.admin))

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "TIMELINE_METRICS_ALLOW" in refused.json()["detail"]
    assert "timeline_" not in refused.text
    assert refused.headers["x-request-id"]
    assert as_reader.status_code == 403
    assert as_admin.status_code == 200
    assert "timeline_projection_lag_events" in as_admin.text
