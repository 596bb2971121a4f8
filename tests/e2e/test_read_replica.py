"""Reads from a streaming replica: an API process with TIMELINE_DATABASE_URL on the primary
and TIMELINE_READ_DATABASE_URL on a hot standby (made with `pg_basebackup -R` from the
embedded server's own binaries), a projection worker on the primary. A read with
`min_position` gets the write it names once the standby has replayed it, and no sooner: with
the standby's replay paused, the views it serves stay where the standby is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import service_env
from tests.e2e.replica import Cluster, _execute, pg_basebackup, primary_and_standby
from tests.e2e.topology import (
    Topology,
    editor_key,
    file_report,
    topology,
    wait_until_every_view_runs,
)

pytestmark = pytest.mark.skipif(
    pg_basebackup() is None, reason="the embedded PostgreSQL's wheel ships no pg_basebackup"
)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with primary_and_standby() as made:
        yield made


@pytest.fixture
def running(cluster: Cluster, tmp_path: Path) -> Iterator[Topology]:
    env = {
        **service_env(cluster.service_url, cluster.owner_url),
        "TIMELINE_READ_DATABASE_URL": cluster.read_url,
    }
    with topology(env, tmp_path) as started:
        yield started


def _standby_figures(api_url: str) -> dict[str, float]:
    """The API process's figures about its standby, as Prometheus parses them."""
    text = httpx.get(f"{api_url}/metrics", timeout=30).text
    return {
        family.name: family.samples[0].value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("timeline_read_database")
    }


def _timeline_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["report_id"] for item in response.json()["items"]]


def test_reads_come_from_the_standby_and_min_position_waits_for_its_replay(
    running: Topology, cluster: Cluster
) -> None:
    key = editor_key(cluster.owner_url, "Kursk desk")
    running.worker("worker")
    wait_until_every_view_runs(cluster.owner_url)
    api = running.api("api")
    assert "views read from postgresql://timeline_service@/timeline" in api.output()
    auth = {"Authorization": f"Bearer {key}"}

    def timeline(**params: int) -> httpx.Response:
        return httpx.get(f"{api.url}/v1/timeline", params=params, headers=auth, timeout=30)

    first = file_report(api, key, 1376.0)
    assert _timeline_ids(timeline(min_position=first["position"])) == [first["report_id"]]
    took = []
    for km2 in (1300.0, 1250.0, 1200.0, 1150.0, 1100.0):
        filed = file_report(api, key, km2)
        started = time.monotonic()
        assert filed["report_id"] in _timeline_ids(timeline(min_position=filed["position"]))
        took.append(time.monotonic() - started)
    print(f"a write read back through the standby: {', '.join(f'{s:.3f}' for s in took)} s")

    # The service's reads are sessions on the standby, as the service role.
    on_standby = asyncio.run(
        _execute(
            cluster.standby_owner_url,
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'timeline_service'",
        )
    )
    assert on_standby >= 1

    asyncio.run(_execute(cluster.standby_owner_url, "SELECT pg_wal_replay_pause()"))
    second = file_report(api, key, 800.0)
    # The primary's views have it; the standby's do not, and the API answers from the latter.
    wait_until_every_view_runs(cluster.owner_url, at_least=second["position"])
    assert second["report_id"] not in _timeline_ids(timeline())
    behind = timeline(min_position=second["position"])
    assert behind.status_code == 503, behind.text
    assert behind.json()["type"].endswith("/views-behind")
    assert _standby_figures(api.url) == {
        "timeline_read_database_up": 1.0,
        "timeline_read_database_lag_events": 1.0,
    }
    # The report itself is read from the log on the primary: there already.
    report = httpx.get(f"{api.url}/v1/reports/{second['report_id']}", headers=auth, timeout=30)
    assert report.status_code == 200, report.text

    asyncio.run(_execute(cluster.standby_owner_url, "SELECT pg_wal_replay_resume()"))
    read = timeline(min_position=second["position"])
    assert {first["report_id"], second["report_id"]} <= set(_timeline_ids(read))
    assert int(read.headers["x-timeline-position"]) >= second["position"]
    assert _standby_figures(api.url)["timeline_read_database_lag_events"] == 0.0
