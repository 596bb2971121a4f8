"""Auditors over HTTP: the head to publish, and a verification that names the break."""

from __future__ import annotations

import asyncpg

from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Client, Keys


async def test_head_and_verify_agree_on_an_intact_log(
    client: Client, keys: Keys, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    reader = Keys.header(keys.reader)
    head = (await client.get("/v1/audit/head", headers=reader)).json()
    assert head["position"] == 16
    assert len(head["head_hash"]) == 64
    verified = await client.get("/v1/audit/verify", headers=reader)
    assert verified.status_code == 200
    body = verified.json()
    assert body["verification"]["intact"] is True
    assert body["verification"]["head_hash"] == head["head_hash"]
    assert body["summary"] == f"intact up to position 16, head hash {head['head_hash']}"
    partial = (await client.get("/v1/audit/verify", params={"until_position": 5})).json()
    assert partial["verification"]["position"] == 5


async def test_verify_names_the_edited_position(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    await load_demo(ReportService(store))
    refused = None
    try:
        await pool.execute("UPDATE timeline_events SET state = state WHERE notification_id = 7")
    except asyncpg.PostgresError as error:
        refused = error
    assert refused is not None
    assert "append-only" in str(refused)
    await pool.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
    try:
        edited = await pool.execute(
            "UPDATE timeline_events "
            "SET state = convert_to(replace(convert_from(state, 'UTF8'), '800', '900'), 'UTF8') "
            "WHERE notification_id = 4 AND position('800' in convert_from(state, 'UTF8')) > 0"
        )
        assert edited == "UPDATE 1"
    finally:
        await pool.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")
    body = (await client.get("/v1/audit/verify")).json()
    assert body["verification"]["intact"] is False
    assert body["verification"]["broken_at"] == 4
    assert body["verification"]["position"] == 3
    assert "4" in body["summary"]
