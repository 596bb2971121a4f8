"""Writing over HTTP: an editor files the seed article's reports and records what happens to
them after; every rejected write answers a precise problem and leaves the log where it was."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.services import services_of
from api.write_examples import body
from application.reports import ReportService
from domain.quantities import Unit, about
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.api_keys import Role, create_key
from store.event_store import EventStore
from tests.api.conftest import Keys

Client = AsyncTestClient[Litestar]
PROBLEM = "application/problem+json"


async def documented_examples(client: Client, path: str) -> list[Any]:
    """The request-body examples of POST `path`, exactly as /schema/openapi.json has them."""
    schema = (await client.get("/schema/openapi.json")).json()
    content = schema["paths"][path]["post"]["requestBody"]["content"]
    (media,) = content.values()
    examples: list[Any] = media["schema"]["examples"]
    return examples


def filing(slug: str) -> dict[str, Any]:
    """A seed-article report as a client sends it, without an id (the service picks one)."""
    demo = next(demo for demo in demo_reports() if demo.slug == slug)
    return body(msgspec.structs.replace(demo.filing, report_id=None))


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = response.json()
    assert problem["type"].endswith(f"/{slug}")
    assert problem["status"] == status
    return problem


async def test_the_documented_example_files_the_800_km2_claim(
    client: Client, store: EventStore
) -> None:
    examples = await documented_examples(client, "/v1/reports")
    first = examples[0]
    assert first["claim"]["kind"] == "territory_control"
    assert first["claim"]["area"]["value"] == 800
    assert first["attribution"]["source"] == "Ukrainian General Staff source"

    response = await client.post(
        "/v1/reports", content=json.dumps(first), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["version"] == 1
    assert answer["replayed"] is False
    assert answer["position"] == await store.position() == 1
    assert response.headers["location"] == f"/v1/reports/{answer['report_id']}"
    assert response.headers["x-timeline-position"] == "1"
    assert response.headers["etag"] == '"1"'
    assert "idempotent-replayed" not in response.headers
    stored = await client.get(response.headers["location"])
    assert stored.json()["report"]["claim"]["area"]["value"] == 800


async def test_every_documented_example_is_a_valid_filing_one_per_kind(client: Client) -> None:
    examples = await documented_examples(client, "/v1/reports")
    kinds = [example["claim"]["kind"] for example in examples]
    assert len(kinds) == len(set(kinds)) == 9
    for example in examples:
        response = await client.post("/v1/reports", json=example)
        assert response.status_code == 201, response.text


async def test_a_report_lives_its_life_cycle_under_if_match(
    client: Client, store: EventStore
) -> None:
    # Given the peak holding, filed with its figure mistyped as 1,367 km²
    mistyped = filing("kursk-peak-holding")
    mistyped["claim"]["area"] = msgspec.to_builtins(about(1367, Unit.KM2))
    filed = (await client.post("/v1/reports", json=mistyped)).json()
    reports = f"/v1/reports/{filed['report_id']}"
    steps = [
        ("corroborations", '"1"'),
        ("disputes", 'W/"2"'),
        ("denials", "3"),
        ("corrections", '"4"'),
        ("retraction", "5"),
    ]
    for number, (step, if_match) in enumerate(steps, start=2):
        (example,) = await documented_examples(client, f"/v1/reports/{{report_id}}/{step}")
        response = await client.post(
            f"{reports}/{step}", json=example, headers={"If-Match": if_match}
        )
        assert response.status_code == 201, (step, response.text)
        assert response.json()["version"] == number
        assert response.headers["etag"] == f'"{number}"'
        assert response.headers["x-timeline-position"] == str(await store.position())

    report = (await client.get(reports)).json()["report"]
    assert report["claim"]["area"]["value"] == 1376
    assert report["verification"] == "retracted"
    # A retracted report takes nothing more, whatever the version.
    head = await store.position()
    again = await client.post(
        f"{reports}/corroborations",
        json={"by": {"source": "Reuters", "side": "third_party"}},
        headers={"If-Match": "6"},
    )
    assert_problem(again, 409, "report-retracted")
    assert await store.position() == head


async def test_a_stale_version_is_412_and_writes_nothing(client: Client, store: EventStore) -> None:
    filed = (await client.post("/v1/reports", json=filing("kursk-current-holding"))).json()
    reports = f"/v1/reports/{filed['report_id']}"
    dispute = {"by": {"source": "Russian Defence Ministry", "side": "russia"}, "reason": "less"}
    first = await client.post(f"{reports}/disputes", json=dispute, headers={"If-Match": "1"})
    assert first.status_code == 201
    head = await store.position()

    stale = await client.post(f"{reports}/disputes", json=dispute, headers={"If-Match": '"1"'})

    problem = assert_problem(stale, 412, "stale-version")
    assert problem["expected_version"] == 1
    assert problem["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    assert await store.position() == head


async def test_if_match_missing_is_428_and_malformed_is_400(
    client: Client, store: EventStore
) -> None:
    filed = (await client.post("/v1/reports", json=filing("kursk-current-holding"))).json()
    reports = f"/v1/reports/{filed['report_id']}"
    retract = {"reason": "filed twice"}
    head = await store.position()

    missing = await client.post(f"{reports}/retraction", json=retract)

    problem = assert_problem(missing, 428, "if-match-required")
    assert "If-Match" in problem["detail"]
    assert f"GET {reports}" in problem["detail"]
    assert "ETag" in problem["detail"]
    arabic_indic_one = "\u0661".encode()
    for malformed in (b"abc", b'"1", "2"', b"*", b"0", b"-1", b'"1', b"1.0", arabic_indic_one):
        response = await client.post(
            f"{reports}/retraction", json=retract, headers=[(b"If-Match", malformed)]
        )
        assert_problem(response, 400, "invalid-if-match")
    assert await store.position() == head


async def test_an_unknown_report_is_404(client: Client, store: EventStore) -> None:
    corroboration = {"by": {"source": "Reuters", "side": "third_party"}}
    unknown = "/v1/reports/5f0c7c2e-5d7e-4a36-9a3c-6a4b1d2f0e11/corroborations"
    response = await client.post(unknown, json=corroboration, headers={"If-Match": "1"})
    assert_problem(response, 404, "report-not-found")
    not_an_id = await client.post(
        "/v1/reports/kursk/corroborations", json=corroboration, headers={"If-Match": "1"}
    )
    assert not_an_id.status_code in (400, 404), not_an_id.text
    assert not_an_id.headers["content-type"].startswith(PROBLEM)
    assert await store.position() == 0


async def test_a_report_read_with_min_position_waits_for_it_and_one_beyond_the_log_is_400(
    client: Client, store: EventStore
) -> None:
    filed = await client.post("/v1/reports", json=filing("kursk-current-holding"))
    assert filed.status_code == 201, filed.text
    where, position = filed.headers["location"], filed.json()["position"]

    read = await client.get(where, params={"min_position": position})
    beyond = await client.get(where, params={"min_position": position + 1})

    assert (read.status_code, read.json()["position"]) == (200, position)
    assert_problem(beyond, 400, "invalid-parameter")
    assert beyond.json()["field"] == "min_position"


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    client: Client, store: EventStore
) -> None:
    key = {"Idempotency-Key": "kursk-800-km2 2024-11-23"}
    report = filing("kursk-current-holding")
    first = await client.post("/v1/reports", json=report, headers=key)
    assert first.status_code == 201
    head = await store.position()

    # The same body, spelled differently: the same command.
    retry = await client.post(
        "/v1/reports",
        content=json.dumps(report, indent=2),
        headers={**key, "Content-Type": "application/json"},
    )

    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == {**first.json(), "replayed": True}
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["x-timeline-position"] == first.headers["x-timeline-position"]
    assert await store.position() == head

    other = filing("kursk-peak-holding")
    reused = await client.post("/v1/reports", json=other, headers=key)
    assert_problem(reused, 422, "idempotency-key-reused")
    assert await store.position() == head


async def test_two_api_keys_sending_the_same_idempotency_key_each_file_their_own_report(
    client: Client, pool: asyncpg.Pool, store: EventStore
) -> None:
    # Two desks whose tools both number their requests from 1, filing the same claim
    kyiv = Keys.header((await create_key(pool, "Kyiv desk", Role.EDITOR)).secret)
    lviv = Keys.header((await create_key(pool, "Lviv desk", Role.EDITOR)).secret)
    first_request = {"Idempotency-Key": "request-1"}
    report = filing("kursk-current-holding")

    from_kyiv = await client.post("/v1/reports", json=report, headers={**kyiv, **first_request})
    from_lviv = await client.post("/v1/reports", json=report, headers={**lviv, **first_request})

    # Then each desk's report is filed: Lviv is not handed Kyiv's answer
    assert from_kyiv.status_code == from_lviv.status_code == 201
    assert "idempotent-replayed" not in from_lviv.headers
    assert from_lviv.json()["report_id"] != from_kyiv.json()["report_id"]
    assert (from_kyiv.json()["position"], from_lviv.json()["position"]) == (1, 2)

    # And each desk's retry gets its own first answer, writing nothing more
    for desk, first in ((kyiv, from_kyiv), (lviv, from_lviv)):
        retry = await client.post("/v1/reports", json=report, headers={**desk, **first_request})
        assert retry.status_code == 201
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == {**first.json(), "replayed": True}
    assert await store.position() == 2


async def test_a_retried_life_cycle_step_is_answered_once(
    client: Client, store: EventStore
) -> None:
    filed = (await client.post("/v1/reports", json=filing("berdiansk-strike"))).json()
    step = f"/v1/reports/{filed['report_id']}/corroborations"
    telegram = body(demo_reports()[-1].follow_ups[0])
    headers = {"If-Match": "1", "Idempotency-Key": "berdiansk-telegram"}
    first = await client.post(step, json=telegram, headers=headers)
    assert first.status_code == 201
    head = await store.position()

    # The first answer landed but was lost; the retry still names version 1.
    retry = await client.post(step, json=telegram, headers=headers)

    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["version"] == first.json()["version"] == 2
    assert await store.position() == head


# A control character never reaches this check: every header is refused with one (the
# catalogue in test_bad_input_catalogue.py); UTF-8 is sent as bytes, as a server passes it.
@pytest.mark.parametrize("key", [b"", b"k" * 201, b"tab\there", "Kursk-é".encode()])
async def test_a_malformed_idempotency_key_is_400(
    client: Client, store: EventStore, key: bytes
) -> None:
    response = await client.post(
        "/v1/reports", json=filing("kursk-current-holding"), headers={b"Idempotency-Key": key}
    )
    problem = assert_problem(response, 400, "invalid-idempotency-key")
    assert "200 printable ASCII" in problem["detail"]
    assert await store.position() == 0


async def test_the_longest_idempotency_key_is_accepted(client: Client) -> None:
    key = "Kursk ~ " + "k" * 192
    response = await client.post(
        "/v1/reports", json=filing("kursk-current-holding"), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text


def _with(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed: dict[str, Any] = json.loads(json.dumps(document))
    *parents, last = path.split(".")
    target = changed
    for name in parents:
        target = target[name]
    target[last] = value
    return changed


KURSK_800 = filing("kursk-current-holding")
BAD_BODIES = [
    pytest.param(
        b'{"claim": {"kind": "territory_control",', 400, "malformed-json", "body", id="truncated"
    ),
    pytest.param(b"not json", 400, "malformed-json", "body", id="not-json"),
    pytest.param(b"[]", 422, "invalid-report", "body", id="array"),
    pytest.param(
        json.dumps(_with(KURSK_800, "claim.area.value", "800")).encode(),
        422,
        "invalid-report",
        "claim.area.value",
        id="figure-as-text",
    ),
    pytest.param(
        json.dumps(_with(KURSK_800, "claim.area.hectares", 80_000)).encode(),
        422,
        "invalid-report",
        "claim.area.hectares",
        id="unknown-field",
    ),
    pytest.param(
        json.dumps(_with(KURSK_800, "claim.kind", "territory_swap")).encode(),
        422,
        "invalid-report",
        "claim.kind",
        id="unknown-kind",
    ),
    pytest.param(
        json.dumps(_with(KURSK_800, "occurred.on", "2024-11-31")).encode(),
        422,
        "invalid-report",
        "occurred.on",
        id="no-such-day",
    ),
    pytest.param(
        json.dumps(_with(KURSK_800, "claim.area.value", -800)).encode(),
        422,
        "invalid-report",
        "claim.area.value",
        id="negative-area",
    ),
    pytest.param(
        json.dumps(_with(KURSK_800, "occurred.on", "2024-12-01")).encode(),
        422,
        "invalid-report",
        "occurred",
        id="happened-after-reported",
    ),
    pytest.param(
        json.dumps({k: v for k, v in KURSK_800.items() if k != "attribution"}).encode(),
        422,
        "invalid-report",
        "attribution",
        id="no-source",
    ),
]


@pytest.mark.parametrize(("content", "status", "slug", "field"), BAD_BODIES)
async def test_bad_input_is_a_precise_problem_and_writes_nothing(
    client: Client, store: EventStore, *, content: bytes, status: int, slug: str, field: str
) -> None:
    response = await client.post(
        "/v1/reports", content=content, headers={"Content-Type": "application/json"}
    )

    problem = assert_problem(response, status, slug)
    assert problem["field"] == field
    assert problem["errors"][0]["field"] == field
    assert problem["detail"].startswith(f"{field}: ")
    assert await store.position() == 0


async def test_an_empty_body_is_422(client: Client, store: EventStore) -> None:
    response = await client.post("/v1/reports", content=b"")
    problem = assert_problem(response, 422, "invalid-request")
    assert problem["detail"] == "body: the request has no body, and this route needs one"
    assert await store.position() == 0


async def test_an_oversized_body_is_413(client: Client, store: EventStore) -> None:
    huge = _with(KURSK_800, "notes", "x" * 1_048_576)
    response = await client.post("/v1/reports", json=huge)
    problem = assert_problem(response, 413, "body-too-large")
    assert "1,048,576 bytes" in problem["detail"]
    assert await store.position() == 0


async def test_a_report_id_already_filed_is_409(client: Client, store: EventStore) -> None:
    chosen = {**KURSK_800, "report_id": "acef43f9-0d52-53ec-b6c7-1c6020bb3419"}
    assert (await client.post("/v1/reports", json=chosen)).status_code == 201
    head = await store.position()
    again = await client.post("/v1/reports", json=chosen)
    problem = assert_problem(again, 409, "report-exists")
    assert problem["field"] == "report_id"
    assert await store.position() == head


async def test_writing_needs_the_editor_role(client: Client, keys: Keys, store: EventStore) -> None:
    reader = await client.post("/v1/reports", json=KURSK_800, headers=Keys.header(keys.reader))
    assert_problem(reader, 403, "forbidden")
    nobody = await client.post("/v1/reports", json=KURSK_800, headers={"Authorization": ""})
    assert_problem(nobody, 401, "unauthorized")
    assert await store.position() == 0
    admin = await client.post("/v1/reports", json=KURSK_800, headers=Keys.header(keys.admin))
    assert admin.status_code == 201


async def test_every_write_route_is_documented(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    writes = {
        (path, operation["operationId"]): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method == "post" and path.startswith("/v1/reports")
    }
    assert sorted(operation_id for _, operation_id in writes) == [
        "correctReport",
        "corroborateReport",
        "denyReport",
        "disputeReport",
        "fileReport",
        "fileReports",
        "retractReport",
    ]
    for (path, _), operation in writes.items():
        assert operation["tags"] == ["reports"]
        assert operation["summary"]
        assert operation["description"]
        assert "201" in operation["responses"], path
        for status in ("400", "401", "403", "413", "422"):
            assert PROBLEM in operation["responses"][status]["content"], (path, status)
        if "{report_id}" in path:
            for status in ("404", "409", "412", "428"):
                assert PROBLEM in operation["responses"][status]["content"], (path, status)
        content = operation["requestBody"]["content"]
        (media,) = content.values()
        assert media["schema"]["examples"], path


async def test_an_unreachable_database_is_a_503_and_reads_keep_answering_from_memory(
    client: AsyncTestClient[Litestar], store: EventStore
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    assert (await client.get("/v1/holdings", params={"min_position": head})).status_code == 200
    # The service's own pool goes away (the database is down, as far as the app can tell).
    services_of(client.app).pool.terminate()
    write = await client.post("/v1/reports", json=_kursk_example_for_outage())
    assert write.status_code == 503
    assert write.headers["retry-after"] == "5"
    assert write.headers["content-type"].startswith("application/problem+json")
    assert "nothing was written" in write.json()["detail"]
    assert await store.position() == head
    read = await client.get("/v1/holdings")
    assert read.status_code == 200
    assert read.headers["x-timeline-position"] == str(head)


def _kursk_example_for_outage() -> dict[str, object]:
    filing = demo_reports()[0].filing
    return msgspec.to_builtins(msgspec.structs.replace(filing, report_id=None))  # type: ignore[no-any-return]
