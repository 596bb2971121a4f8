"""The bad-input catalogue: every way a careless client or an attacker has sent what the
service must refuse (issue 10: NUL characters that stalled the views, years that were 500s,
positions PostgreSQL cannot hold, notes of a million characters, bodies that were not JSON).

One line per case. Each is answered with a precise problem (status, type, the field at
fault) and leaves the log where it was: the seed article's 800 km² of Kursk, filed once.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.write_examples import body
from seed.kursk_article import demo_reports
from store.event_store import EventStore
from tests.api.conftest import Keys

Client = AsyncTestClient[Litestar]
PROBLEM = "application/problem+json"
JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}
KURSK_800_ID = UUID("5c0f1d2e-8a00-4b6e-9d3c-000000000800")
INT64_OVERFLOW = 2**63  # 9223372036854775808: one past the largest PostgreSQL bigint
NUL = "\u0000"


def filing(slug: str, **changes: Any) -> dict[str, Any]:
    """A seed-article report as a client sends it, with `changes` at dotted paths."""
    demo = next(demo for demo in demo_reports() if demo.slug == slug)
    document = body(msgspec.structs.replace(demo.filing, report_id=None))
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = document
        for name in parents:
            node = node[name]
        node[last] = value
    return document


def line(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode() + b"\n"


@dataclasses.dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    problem: str  # the last part of the problem's type
    field: str | None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    role: str = "editor"


def post(document: Any, status: int, problem: str, field: str | None, **more: Any) -> Case:
    return Case("POST", "/v1/reports", status, problem, field, json=document, **more)


CORRECTIONS = f"/v1/reports/{KURSK_800_ID}/corrections"
HOLDING = {"If-Match": "1", **JSON}
MONTH = {"precision": "month", "month": 8}

CATALOGUE = {
    # NUL characters, which PostgreSQL text cannot hold, in the texts the views key on.
    "nul-in-region": post(
        filing("kursk-current-holding", claim__region=f"Kursk{NUL}Oblast"),
        422, "invalid-report", "claim.region",
    ),
    "nul-in-damage-category": post(
        filing("port-facilities-damaged", claim__category=f"port{NUL}"),
        422, "invalid-report", "claim.category",
    ),
    "nul-in-front-direction": post(
        filing("kurakhove-advance", claim__direction=f"Kurakhove{NUL}"),
        422, "invalid-report", "claim.direction",
    ),
    "nul-in-deployment-theatre": post(
        filing("kursk-north-korean-troops", claim__theatre=f"{NUL}Kursk Oblast"),
        422, "invalid-report", "claim.theatre",
    ),
    "nul-in-notes": post(
        filing("kursk-current-holding", notes=f"hold{NUL}"), 422, "invalid-report", "notes"
    ),
    # Other control characters; line breaks belong in free text only.
    "escape-in-source": post(
        filing("kursk-current-holding", attribution__source="Reuters\u001b[31m"),
        422, "invalid-report", "attribution.source",
    ),
    "line-feed-in-a-name": post(
        filing("kursk-current-holding", claim__actor="Ukraine\nRussia"),
        422, "invalid-report", "claim.actor",
    ),
    "carriage-return-in-notes": post(
        filing("kursk-current-holding", notes="line\r\nbreak"), 422, "invalid-report", "notes"
    ),
    "c1-control-in-caveat": post(
        filing("kursk-current-holding", caveats=[{"party": "Reuters\u0085", "stance": "denied"}]),
        422, "invalid-report", "caveats[0].party",
    ),
    "nul-in-strike-damage": post(
        filing("berdiansk-strike", claim__effects__damage=["port", f"pier{NUL}"]),
        422, "invalid-report", "claim.effects.damage[1]",
    ),
    # Sizes: a million characters of notes, an over-long name, URL and list.
    "a-million-characters-of-notes": post(
        filing("kursk-current-holding", notes="Kursk " * 166_667), 422, "invalid-report", "notes"
    ),
    "region-of-201-characters": post(
        filing("kursk-current-holding", claim__region="K" * 201),
        422, "invalid-report", "claim.region",
    ),
    "url-of-2001-characters": post(
        filing("kursk-current-holding", attribution__url="https://reuters.com/" + "k" * 1981),
        422, "invalid-report", "attribution.url",
    ),
    "51-objectives": post(
        filing("kursk-incursion", claim__objectives=["stem Russian attacks"] * 51),
        422, "invalid-report", "claim.objectives",
    ),
    "51-caveats": post(
        filing("kursk-current-holding", caveats=[{"party": "Reuters", "stance": "denied"}] * 51),
        422, "invalid-report", "caveats",
    ),
    # Years a month cannot have, which were 500s.
    **{
        f"month-of-year-{year}": post(
            filing("kursk-incursion", occurred={**MONTH, "year": year}),
            422, "invalid-report", "occurred.year",
        )
        for year in (0, -1, 10_000, 2**31, 2**70)
    },
    "month-at-the-end-of-the-calendar": post(
        filing("kursk-incursion", occurred={**MONTH, "year": 9999, "month": 12}),
        422, "invalid-report", "occurred",
    ),
    "instant-before-year-1-in-utc": post(
        filing(
            "kursk-incursion",
            occurred={"precision": "instant", "at": "0001-01-01T00:30:00+01:00"},
        ),
        422, "invalid-report", "occurred",
    ),
    # Figures: infinite (1e400 reads as infinity) or beyond any honest count.
    "infinite-area": post(
        None, 422, "invalid-report", "claim.area.value",
        content=json.dumps(filing("kursk-current-holding", claim__area__value=0.5))
        .replace('"value": 0.5', '"value": 1e400')
        .encode(),
        headers=JSON,
    ),
    "ten-billion-troops": post(
        filing("kursk-north-korean-troops", claim__troops__value=1e10),
        422, "invalid-report", "claim.troops.value",
    ),
    "latitude-beyond-the-pole": post(
        filing("berdiansk-strike", claim__place__latitude=91.0),
        422, "invalid-report", "claim.place.latitude",
    ),
    # The same rules for every entry point: the NDJSON batch, and the life-cycle.
    "ten-megabytes-of-notes-in-a-batch": Case(
        "POST", "/v1/reports:batch", 422, "invalid-batch", "notes",
        content=line(filing("kursk-current-holding"))
        + line(filing("kursk-current-holding", notes="Kursk " * 1_747_627)),
        headers=NDJSON,
    ),
    "nul-in-a-batch-line": Case(
        "POST", "/v1/reports:batch", 422, "invalid-batch", "claim.region",
        content=line(filing("kursk-current-holding", claim__region=NUL)),
        headers=NDJSON,
    ),
    "nul-in-a-correction": Case(
        "POST", CORRECTIONS, 422, "invalid-report", "claim.region",
        json={"claim": filing("kursk-current-holding")["claim"] | {"region": f"Kursk{NUL}"},
              "reason": "mistyped"},
        headers=HOLDING,
    ),
    "dispute-reason-of-10001-characters": Case(
        "POST", f"/v1/reports/{KURSK_800_ID}/disputes", 422, "invalid-report", "reason",
        json={"by": {"source": "Russian Defence Ministry", "side": "russia"},
              "reason": "k" * 10_001},
        headers=HOLDING,
    ),
    "nul-in-a-retraction-reason": Case(
        "POST", f"/v1/reports/{KURSK_800_ID}/retraction", 422, "invalid-report", "reason",
        json={"reason": f"filed twice{NUL}"}, headers=HOLDING,
    ),
    # Bodies that are not what the route reads.
    "text-plain-body": Case(
        "POST", "/v1/reports", 415, "unsupported-media-type", "Content-Type",
        content=line(filing("kursk-current-holding")), headers={"Content-Type": "text/plain"},
    ),
    "body-without-content-type": Case(
        "POST", "/v1/reports", 415, "unsupported-media-type", "Content-Type",
        content=line(filing("kursk-current-holding")),
    ),
    "json-to-the-batch": Case(
        "POST", "/v1/reports:batch", 415, "unsupported-media-type", "Content-Type",
        content=line(filing("kursk-current-holding")), headers=JSON,
    ),
    "form-to-the-keys": Case(
        "POST", "/v1/admin/keys", 415, "unsupported-media-type", "Content-Type",
        content=b"name=desk&role=reader",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        role="admin",
    ),
    # API keys' names.
    "nul-in-a-key-name": Case(
        "POST", "/v1/admin/keys", 422, "invalid-request", "name",
        json={"name": f"desk{NUL}", "role": "reader"}, role="admin",
    ),
    "key-name-of-201-characters": Case(
        "POST", "/v1/admin/keys", 422, "invalid-request", "name",
        json={"name": "d" * 201, "role": "reader"}, role="admin",
    ),
    # Positions PostgreSQL cannot hold, and questions that cannot be answered.
    **{
        f"{name}-beyond-int64": Case(
            "GET", f"{path}?{name}={INT64_OVERFLOW}", 400, "invalid-request",
            f"query parameter {name}", role="reader",
        )
        for name, path in (
            ("until_position", "/v1/audit/verify"),
            ("position", "/v1/holdings"),
            ("min_position", "/v1/timeline"),
            ("after", "/v1/stream"),
            ("limit", "/v1/timeline"),
        )
    },
    "position-of-5000-digits": Case(
        "GET", "/v1/audit/verify?until_position=" + "9" * 5000, 400, "invalid-request",
        "query parameter until_position", role="reader",
    ),
    "known-at-year-0": Case(
        "GET", "/v1/holdings?known_at=0000-01-01T00:00:00Z", 400, "invalid-parameter",
        "known_at", role="reader",
    ),
    "known-at-and-position": Case(
        "GET", "/v1/holdings?known_at=2024-11-24T00:00:00Z&position=1", 400,
        "contradictory-parameters", "known_at, position", role="reader",
    ),
    "as-of-month-13": Case(
        "GET", "/v1/damage?as_of=2024-13-01", 400, "invalid-parameter", "as_of", role="reader"
    ),
    # Headers: too large, or holding a control character.
    "a-megabyte-header": Case(
        "GET", "/v1/holdings", 431, "headers-too-large", None,
        headers={"X-Padding": "k" * 1_048_576}, role="reader",
    ),
    "control-character-in-authorization": Case(
        "GET", "/v1/holdings", 400, "invalid-header", "Authorization",
        headers={"Authorization": "Bearer tl_\u0001"},
    ),
}  # fmt: skip


@pytest.fixture
async def kursk_800(client: Client, store: EventStore) -> int:
    """The 800 km² of Kursk, filed once, with a known id; the log's position after it."""
    document = filing("kursk-current-holding", report_id=str(KURSK_800_ID))
    response = await client.post("/v1/reports", json=document)
    assert response.status_code == 201, response.text
    return await store.position()


@pytest.mark.parametrize("case", CATALOGUE.values(), ids=CATALOGUE.keys())
async def test_bad_input_is_a_precise_problem_and_changes_nothing(
    client: Client, store: EventStore, keys: Keys, kursk_800: int, case: Case
) -> None:
    headers = {"Authorization": f"Bearer {getattr(keys, case.role)}", **case.headers}
    response = await client.request(
        case.method, case.path, json=case.json, content=case.content, headers=headers
    )

    assert response.status_code == case.status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"].endswith(f"/{case.problem}")
    assert problem["status"] == case.status
    assert problem.get("field") == case.field
    assert await store.position() == kursk_800
