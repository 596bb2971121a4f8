"""The topology of compose.yaml started as plain processes on this machine: API processes
(`timeline serve --no-projections`) and projection workers (`timeline project`) against one
PostgreSQL, each a real `timeline` process with its output in a file, stopped with the
signal a test chooses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from store.api_keys import Role, create_key
from tests.e2e.conftest import TIMELINE, timeline_env

START_SECONDS = 60.0
STOP_SECONDS = 30.0
EXAMPLE = json.loads(
    (Path(__file__).parents[2] / "examples" / "kursk-800.json").read_text(encoding="utf-8")
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def territory_report(km2: float) -> dict[str, Any]:
    """The seed's Kursk claim with another area: each one a report of its own."""
    body: dict[str, Any] = deepcopy(EXAMPLE)
    body["claim"]["area"]["value"] = km2
    return body


def editor_key(owner_url: str, name: str) -> str:
    async def create() -> str:
        pool = await asyncpg.create_pool(owner_url, min_size=1, max_size=1)
        assert pool is not None
        try:
            return (await create_key(pool, name, Role.EDITOR)).secret
        finally:
            await pool.close()

    return asyncio.run(create())


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} serves no HTTP"
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while text not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"{self.name} never printed {text!r}"
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_SECONDS)


@dataclass
class Topology:
    """Processes started against `env`'s database; `stop_all` ends whatever still runs."""

    env: Mapping[str, str]
    logs: Path
    running: list[Running] = field(default_factory=list)

    def _start(self, name: str, *args: str, port: int | None = None) -> Running:
        log = self.logs / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [TIMELINE, *args],
                env=timeline_env(self.env),
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: `stop_all` ends it with every process it started
                # (granian's workers outlived a killed `timeline serve`).
                start_new_session=True,
            )
        started = Running(name, process, log, port)
        self.running.append(started)
        return started

    def api(self, name: str) -> Running:
        """`timeline serve --no-projections` on a free port, once it answers."""
        port = free_port()
        api = self._start(name, "serve", "--no-projections", "--port", str(port), port=port)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert api.process.poll() is None, api.output()
            try:
                if httpx.get(f"{api.url}/health/live", timeout=2).status_code == 200:
                    return api
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{name} did not answer within {START_SECONDS} s:\n{api.output()}")

    def worker(self, name: str) -> Running:
        return self._start(name, "project")

    def stop_all(self) -> None:
        """Kill every process started, and every process each of them started."""
        for process in reversed(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.process.pid, signal.SIGKILL)
            process.process.wait(timeout=STOP_SECONDS)


@contextmanager
def topology(env: Mapping[str, str], logs: Path) -> Iterator[Topology]:
    started = Topology(env, logs)
    try:
        yield started
    finally:
        started.stop_all()


def views_running(owner_url: str) -> dict[str, int]:
    """The views a runner holds (by their advisory lock), with the position each stands at."""

    async def ask() -> dict[str, int]:
        from projections.registry import VIEWS  # noqa: PLC0415
        from projections.status import view_statuses  # noqa: PLC0415

        pool = await asyncpg.create_pool(owner_url, min_size=1, max_size=1)
        assert pool is not None
        try:
            statuses = await view_statuses(pool, list(VIEWS))
        finally:
            await pool.close()
        return {s.view: s.position for s in statuses if s.state == "running"}

    return asyncio.run(ask())


def wait_until_every_view_runs(owner_url: str, *, at_least: int = 0) -> float:
    """Seconds until a runner holds every view and each has reached `at_least`."""
    from projections.registry import VIEWS  # noqa: PLC0415

    started = time.monotonic()
    while time.monotonic() - started < START_SECONDS:
        running = views_running(owner_url)
        if set(running) == set(VIEWS) and min(running.values()) >= at_least:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not every view ran within {START_SECONDS} s: {running}")


def file_report(api: Running, key: str, km2: float) -> dict[str, Any]:
    response = httpx.post(
        f"{api.url}/v1/reports",
        json=territory_report(km2),
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    filed: dict[str, Any] = response.json()
    return filed


def stream_ids(lines: Iterator[str], through: int) -> list[int]:
    """The ids of the stream's events until the one at `through` (or the stream's end)."""
    ids = []
    for line in lines:
        if line.startswith("id:"):
            ids.append(int(line.removeprefix("id:").strip()))
            if ids[-1] >= through:
                break
    return ids
