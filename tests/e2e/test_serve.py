"""`timeline serve` on the embedded database: health over real HTTP, a clean Ctrl-C, and the
same data on the next start."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import psutil

from store.api_keys import Role, create_key
from store.roles import SERVICE_ROLE
from tests.e2e.conftest import TIMELINE, service_env, timeline_env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_serving(pgdata: Path) -> bool:
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(part.endswith("/postgres") for part in cmdline[:1]) and str(pgdata) in cmdline:
            return True
    return False


def _logins(pgdata: Path) -> set[str]:
    """The roles the server's clients are logged in as, read from its backends' process
    titles ('postgres: ROLE DATABASE [local] STATE')."""
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(part.endswith("/postgres") for part in cmdline[:1]) and str(pgdata) in cmdline:
            titles = [" ".join(child.cmdline()) for child in process.children()]
            return {title.split()[1] for title in titles if "[local]" in title}
    return set()


def _wait_for_health(url: str, server: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body
    raise AssertionError("the service did not answer /health within 60 s")


def _wait_for_views(env: dict[str, str], position: object) -> None:
    """serve keeps the views in its own process: each reaches the position it served."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = subprocess.run(
            [TIMELINE, "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0, status.stderr
        views = [json.loads(line) for line in status.stdout.splitlines()]
        if {v["view"] for v in views} >= {"holdings", "timeline"} and all(
            v["position"] == position and v["state"] == "running" for v in views
        ):
            return
        time.sleep(0.2)
    raise AssertionError("serve did not bring the views to the log position within 30 s")


def _serve_once(env: dict[str, str], *options: str, workers: int = 1) -> dict[str, object]:
    port = _free_port()
    server = subprocess.Popen(
        [TIMELINE, "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/health", server)
        _wait_for_views(env, health["position"])
        # The service logs in as the service role, not as the superuser that migrated.
        assert _logins(Path(env["TIMELINE_DATA_DIR"]).resolve() / "pgdata") == {SERVICE_ROLE}
        # granian serves from worker processes under the one we started.
        assert len(psutil.Process(server.pid).children()) == workers
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""
    return health


def test_serve_answers_health_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    env = timeline_env({"TIMELINE_DATA_DIR": str(tmp_path / "data")})
    for command in (["migrate"], ["demo"]):
        done = subprocess.run(
            [TIMELINE, *command], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr

    first = _serve_once(env)
    assert first["status"] == "ok"
    assert first["database"] == "ok"
    assert isinstance(first["position"], int)
    assert first["position"] > 12

    pgdata = (tmp_path / "data" / "pgdata").resolve()
    deadline = time.monotonic() + 15
    while _postgres_serving(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_serving(pgdata), "Ctrl-C left the embedded PostgreSQL running"

    second = _serve_once(env)
    assert second["position"] == first["position"]


def test_two_workers_share_the_embedded_database(tmp_path: Path) -> None:
    """Each worker opens its own pool on the server the parent started; Ctrl-C to the parent
    stops both workers and then the embedded PostgreSQL."""
    env = timeline_env({"TIMELINE_DATA_DIR": str(tmp_path / "data")})
    for command in (["migrate"], ["demo"]):
        done = subprocess.run(
            [TIMELINE, *command], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr

    health = _serve_once(env, "--workers", "2", workers=2)
    assert health["status"] == "ok"
    assert isinstance(health["position"], int)
    assert health["position"] > 12

    pgdata = (tmp_path / "data" / "pgdata").resolve()
    deadline = time.monotonic() + 15
    while _postgres_serving(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_serving(pgdata), "Ctrl-C left the embedded PostgreSQL running"


async def test_json_logs_are_one_object_a_line_each_request_once_with_its_id(
    pool: asyncpg.Pool, service_url: str, database_url: str
) -> None:
    desk = await create_key(pool, "Berdiansk desk", Role.READER)
    env = timeline_env({**service_env(service_url, database_url), "TIMELINE_LOG_FORMAT": "json"})
    port = _free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 (a long-running child, stopped below)
        [TIMELINE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await asyncio.to_thread(_wait_for_health, f"http://127.0.0.1:{port}/health", server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            strikes = await http.get(
                "/v1/strikes",
                headers={"Authorization": f"Bearer {desk.secret}", "X-Request-ID": "berdiansk-1"},
            )
    finally:
        server.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(server.communicate, timeout=30)

    assert strikes.status_code == 200
    assert strikes.headers["x-request-id"] == "berdiansk-1"
    # The first line is the command's own, printed before any logging is set up.
    assert out.splitlines()[0].startswith("timeline: serving on")
    lines = [json.loads(line) for line in [*out.splitlines()[1:], *err.splitlines()]]
    assert {"_granian", "timeline.api.requests"} <= {line["logger"] for line in lines}
    (logged,) = [line for line in lines if line.get("request_id") == "berdiansk-1"]
    assert logged["key_id"] == str(desk.key.id)
    assert (logged["route"], logged["status"]) == ("/v1/strikes", 200)
    assert desk.secret not in out + err
