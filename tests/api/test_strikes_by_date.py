"""Strikes by when they happened, newest first, a page at a time, now and in the past."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from application.reports import ReportService
from domain.occurrence import Instant
from store.event_store import EventStore
from tests.api.conftest import Client
from tests.seed_values import berdiansk_strike, retract_unconfirmed

# Berdiansk struck on three nights (the seed article's is 22 November, shortly before midnight).
NIGHTS = (
    datetime(2024, 10, 3, 21, 0, tzinfo=UTC),
    datetime(2024, 11, 22, 20, 50, tzinfo=UTC),
    datetime(2024, 9, 14, 23, 30, tzinfo=UTC),
)


async def _three_strikes(store: EventStore) -> tuple[list[UUID], int]:
    service = ReportService(store)
    ids = []
    for night in NIGHTS:
        filed = await service.file(
            msgspec.structs.replace(berdiansk_strike(), occurred=Instant(at=night))
        )
        ids.append(filed.events[0].report_id)
    return ids, await store.position()


def _nights(page: dict[str, object]) -> list[str]:
    rows: list[dict[str, dict[str, dict[str, str]]]] = page["rows"]  # type: ignore[assignment]
    return [row["row"]["occurred"]["at"] for row in rows]


async def test_strikes_come_newest_first_a_page_at_a_time(
    client: Client, store: EventStore
) -> None:
    # Given three strikes on Berdiansk, filed out of order
    _, head = await _three_strikes(store)

    # When a dashboard asks the newest two, then the next page
    first = await client.get("/v1/strikes/by-date", params={"limit": 2, "min_position": head})
    assert first.status_code == 200, first.text
    page = first.json()
    rest = (
        await client.get("/v1/strikes/by-date", params={"limit": 2, "cursor": page["next_cursor"]})
    ).json()

    # Then they come by night, the latest first, and the second page ends the list
    assert _nights(page) == ["2024-11-22T20:50:00Z", "2024-10-03T21:00:00Z"]
    assert _nights(rest) == ["2024-09-14T23:30:00Z"]
    assert rest["next_cursor"] is None
    # And each row is the row /v1/strikes gives for that report
    by_key = {row["key"]: row for row in (await client.get("/v1/strikes")).json()["rows"]}
    assert all(row == by_key[row["key"]] for row in page["rows"] + rest["rows"])
    oldest = (await client.get("/v1/strikes/by-date", params={"order": "oldest"})).json()
    assert _nights(oldest) == sorted(_nights(page) + _nights(rest))


async def test_strikes_by_date_answer_the_past_and_leave_out_what_was_withdrawn(
    client: Client, store: EventStore
) -> None:
    # Given three strikes, and the latest then retracted
    ids, before = await _three_strikes(store)
    await ReportService(store).apply(ids[1], retract_unconfirmed(), expected_version=1)
    head = await store.position()

    # When asked now, as known before the retraction, and as of 1 November 2024
    now = (await client.get("/v1/strikes/by-date", params={"min_position": head})).json()
    known = (await client.get("/v1/strikes/by-date", params={"position": before})).json()
    as_of = (await client.get("/v1/strikes/by-date", params={"as_of": "2024-11-01"})).json()
    strikes_now = (await client.get("/v1/strikes")).json()

    # Then each is the strikes of that question, newest first
    assert {row["key"] for row in now["rows"]} == {row["key"] for row in strikes_now["rows"]}
    assert len(_nights(known)) == 3
    assert _nights(known)[0] == "2024-11-22T20:50:00Z"
    assert known["position"] == before
    assert _nights(as_of)[0] == "2024-10-03T21:00:00Z"
    assert as_of["as_of"] == "2024-11-01"


async def test_strikes_by_date_as_csv_and_a_bad_cursor(client: Client, store: EventStore) -> None:
    _, head = await _three_strikes(store)
    as_csv = await client.get("/v1/strikes/by-date.csv", params={"min_position": head})
    assert as_csv.status_code == 200
    lines = as_csv.text.splitlines()
    assert lines[0].startswith("key,row.report_id,")
    assert len(lines) == 4
    bad = await client.get("/v1/strikes/by-date", params={"cursor": "berdiansk"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "cursor"
    wrong_order = await client.get("/v1/strikes/by-date", params={"order": "sideways"})
    assert wrong_order.status_code == 400
