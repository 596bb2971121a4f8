"""The service as an operator runs it, for the benchmarks: `timeline serve` and `timeline
project` in processes of their own, or one server until it answers, a keep-alive HTTP
client, and what memory each holds."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import psutil

from store.settings import DATABASE_URL_VARIABLE

STOP_SECONDS = 20.0
START_TIMEOUT = 90.0  # seconds for a server to answer, and for its views to serve the log
MB = 1_000_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def python_tool(name: str) -> str:
    """A console script of this virtualenv."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


class Client:
    """GETs on one keep-alive connection, opened again after a failure."""

    def __init__(self, port: int, secret: str, timeout: float) -> None:
        self._port = port
        self._headers = {"Authorization": f"Bearer {secret}"}
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, int, float, int]:
        """Status, X-Timeline-Position (-1 if none), milliseconds and body size; TimeoutError
        when the answer takes longer than the timeout."""
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    "127.0.0.1", self._port, timeout=self._timeout
                )
            started = time.perf_counter()
            try:
                self._connection.request("GET", path, headers=self._headers)
                response = self._connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle connection: once more on a new one
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            elapsed_ms = (time.perf_counter() - started) * 1000
            position = int(response.getheader("X-Timeline-Position") or -1)
            return response.status, position, elapsed_ms, len(body)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(slots=True)
class Service:
    """`timeline serve --no-projections` and `timeline project`, started together."""

    api: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    port: int
    started: float
    logs: tuple[Path, Path]

    def check_running(self) -> None:
        for process, log in zip((self.api, self.worker), self.logs, strict=True):
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{log.name}: exited with {process.returncode}:\n{tail}")

    def api_pids(self) -> list[int]:
        """The processes serving the app: granian's workers under its supervisor."""
        children = psutil.Process(self.api.pid).children(recursive=True)
        return [child.pid for child in children] or [self.api.pid]

    def rss_mb(self) -> tuple[float, float]:
        """The API's and the worker's resident memory now."""
        return _rss_mb(self.api_pids()), _rss_mb([self.worker.pid])

    def peak_mb(self) -> tuple[float, float]:
        """The API's and the worker's high-water marks of resident memory."""
        return _peak_mb(self.api_pids()), _peak_mb([self.worker.pid])


def stop(process: subprocess.Popen[bytes]) -> None:
    """As Ctrl-C stops it; killed, with its children, if it takes longer than STOP_SECONDS."""
    if process.poll() is not None:
        return
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return  # it has just exited
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(url: str, folder: Path, run: str) -> Iterator[Service]:
    """Both processes on the database at `url` until the block ends, then stopped as Ctrl-C
    stops them; what they print goes to `folder`, named after `run`. The API's request rate
    is not limited: the benchmarks measure what questions cost, one after another as fast
    as they are answered (bench/abuse.py measures the limits)."""
    env = {**os.environ, DATABASE_URL_VARIABLE: url, "TIMELINE_RATE_LIMIT": "0"}
    timeline = python_tool("timeline")
    port = free_port()
    serve = [timeline, "serve", "--port", str(port), "--no-projections"]
    logs = (folder / f"{run}-api.log", folder / f"{run}-worker.log")
    with contextlib.ExitStack() as stack:
        outputs = [stack.enter_context(log.open("wb")) for log in logs]
        started = time.monotonic()
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for command, output in zip((serve, [timeline, "project"]), outputs, strict=True):
                processes.append(
                    subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
                )
            yield Service(processes[0], processes[1], port, started, logs)
        finally:
            for process in processes:
                stop(process)


def get(url: str, headers: Sequence[tuple[str, str]] = ()) -> tuple[int, Message, int]:
    """The status, headers (looked up in any case) and body size of a GET."""
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310  (our loopback)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.headers, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, 0


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{url}: its server exited with {process.returncode}:\n{tail}")
        try:
            get(url)
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise RuntimeError(f"nothing answered {url} within {START_TIMEOUT:.0f} s")


@contextlib.contextmanager
def serving(command: list[str], url: str, env: dict[str, str], log: Path) -> Iterator[None]:
    """`command` running, once `url` answers, until the block ends, then stopped as Ctrl-C
    stops it (`stop`); what it prints goes to `log`, shown if it fails to start."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(url, process, log)
            yield
        finally:
            stop(process)


def _rss_mb(pids: Sequence[int]) -> float:
    return sum(psutil.Process(pid).memory_info().rss for pid in pids) / MB


def _peak_mb(pids: Sequence[int]) -> float:
    """The processes' high-water marks of RSS (VmHWM, Linux)."""
    total_kb = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total_kb += int(line.split()[1])
    return total_kb * 1024 / MB
