"""The request bodies the README's session posts (`examples/`) are the documented ones, and
answer as the README shows."""

from __future__ import annotations

import json
from pathlib import Path

from litestar.testing import AsyncTestClient

from api.write_examples import filing_examples
from store.event_store import EventStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str) -> dict[str, object]:
    document: dict[str, object] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return document


def test_the_kursk_800_example_is_the_first_documented_filing() -> None:
    documented = json.loads(json.dumps(filing_examples()[0]))  # tuples as JSON lists
    assert _example("kursk-800.json") == documented


async def test_the_kursk_800_example_files_a_report(
    client: AsyncTestClient,  # type: ignore[type-arg]
    store: EventStore,
) -> None:
    response = await client.post("/v1/reports", json=_example("kursk-800.json"))
    assert response.status_code == 201
    assert await store.position() == 1


async def test_the_kursk_800_example_on_november_31_is_refused_naming_the_date(
    client: AsyncTestClient,  # type: ignore[type-arg]
    store: EventStore,
) -> None:
    bad = _example("kursk-800-on-november-31.json")
    # The same report but for its date, which does not exist.
    assert {**bad, "occurred": None} == {**_example("kursk-800.json"), "occurred": None}
    response = await client.post("/v1/reports", json=bad)
    assert response.status_code == 422
    assert response.json()["field"] == "occurred.on"
    assert await store.position() == 0
