"""Export the log, restore it into an empty store: the same events at the same positions with
the same chain hashes, and the same views once rebuilt. A file changed after export, or a
store that already holds events, is refused with nothing written."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from application.reports import ReportService
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.row_stores import read_rows
from seed.demo import load_demo
from store.chain import chain_head, verify_chain
from store.event_store import EventStore
from store.export import RestoreRefused, export_log, restore_log
from tests.conftest import TABLES, scratch_database
from tests.seed_values import berdiansk_strike, filed, kursk_story

ROWS = """
SELECT notification_id, originator_id, originator_version, topic, state, recorded_at, chain_hash
FROM timeline_events ORDER BY notification_id
"""
SEQUENCE = "SELECT last_value, is_called FROM timeline_events_notification_id_seq"


@pytest.fixture(scope="module")
def other_database_url(server_url: str) -> Iterator[str]:
    """A second database, migrated, to restore into."""
    with scratch_database(server_url, "timeline_test_restore") as url:
        yield url


@pytest.fixture
async def empty_store(other_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(other_database_url, min_size=1, max_size=4)
    assert pool is not None
    await pool.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    yield pool
    await pool.close()


async def exported(pool: asyncpg.Pool, through: int | None = None) -> bytes:
    out = io.BytesIO()
    await export_log(pool, out, through=through)
    return out.getvalue()


def chunks_of(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


async def views(pool: asyncpg.Pool) -> dict[str, list[tuple[str, str]]]:
    await rebuild_views(pool, list(VIEWS.values()))
    return {name: await read_rows(pool, name) for name in VIEWS}


async def demo_and_more(store: EventStore) -> None:
    """The seed article's reports, then the Kursk story and a strike in one batch."""
    await load_demo(ReportService(store))
    await store.append([*kursk_story(), filed(berdiansk_strike())])


def edited_line(data: bytes, position: int, old: bytes, new: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    assert old in lines[position - 1]
    lines[position - 1] = lines[position - 1].replace(old, new, 1)
    return b"".join(lines)


# --- a faithful round trip ----------------------------------------------------------------


async def test_a_restored_log_is_the_exported_one_row_for_row_and_view_for_view(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    # Given the demo and a batch recorded, and exported
    await demo_and_more(store)
    data = await exported(pool)
    assert len(data.splitlines()) == 20

    # When the file is restored into an empty store, read in awkward small chunks
    restored = await restore_log(empty_store, chunks_of(data, 777))

    # Then it holds the same events at the same positions, times and chain hashes
    assert restored.describe() == (await verify_chain(pool)).describe()
    assert await empty_store.fetch(ROWS) == await pool.fetch(ROWS)
    assert await chain_head(empty_store) == await chain_head(pool)
    assert (await verify_chain(empty_store)).intact

    # And, once rebuilt, the same views
    assert await views(empty_store) == await views(pool)

    # And the restored log carries on where the original stopped, still linked
    appended = await EventStore(empty_store).append([filed(berdiansk_strike())])
    assert appended.last_position == 21
    assert (await verify_chain(empty_store)).describe().startswith("intact up to position 21")


async def test_each_line_carries_the_stored_event_byte_for_byte(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    await demo_and_more(store)
    data = await exported(pool)
    stored = await pool.fetch(ROWS)

    first = json.loads(data.splitlines()[0])
    assert list(first) == [
        "position",
        "recorded_at",
        "report_id",
        "version",
        "type",
        "state",
        "chain_hash",
    ]
    assert first["type"] == "report-filed"
    assert first["chain_hash"] == stored[0]["chain_hash"].hex()
    for line, row in zip(data.splitlines(), stored, strict=True):
        assert b',"state":' + row["state"] + b',"chain_hash":' in line


async def test_an_export_up_to_a_position_restores_that_much(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    await demo_and_more(store)

    restored = await restore_log(empty_store, [await exported(pool, through=6)])

    assert restored.describe() == (await verify_chain(pool, through=6)).describe()
    assert await empty_store.fetch(ROWS) == (await pool.fetch(ROWS))[:6]


async def test_an_empty_log_exports_and_restores_as_nothing(
    pool: asyncpg.Pool, empty_store: asyncpg.Pool
) -> None:
    data = await exported(pool)
    assert data == b""
    restored = await restore_log(empty_store, [data])
    assert (restored.intact, restored.events) == (True, 0)


# --- refusals: nothing written ------------------------------------------------------------


async def test_a_figure_edited_in_the_file_is_refused_at_its_position(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    # Given an export in which someone turned the 800 km² figure at position 4 into 900
    await demo_and_more(store)
    data = await exported(pool)
    position = next(n for n, line in enumerate(data.splitlines(), 1) if b'"value":800.0,' in line)
    tampered = edited_line(data, position, b'"value":800.0,', b'"value":900.0,')
    sequence = await empty_store.fetchrow(SEQUENCE)

    # When it is restored, it is refused, naming the position
    with pytest.raises(RestoreRefused) as refused:
        await restore_log(empty_store, [tampered])
    assert str(refused.value).startswith(
        f"the file's chain does not verify: broken at position {position}: "
        "its content or chain hash changed after it was linked"
    )

    # And nothing was written, not even a position drawn
    assert await empty_store.fetchval("SELECT count(*) FROM timeline_events") == 0
    assert await empty_store.fetchrow(SEQUENCE) == sequence


async def test_a_chain_hash_edited_in_the_file_is_refused(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    await demo_and_more(store)
    data = await exported(pool)
    chain_hash = json.loads(data.splitlines()[11])["chain_hash"].encode()
    tampered = edited_line(data, 12, chain_hash, b"0" * 64)

    with pytest.raises(RestoreRefused, match="broken at position 12"):
        await restore_log(empty_store, [tampered])
    assert await empty_store.fetchval("SELECT count(*) FROM timeline_events") == 0


async def test_a_line_removed_from_the_file_is_refused_naming_the_missing_position(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    await demo_and_more(store)
    lines = (await exported(pool)).splitlines(keepends=True)
    del lines[9]

    with pytest.raises(RestoreRefused, match="broken at position 10: position 10 missing"):
        await restore_log(empty_store, [b"".join(lines)])
    assert await empty_store.fetchval("SELECT count(*) FROM timeline_events") == 0


async def test_a_file_that_is_not_an_export_is_refused_naming_the_line(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    await demo_and_more(store)
    lines = (await exported(pool)).splitlines(keepends=True)
    lines[2] = b'{"position": "three"}\n'

    with pytest.raises(RestoreRefused, match=r"^line 3 is not an exported event: Expected `int`"):
        await restore_log(empty_store, [b"".join(lines)])
    assert await empty_store.fetchval("SELECT count(*) FROM timeline_events") == 0


async def test_a_store_that_holds_events_is_refused_and_left_as_it_was(
    pool: asyncpg.Pool, store: EventStore, empty_store: asyncpg.Pool
) -> None:
    # Given an export, and a store that already recorded a strike of its own
    await demo_and_more(store)
    data = await exported(pool)
    await EventStore(empty_store).append([filed(berdiansk_strike())])
    before = await empty_store.fetch(ROWS)

    # When the export is restored into it, it is refused and the store is untouched
    with pytest.raises(RestoreRefused, match=r"^the store already holds events"):
        await restore_log(empty_store, [data])
    assert await empty_store.fetch(ROWS) == before
