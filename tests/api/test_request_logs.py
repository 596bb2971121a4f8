"""Request logs as a log collector reads them (`TIMELINE_LOG_FORMAT=json`): one JSON object per
line, with the request id the caller sent (or one made, and returned), the key's id and never
the key."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import ApiSettings
from cli.logs import REQUESTS_LOGGER, JsonFormatter, LogFormat, log_format_from_environment
from store.api_keys import Role, create_key
from store.database import Database
from tests.api.conftest import Keys

PROBLEM = "application/problem+json"


@pytest.fixture
def request_log() -> Iterator[io.StringIO]:
    """The request log as `TIMELINE_LOG_FORMAT=json` writes it, into a buffer."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(REQUESTS_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_json_request_logs_carry_the_callers_request_id_and_the_keys_id_never_the_key(
    pool: asyncpg.Pool, service_url: str, request_log: io.StringIO
) -> None:
    desk = await create_key(pool, "Kursk desk", Role.READER)
    app = create_app(Database(url=service_url, embedded=False), settings=ApiSettings())
    async with AsyncTestClient(app=app, timeout=30) as client:
        damage = await client.get(
            "/v1/damage",
            headers={**Keys.header(desk.secret), "X-Request-ID": "desk-kursk-2024-11-23"},
        )
        unauthorised = await client.get("/v1/holdings", headers={"X-Request-ID": "x" * 500})

    assert damage.status_code == 200
    assert damage.headers["x-request-id"] == "desk-kursk-2024-11-23"
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"].startswith(PROBLEM)
    made = unauthorised.headers["x-request-id"]
    assert made
    assert made != "x" * 500  # too long to be taken: one was made

    lines = [json.loads(line) for line in request_log.getvalue().splitlines()]
    by_id = {line["request_id"]: line for line in lines}
    logged = by_id["desk-kursk-2024-11-23"]
    assert logged["logger"] == REQUESTS_LOGGER
    assert logged["level"] == "info"
    assert {"time", "message"} <= logged.keys()
    assert logged["key_id"] == str(desk.key.id)
    assert (logged["method"], logged["route"], logged["status"]) == ("GET", "/v1/damage", 200)
    assert logged["duration_ms"] >= 0
    assert by_id[made]["status"] == 401
    assert by_id[made]["key_id"] is None
    assert desk.secret not in request_log.getvalue()


def test_the_log_format_is_text_by_default_and_a_typo_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TIMELINE_LOG_FORMAT", raising=False)
    assert log_format_from_environment() is LogFormat.TEXT
    monkeypatch.setenv("TIMELINE_LOG_FORMAT", "JSON")
    assert log_format_from_environment() is LogFormat.JSON
    monkeypatch.setenv("TIMELINE_LOG_FORMAT", "jsonl")
    with pytest.raises(ValueError, match="TIMELINE_LOG_FORMAT"):
        log_format_from_environment()
