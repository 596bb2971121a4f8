"""wrk, the HTTP load tool, driven from Python: one target at a time at CONNECTIONS
connections, its requests/s and latency percentiles read back from a line its Lua script
writes (bench/http.py)."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 64
WRK_THREADS = 2
WARMUP_SECONDS = 2
MEASURE_SECONDS = 10

# wrk calls done() once at the end: one JSON line for us after its own report.
WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH {{\\"requests\\":%d,\\"micros\\":%d,\\"p50\\":%d,\\"p99\\":%d,\\"errors\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
"""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _wrk(base: str, target: Target, seconds: int, folder: Path) -> Run:
    headers = "\n".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in target.headers
    )
    script = folder / f"{target.name}.lua"
    script.write_text(
        WRK_SCRIPT.format(method=target.method, body=target.body.decode(), headers=headers)
    )
    done = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "-s",
            str(script),
            base + target.url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    return Run(
        requests_per_second=result["requests"] / (result["micros"] / 1e6),
        p50_ms=result["p50"] / 1000,
        p99_ms=result["p99"] / 1000,
        errors=result["errors"],
    )


def measure(base: str, target: Target, folder: Path) -> Run:
    """One run of `target` after a warm-up."""
    _wrk(base, target, WARMUP_SECONDS, folder)
    return _wrk(base, target, MEASURE_SECONDS, folder)


def median(runs: list[Run]) -> Run:
    return Run(
        requests_per_second=statistics.median(run.requests_per_second for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
    )
