"""How the service's processes log: the one place that sets up the `timeline` loggers.

`TIMELINE_LOG_FORMAT=text` (the default, for a terminal): the lines of progress and the
warnings, as `timeline: <message>`. `TIMELINE_LOG_FORMAT=json` (for a log collector): one JSON
object per line with `time`, `level`, `logger` and `message`, the request id of the request
being served when there is one, and for each request served a line from
`timeline.api.requests` with `request_id`, `key_id`, `route`, `method`, `status` and
`duration_ms` (api/requests_seen.py). Requests are logged in JSON only: a line per request
on a terminal would drown what matters there.

Nothing logged carries a secret: a key is named by its id, a request by its route template.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec

from api.requests_seen import REQUEST_ID

LOG_FORMAT_VARIABLE = "TIMELINE_LOG_FORMAT"
TIMELINE_LOGGER = "timeline"
REQUESTS_LOGGER = "timeline.api.requests"
# What a request's log line adds to the record (api/requests_seen.py), in this order.
REQUEST_FIELDS = ("request_id", "key_id", "route", "method", "status", "duration_ms")

_encoder = msgspec.json.Encoder()


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def log_format_from_environment() -> LogFormat:
    value = os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() or LogFormat.TEXT.value
    try:
        return LogFormat(value)
    except ValueError:
        raise ValueError(
            f"{LOG_FORMAT_VARIABLE}: {value!r} is not a log format; use text or json"
        ) from None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        for name in REQUEST_FIELDS[1:]:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(line).decode()


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format is LogFormat.JSON:
        return JsonFormatter()
    return logging.Formatter("timeline: %(message)s")


def configure_logging(log_format: LogFormat) -> None:
    """The `timeline` loggers to stderr in `log_format`, from INFO up (once per process)."""
    timeline = logging.getLogger(TIMELINE_LOGGER)
    if timeline.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    timeline.addHandler(handler)
    timeline.setLevel(logging.INFO)
    # Not also to the root logger, to which litestar gives a handler of its own: a line twice.
    timeline.propagate = False
    requests = logging.getLogger(REQUESTS_LOGGER)
    requests.setLevel(logging.INFO if log_format is LogFormat.JSON else logging.WARNING)


def server_log_config(log_format: LogFormat) -> dict[str, Any] | None:
    """The ASGI server's own logging (granian's `log_dictconfig`) in the same format."""
    if log_format is LogFormat.TEXT:
        return None
    json_lines = {"()": f"{__name__}.JsonFormatter"}
    return {"formatters": {"generic": json_lines, "access": json_lines}}
