"""The API's knobs, read from the environment once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

PUBLIC_READS_VARIABLE = "TIMELINE_PUBLIC_READS"
CORS_ORIGINS_VARIABLE = "TIMELINE_CORS_ORIGINS"
MAX_BODY_VARIABLE = "TIMELINE_MAX_BODY_BYTES"
MAX_HEADER_VARIABLE = "TIMELINE_MAX_HEADER_BYTES"

DEFAULT_MAX_BODY_BYTES = 1_048_576  # one report is a few kB; a batch may be larger
DEFAULT_MAX_BATCH_BYTES = 16 * 1_048_576
# All of a request's header names and values together (431 beyond).
DEFAULT_MAX_HEADER_BYTES = 32_768


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class ApiSettings:
    # Reads without a key: for a public dashboard. Writes always need a key.
    public_reads: bool = False
    # Origins a browser dashboard may call from ("*" for any); none by default.
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    # How long a read with ?min_position=N waits for the views to reach N, at most.
    max_wait_seconds: float = 10.0
    default_wait_seconds: float = 5.0
    extra: dict[str, str] = field(default_factory=dict)

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
        )
