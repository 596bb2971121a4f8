"""Reads from a streaming replica: API processes with TIMELINE_DATABASE_URL on the primary
and TIMELINE_READ_DATABASE_URL on a hot standby (made with `pg_basebackup -R` from the
embedded server's own binaries), projection workers on the primary. A read with
`min_position` gets the write it names once the standby has replayed it, and no sooner: with
the standby's replay paused, the views it serves stay where the standby is."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import service_env
from tests.e2e.replica import Cluster, _execute, pg_basebackup, primary_and_standby
from tests.e2e.topology import (
    Running,
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


def _figures(api: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The API process's /metrics, as Prometheus parses them: by name and labels."""
    text = httpx.get(f"{api.url}/metrics", timeout=30).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _timeline(api: Running, key: str, **params: int) -> httpx.Response:
    return httpx.get(
        f"{api.url}/v1/timeline",
        params=params,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def _report(api: Running, key: str, report_id: str, **params: int) -> httpx.Response:
    return httpx.get(
        f"{api.url}/v1/reports/{report_id}",
        params=params,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def _timeline_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["report_id"] for item in response.json()["items"]]


def _standby_sessions(cluster: Cluster) -> int:
    count: int = asyncio.run(
        _execute(
            cluster.standby.owner_url,
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'timeline_service'",
        )
    )
    return count


def test_two_apis_read_their_writes_through_the_standby_while_a_worker_is_killed(
    running: Topology, cluster: Cluster
) -> None:
    key = editor_key(cluster.owner_url, "Kursk desk")
    first_worker = running.worker("worker-1")
    wait_until_every_view_runs(cluster.owner_url)
    running.worker("worker-2").wait_for_output("timeline: projecting")
    kyiv, kharkiv = running.api("api-kyiv"), running.api("api-kharkiv")
    assert "views read from postgresql://timeline_service@/timeline" in kyiv.output()

    took = []
    for km2 in (1376.0, 1300.0, 1250.0, 1200.0, 1150.0):
        filed = file_report(kyiv, key, km2)
        started = time.monotonic()
        read = _timeline(kharkiv, key, min_position=filed["position"])
        took.append(time.monotonic() - started)
        assert filed["report_id"] in _timeline_ids(read)
    print("written through one API, read through the other's standby:", [f"{s:.3f}" for s in took])
    # Both processes' reads are sessions on the standby, as the service role.
    assert _standby_sessions(cluster) >= 2

    first_worker.stop(signal.SIGKILL)
    filed = file_report(kharkiv, key, 1100.0)
    wait_until_every_view_runs(cluster.owner_url, at_least=filed["position"])
    assert len(_timeline_ids(_timeline(kyiv, key, min_position=filed["position"]))) == 6

    figures = _figures(kyiv)
    assert figures[("timeline_events_appended_total", ())] == 5
    assert figures[("timeline_read_database_up", ())] == 1
    assert figures[("timeline_projection_lag_events", (("view", "timeline"),))] == 0
    timeline_reads = ("method", "GET"), ("route", "/v1/timeline"), ("status", "200")
    assert _figures(kharkiv)[("timeline_http_request_duration_seconds_count", timeline_reads)] == 5


def test_min_position_waits_for_the_standby_and_a_standby_gone_is_not_ready(
    running: Topology, cluster: Cluster
) -> None:
    key = editor_key(cluster.owner_url, "Berdiansk desk")
    running.worker("worker")
    wait_until_every_view_runs(cluster.owner_url)
    api = running.api("api")
    first = file_report(api, key, 1376.0)
    assert _timeline_ids(_timeline(api, key, min_position=first["position"])) == [
        first["report_id"]
    ]

    asyncio.run(_execute(cluster.standby.owner_url, "SELECT pg_wal_replay_pause()"))
    second = file_report(api, key, 800.0)
    # The primary's views have it; the standby's do not, and the API answers from the latter.
    wait_until_every_view_runs(cluster.owner_url, at_least=second["position"])
    assert _timeline_ids(_timeline(api, key)) == [first["report_id"]]
    behind = _timeline(api, key, min_position=second["position"])
    assert behind.status_code == 503, behind.text
    assert behind.json()["type"].endswith("/views-behind")
    assert _figures(api)[("timeline_read_database_lag_events", ())] == 1
    # A report is read from the standby too: the first one, corroborated since on the
    # primary, is still at its first version there; with the corroboration's position the
    # read waits for the standby, then says it is behind. The second, which the standby does
    # not hold yet, is found on the primary rather than answered 404.
    corroborated = httpx.post(
        f"{api.url}/v1/reports/{first['report_id']}/corroborations",
        json={"by": {"source": "Institute for the Study of War", "side": "third_party"}},
        headers={"Authorization": f"Bearer {key}", "If-Match": '"1"'},
        timeout=30,
    )
    assert corroborated.status_code == 201, corroborated.text
    as_read = _report(api, key, first["report_id"])
    assert (as_read.status_code, as_read.json()["report"]["version"]) == (200, 1)
    waited = _report(api, key, first["report_id"], min_position=corroborated.json()["position"])
    assert waited.status_code == 503, waited.text
    assert _report(api, key, second["report_id"]).status_code == 200

    asyncio.run(_execute(cluster.standby.owner_url, "SELECT pg_wal_replay_resume()"))
    caught_up = _report(api, key, first["report_id"], min_position=corroborated.json()["position"])
    assert (caught_up.status_code, caught_up.json()["report"]["version"]) == (200, 2)
    read = _timeline(api, key, min_position=second["position"])
    assert sorted(_timeline_ids(read)) == sorted([first["report_id"], second["report_id"]])
    assert _figures(api)[("timeline_read_database_lag_events", ())] == 0

    # The standby stops: the process is not ready, and its reads are a problem, not a 500.
    cluster.standby.stop()
    not_ready = httpx.get(f"{api.url}/health/ready", timeout=30)
    assert (not_ready.status_code, not_ready.json()["read_database"]) == (503, "unreachable")
    gone = _timeline(api, key, position=first["position"])
    assert gone.status_code == 503, gone.text
    report_gone = _report(api, key, first["report_id"])
    assert report_gone.status_code == 503, report_gone.text
    assert report_gone.headers["content-type"].startswith("application/problem+json")
    assert _figures(api)[("timeline_read_database_up", ())] == 0

    cluster.standby.start()
    ready = httpx.get(f"{api.url}/health/ready", timeout=30)
    assert (ready.status_code, ready.json()["read_database"]) == (200, "ok")
    third = file_report(api, key, 790.0)
    assert third["report_id"] in _timeline_ids(_timeline(api, key, min_position=third["position"]))
