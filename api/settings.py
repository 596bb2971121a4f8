"""The API's knobs, read from the environment once at start."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from api.answer_cache import DEFAULT_ANSWER_CACHE_BYTES

PUBLIC_READS_VARIABLE = "TIMELINE_PUBLIC_READS"
CORS_ORIGINS_VARIABLE = "TIMELINE_CORS_ORIGINS"
MAX_BODY_VARIABLE = "TIMELINE_MAX_BODY_BYTES"
MAX_HEADER_VARIABLE = "TIMELINE_MAX_HEADER_BYTES"
ANSWER_CACHE_VARIABLE = "TIMELINE_ANSWER_CACHE_BYTES"
METRICS_ALLOW_VARIABLE = "TIMELINE_METRICS_ALLOW"
READY_MAX_LAG_VARIABLE = "TIMELINE_READY_MAX_LAG"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Who may read /metrics without a key: this machine only, until the operator says otherwise.
DEFAULT_METRICS_ALLOW = "127.0.0.0/8,::1/128"
# A view further behind the log than this many events makes the process not ready: a few
# seconds of a busy log's appends, far more than a view that keeps up is ever behind.
DEFAULT_READY_MAX_LAG = 1_000

DEFAULT_MAX_BODY_BYTES = 1_048_576  # one report is a few kB; a batch may be larger
DEFAULT_MAX_BATCH_BYTES = 16 * 1_048_576
# A dataset file posted to /v1/imports: the General Staff's tallies are 0.7 MB, an ACLED
# export of a country's few months some tens of MB; whole releases go by `timeline import`.
DEFAULT_MAX_IMPORT_BYTES = 64 * 1_048_576
# All of a request's header names and values together (431 beyond).
DEFAULT_MAX_HEADER_BYTES = 32_768


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """What one client may ask of one API process (api/limits.py); 0 turns a limit off.
    A client looping as fast as it can meets the request rate within a fraction of a
    second; a dashboard polling a few views every few seconds never does."""

    requests_per_second: float = 50.0  # per API key (per address for anonymous reads)
    burst: int = 100  # requests a key may send at once before the rate applies
    streams_per_key: int = 10  # concurrent GET /v1/stream per key (per address anonymously)
    streams: int = 500  # concurrent GET /v1/stream in all
    # Questions about the past (as_of, known_at, ...) folded at once: one event loop folds
    # one at a time however many are in flight, and more only share out the loop more.
    past_running: int = 1
    past_waiting: int = 8  # more that may wait their turn; beyond: 503
    # Imports (POST /v1/imports) at once: each holds its files and their rows in memory
    # (up to max_import_bytes of files, several times that once read); beyond: 503.
    imports_at_once: int = 1
    auth_failures: int = 5  # wrong keys from one address before it must wait
    auth_max_wait_seconds: float = 300.0  # the longest wait, doubling from 1 s
    refusal_delay_seconds: float = 1.0  # how long a refusal is held back before it is sent

    @classmethod
    def unlimited(cls) -> LimitSettings:
        """Every limit off: behind a gateway that limits, or to measure something else."""
        return cls(
            requests_per_second=0,
            streams_per_key=0,
            streams=0,
            past_running=0,
            imports_at_once=0,
            auth_failures=0,
            refusal_delay_seconds=0,
        )

    @classmethod
    def from_environment(cls) -> LimitSettings:
        defaults = cls()
        return cls(
            requests_per_second=_number("TIMELINE_RATE_LIMIT", defaults.requests_per_second),
            burst=int(_number("TIMELINE_RATE_BURST", defaults.burst)),
            streams_per_key=int(_number("TIMELINE_STREAMS_PER_KEY", defaults.streams_per_key)),
            streams=int(_number("TIMELINE_STREAMS", defaults.streams)),
            past_running=int(_number("TIMELINE_PAST_QUESTIONS", defaults.past_running)),
            past_waiting=int(_number("TIMELINE_PAST_QUESTIONS_WAITING", defaults.past_waiting)),
            imports_at_once=int(_number("TIMELINE_IMPORTS_AT_ONCE", defaults.imports_at_once)),
            auth_failures=int(_number("TIMELINE_AUTH_FAILURES", defaults.auth_failures)),
            auth_max_wait_seconds=_number(
                "TIMELINE_AUTH_MAX_WAIT_SECONDS", defaults.auth_max_wait_seconds
            ),
            refusal_delay_seconds=_number(
                "TIMELINE_REFUSAL_DELAY_SECONDS", defaults.refusal_delay_seconds
            ),
        )


@dataclass(frozen=True, slots=True)
class ApiSettings:
    # Reads without a key: for a public dashboard. Writes always need a key.
    public_reads: bool = False
    # Origins a browser dashboard may call from ("*" for any); none by default.
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    max_import_bytes: int = DEFAULT_MAX_IMPORT_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    # How long a read with ?min_position=N waits for the views to reach N, at most.
    default_wait_seconds: float = 5.0
    limits: LimitSettings = field(default_factory=LimitSettings)
    # What the answers this process remembers may weigh in all (api/answer_cache.py).
    answer_cache_bytes: int = DEFAULT_ANSWER_CACHE_BYTES
    # Client networks that may read /metrics without a key (an admin key reads it anywhere).
    metrics_allow: tuple[Network, ...] = field(
        default_factory=lambda: networks(DEFAULT_METRICS_ALLOW)
    )
    ready_max_lag: int = DEFAULT_READY_MAX_LAG  # events a view may be behind and still ready

    @classmethod
    def from_environment(cls) -> ApiSettings:
        origins = os.environ.get(CORS_ORIGINS_VARIABLE, "")
        max_body = os.environ.get(MAX_BODY_VARIABLE)
        max_header = os.environ.get(MAX_HEADER_VARIABLE)
        return cls(
            public_reads=_flag(os.environ.get(PUBLIC_READS_VARIABLE)),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            max_body_bytes=int(max_body) if max_body else DEFAULT_MAX_BODY_BYTES,
            max_header_bytes=int(max_header) if max_header else DEFAULT_MAX_HEADER_BYTES,
            limits=LimitSettings.from_environment(),
            answer_cache_bytes=int(_number(ANSWER_CACHE_VARIABLE, DEFAULT_ANSWER_CACHE_BYTES)),
            metrics_allow=networks(
                os.environ.get(METRICS_ALLOW_VARIABLE, DEFAULT_METRICS_ALLOW),
                METRICS_ALLOW_VARIABLE,
            ),
            ready_max_lag=int(_number(READY_MAX_LAG_VARIABLE, DEFAULT_READY_MAX_LAG)),
        )


def networks(text: str, variable: str = METRICS_ALLOW_VARIABLE) -> tuple[Network, ...]:
    """Comma-separated CIDRs (`10.0.0.0/8,::1/128`; a bare address is one host); a typo
    fails the start with the variable's name rather than silently letting nobody in."""
    parsed = []
    for part in text.split(","):
        if part.strip():
            try:
                parsed.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as error:
                raise ValueError(f"{variable}: {error}") from None
    return tuple(parsed)
