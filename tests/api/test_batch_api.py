"""Filing a batch over HTTP: the seed article's Kursk reports as NDJSON, all or none; a
batch with mistakes names every line at fault and files nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.settings import DEFAULT_MAX_BATCH_BYTES, ApiSettings
from store.event_store import EventStore
from tests.api.conftest import Keys
from tests.api.test_writes_api import (
    KURSK_800,
    Client,
    assert_problem,
    documented_examples,
    filing,
)

NDJSON = {"Content-Type": "application/x-ndjson"}
SMALL_BATCH_LIMIT = 256 * 1024


@pytest.fixture
def api_settings() -> ApiSettings:
    # A deployment that takes smaller batches than the route's own ceiling.
    return ApiSettings(default_wait_seconds=3.0, max_batch_bytes=SMALL_BATCH_LIMIT)


def ndjson(*documents: Any) -> bytes:
    return b"".join(
        (document if isinstance(document, bytes) else json.dumps(document).encode()) + b"\n"
        for document in documents
    )


async def post_batch(client: Client, content: bytes, **headers: str) -> Any:
    return await client.post("/v1/reports:batch", content=content, headers={**NDJSON, **headers})


async def test_the_documented_batch_files_the_kursk_reports_in_one_append(
    client: Client, store: EventStore
) -> None:
    (example,) = await documented_examples(client, "/v1/reports:batch")
    lines = example.splitlines()
    assert len(lines) == 7
    assert all("Kursk Oblast" in json.loads(line)["claim"].values() for line in lines)

    response = await post_batch(client, example.encode())

    assert response.status_code == 201, response.text
    answer = response.json()
    assert [filed["line"] for filed in answer["reports"]] == [1, 2, 3, 4, 5, 6, 7]
    assert [filed["position"] for filed in answer["reports"]] == [1, 2, 3, 4, 5, 6, 7]
    assert {filed["version"] for filed in answer["reports"]} == {1}
    assert answer["position"] == await store.position() == 7
    assert response.headers["x-timeline-position"] == "7"
    peak = await client.get(f"/v1/reports/{answer['reports'][1]['report_id']}")
    assert peak.json()["report"]["claim"]["area"]["value"] == 1376


async def test_empty_lines_are_skipped_and_lines_keep_their_numbers(client: Client) -> None:
    content = b"\n" + ndjson(KURSK_800) + b"  \r\n\n" + ndjson(filing("kursk-peak-holding"))
    response = await post_batch(client, content)
    assert response.status_code == 201, response.text
    assert [filed["line"] for filed in response.json()["reports"]] == [2, 5]


async def test_every_line_at_fault_is_named_and_nothing_is_filed(
    client: Client, store: EventStore
) -> None:
    occurred_after_reported = {**KURSK_800, "occurred": {"precision": "day", "on": "2024-12-01"}}
    figure_as_text = json.loads(json.dumps(KURSK_800))
    figure_as_text["claim"]["area"]["value"] = "800"
    chosen_id = {**KURSK_800, "report_id": "acef43f9-0d52-53ec-b6c7-1c6020bb3419"}
    content = ndjson(
        filing("kursk-incursion"),  # 1: fine
        b'{"claim": ',  # 2: cut short
        figure_as_text,  # 3
        {**KURSK_800, "claim": {**KURSK_800["claim"], "kind": "territory_swap"}},  # 4
        occurred_after_reported,  # 5: a rule, not the schema
        chosen_id,  # 6: fine
        chosen_id,  # 7: the same id again
    )

    response = await post_batch(client, content)

    problem = assert_problem(response, 422, "invalid-batch")
    errors = [(error["line"], error["field"]) for error in problem["errors"]]
    assert errors == [
        (2, "body"),
        (3, "claim.area.value"),
        (4, "claim.kind"),
        (5, "occurred"),
        (7, "report_id"),
    ]
    assert "malformed JSON" in problem["errors"][0]["message"]
    assert "line 6" in problem["errors"][4]["message"]
    assert problem["detail"].startswith("5 error(s) in 7 reports; nothing was filed")
    assert await store.position() == 0


@pytest.mark.parametrize("content", [b"", b"\n", b"\n  \n\r\n"])
async def test_an_empty_batch_is_422(client: Client, store: EventStore, content: bytes) -> None:
    response = await post_batch(client, content)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await store.position() == 0


async def test_more_than_ten_thousand_reports_is_413(client: Client, store: EventStore) -> None:
    response = await post_batch(client, b"{}\n" * 10_001)
    problem = assert_problem(response, 413, "batch-too-large")
    assert "10,001 reports" in problem["detail"]
    assert "at most 10,000 reports" in problem["detail"]
    assert await store.position() == 0


async def test_a_batch_larger_than_the_configured_limit_is_413(
    client: Client, store: EventStore
) -> None:
    line = json.dumps(KURSK_800).encode() + b"\n"
    response = await post_batch(client, line * (SMALL_BATCH_LIMIT // len(line) + 1))
    problem = assert_problem(response, 413, "body-too-large")
    assert "at most 262,144 bytes and 10,000 reports" in problem["detail"]
    assert await store.position() == 0


async def test_a_batch_larger_than_the_route_limit_is_413(
    client: Client, store: EventStore
) -> None:
    response = await post_batch(client, b"\n" * (DEFAULT_MAX_BATCH_BYTES + 1))
    problem = assert_problem(response, 413, "body-too-large")
    assert "16,777,216 bytes" in problem["detail"]
    assert "10,000 reports" in problem["detail"]
    assert await store.position() == 0


async def test_a_retried_batch_gets_the_first_answer(client: Client, store: EventStore) -> None:
    content = ndjson(KURSK_800, filing("kursk-peak-holding"))
    key = {"Idempotency-Key": "kursk batch of 23 November"}
    first = await post_batch(client, content, **key)
    assert first.status_code == 201
    head = await store.position()

    retry = await post_batch(client, content, **key)

    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == {**first.json(), "replayed": True}
    assert await store.position() == head
    other = await post_batch(client, ndjson(KURSK_800), **key)
    assert_problem(other, 422, "idempotency-key-reused")
    single = await client.post("/v1/reports", json=KURSK_800, headers=key)
    assert_problem(single, 422, "idempotency-key-reused")
    assert await store.position() == head


async def test_a_line_whose_id_is_already_filed_is_409(client: Client, store: EventStore) -> None:
    chosen = {**KURSK_800, "report_id": "acef43f9-0d52-53ec-b6c7-1c6020bb3419"}
    assert (await client.post("/v1/reports", json=chosen)).status_code == 201
    head = await store.position()

    response = await post_batch(client, ndjson(filing("kursk-incursion"), chosen))

    problem = assert_problem(response, 409, "report-exists")
    assert problem["errors"] == [{"field": "report_id", "message": "already filed", "line": 2}]
    assert await store.position() == head


async def test_a_batch_needs_the_editor_role(client: Client, keys: Keys, store: EventStore) -> None:
    response = await post_batch(client, ndjson(KURSK_800), **Keys.header(keys.reader))
    assert_problem(response, 403, "forbidden")
    assert await store.position() == 0
