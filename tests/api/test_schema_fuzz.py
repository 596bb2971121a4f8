"""Schemathesis against the OpenAPI document the service publishes: every operation, called
over real HTTP with generated valid and invalid inputs on a log holding the seed article,
answers no 5xx and nothing the document does not describe (status, content type, body).

One test per operation, named by its label (`GET /v1/holdings`). The cases are derandomized,
so CI sees the same ones on every run; `EXAMPLES_PER_OPERATION` bounds the whole at well under
a minute. The stream (`GET /v1/stream`) is left out: it never ends, so a fuzzer would wait on
it forever; tests/api/test_stream_api.py covers it.

Schemathesis's own pytest integration (`schemathesis.pytest.from_fixture`) is not used: with
pytest 9 it fails on a node attribute pytest no longer has (`_nodeid`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings, LimitSettings
from application.reports import ReportService
from seed.demo import load_demo
from seed.kursk_article import demo_report_id
from store.api_keys import Role, create_key
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Keys
from tests.api.live_server import serving
from tests.conftest import TABLES

EXAMPLES_PER_OPERATION = 25
NOT_FUZZED = {"/v1/stream"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# Ids and keys the seed has, so that a report's or a region's routes also answer 200, not
# only 404: the incursion report, corroborated once, and the region it is about.
SEED_PATH_VALUES = {"report_id": str(demo_report_id("kursk-incursion")), "region": "kursk-oblast"}
# A batch body is documented as a string of NDJSON lines: send it as is.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
# Only to read the document at collection: nothing connects until the app starts.
UNREACHABLE = Database(url="postgresql://collection@127.0.0.1:1/none", embedded=False)


def documented_operations() -> list[str]:
    paths = create_app(UNREACHABLE, settings=ApiSettings()).openapi_schema.to_schema()["paths"]
    return sorted(
        f"{method.upper()} {path}"
        for path, item in paths.items()
        if path not in NOT_FUZZED
        for method in item
        if method in HTTP_METHODS
    )


@dataclass(frozen=True)
class Target:
    schema: schemathesis.BaseSchema
    base_url: str
    admin_key: str


async def _seed(database_url: str) -> str:
    """An empty log, then the seed article's 14 reports and 2 corroborations; an admin key."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await pool.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        await load_demo(ReportService(EventStore(pool)))
        return (await create_key(pool, "schemathesis", Role.ADMIN)).secret
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def target(database_url: str) -> Iterator[Target]:
    admin_key = asyncio.run(_seed(database_url))
    # A short wait: a fuzzed min_position far ahead should cost half a second, not five.
    app = create_app(
        Database(url=database_url, embedded=False),
        settings=ApiSettings(default_wait_seconds=0.5, limits=LimitSettings.unlimited()),
    )
    with serving(app) as url:
        config = schemathesis.Config.from_dict(
            {
                "request-timeout": 10,
                # 503 is a documented answer (`views-behind`: min_position not reached in
                # time); status_code_conformance still checks each operation documents it.
                "checks": {
                    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}
                },
            }
        )
        schema = schemathesis.openapi.from_url(f"{url}/schema/openapi.json", config=config)
        yield Target(schema, url, admin_key)


@pytest.mark.parametrize("label", documented_operations())
def test_operation_answers_as_documented(target: Target, label: str) -> None:
    operation = target.schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served document"
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    known = {name: value for name, value in SEED_PATH_VALUES.items() if f"{{{name}}}" in label}
    if known:
        strategies.append(operation.as_strategy(path_parameters=known))
    cases = st.one_of(strategies)
    session = requests.Session()
    # The admin key: every operation is reachable, none stops at 403.
    session.headers.update(Keys.header(target.admin_key))

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def answers_as_documented(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=target.base_url, session=session, checks=CHECKS)

    try:
        answers_as_documented()
    finally:
        session.close()
