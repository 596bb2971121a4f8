"""Migration 0008: idempotency keys get the scope of the caller that sent them. Keys recorded
before it answer any caller, as they did (so `timeline demo` on an older data directory still
adds nothing); keys recorded after it answer only their own caller."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from domain.events import DomainEvent
from store import migrate
from store.event_store import LOCAL_SCOPE, EventStore, Idempotency
from tests.conftest import scratch_database
from tests.integration.old_schemas import append_before_scopes, run_on
from tests.seed_values import berdiansk_strike, filed, kursk_held_now

KYIV_DESK = "0b6f3c1e-5d1a-4c8e-9a57-2f1d4e6b8c10"  # API key ids
LVIV_DESK = "7c2e9a44-13b8-4f0d-8e61-5a9d0c3b7f22"


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "timeline_test_scopes", migrated=False) as url:
        yield url


def replayed(url: str, event: DomainEvent, key: Idempotency) -> bool:
    async def append(pool: asyncpg.Pool) -> bool:
        return (await EventStore(pool).append([event], idempotency=key)).replayed

    return run_on(url, append)


def test_keys_from_before_scopes_answer_anyone_and_new_keys_only_their_sender(
    fresh_database: str,
) -> None:
    url = fresh_database
    kursk = filed(kursk_held_now())
    old_key = Idempotency(key="demo:kursk-current-holding", fingerprint=b"kursk")
    # Given a filing recorded with a key before keys had scopes
    migrate.upgrade(url, "0007")
    assert not run_on(url, lambda pool: append_before_scopes(pool, [kursk], old_key))

    # When the migration runs
    migrate.upgrade(url)

    # Then that key still answers, whoever sends it
    for scope in (LOCAL_SCOPE, KYIV_DESK):
        assert replayed(url, kursk, Idempotency(old_key.key, old_key.fingerprint, scope=scope))
    # And a new key is its sender's own: two desks sending one key both write
    for desk in (KYIV_DESK, LVIV_DESK):
        strike = filed(berdiansk_strike())  # each desk's tool gives its filing a new id
        assert not replayed(url, strike, Idempotency("request-1", b"berdiansk", scope=desk))
    assert run_on(url, lambda pool: EventStore(pool).position()) == 3

    # And going back down keeps one record per key, and the old append works again
    migrate.downgrade(url, "0007")
    keys = run_on(url, lambda pool: pool.fetchval("SELECT count(*) FROM timeline_idempotency_keys"))
    assert keys == 2
    assert run_on(url, lambda pool: append_before_scopes(pool, [kursk], old_key))
