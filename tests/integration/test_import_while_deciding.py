"""A large import on a real PostgreSQL sends its events while its last rows are still being
decided, and writes its rows' fingerprints meanwhile: still one append, all of it or none,
and fingerprints kept only beside an append that committed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

from application.imports import Format, importer, sending
from application.imports.identity import row_report_id
from application.imports.importer import ImportAnswer, Outcome
from application.imports.importing import import_files
from application.imports.rows import SourceFile
from domain.errors import VersionConflict
from domain.events import ReportFiled
from store import append_parts
from store.chain import verify_chain
from store.event_store import EventStore
from tests.event_datasets import PLEKHOVO_CLASH, acled_file
from tests.integration.test_import_fingerprints import RowsRead
from tests.seed_values import filed, kursk_held_now

ROWS = 3 * append_parts.APPEND_PART + 500


def _clashes(count: int, *, broken_last: bool = False) -> tuple[str, ...]:
    """`count` clashes near Plekhovo, RUS100000 onwards; the last one, if `broken_last`, off
    the globe (a row read, and refused only once decided: the place's rule)."""
    rows = [
        PLEKHOVO_CLASH.replace("RUS1001", f"RUS{100_000 + number}").format(fatalities=number % 7)
        for number in range(count)
    ]
    if broken_last:
        rows[-1] = rows[-1].replace("51.1892,35.1469", "95.1892,35.1469")
    return tuple(rows)


class PartsSent:
    """How many parts of a large append were sent: in all, and before the last row was
    decided."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.while_deciding = 0
        send, plan = append_parts.PartsAppend.send, importer._plan

        async def counted(parts: append_parts.PartsAppend, *args: Any) -> None:
            self.count += 1
            await send(parts, *args)

        def planned(*args: Any, **kwargs: Any) -> Iterator[None]:
            yield from plan(*args, **kwargs)
            self.while_deciding = self.count

        monkeypatch.setattr(append_parts.PartsAppend, "send", counted)
        monkeypatch.setattr(importer, "_plan", planned)


@pytest.fixture
def sent_at_once(monkeypatch: pytest.MonkeyPatch) -> PartsSent:
    """Parts sent as soon as one is decided: a store assumed to take one event a second is
    never ahead of the checks."""
    monkeypatch.setattr(sending, "STORE_RATE", 1)
    return PartsSent(monkeypatch)


async def _import(store: EventStore, path: Path) -> ImportAnswer:
    return await import_files(store, Format.ACLED, [SourceFile.read(path)])


async def _count(pool: asyncpg.Pool, table: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {table}"))


async def test_an_import_sent_while_its_rows_are_decided_is_one_append(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path, sent_at_once: PartsSent
) -> None:
    # Given the log holds one report already
    await store.append([filed(kursk_held_now())])
    export = acled_file(tmp_path, "acled.csv", _clashes(ROWS))

    # When an export of three parts and a bit is imported, sent as its rows are decided
    answer = await _import(store, export)

    # Then the first part went while the rest was decided
    assert sent_at_once.while_deciding >= 1
    assert sent_at_once.count == 4
    # and every row is a report, after the one before, in the order of the file, all
    # recorded at one time, the chain intact
    assert answer.counts["added"] == ROWS
    assert answer.last_position == ROWS + 1
    stored = await store.read_log(after=1, limit=ROWS + 1)
    assert [recorded.position for recorded in stored] == list(range(2, ROWS + 2))
    assert [recorded.event.originator_id for recorded in stored] == [
        row_report_id("acled", f"RUS{100_000 + number}") for number in range(ROWS)
    ]
    assert all(isinstance(recorded.event, ReportFiled) for recorded in stored)
    assert len({recorded.recorded_at for recorded in stored}) == 1
    assert (await verify_chain(pool)).intact
    # and every row's fingerprint is kept: importing it again reads none of them
    assert await _count(pool, "timeline_import_rows") == ROWS


async def test_a_bad_last_row_leaves_nothing_written_though_parts_were_sent(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path, sent_at_once: PartsSent
) -> None:
    export = acled_file(tmp_path, "acled.csv", _clashes(ROWS, broken_last=True))

    answer = await _import(store, export)

    # Parts went to the log while the rows were decided, then the last row was refused:
    assert sent_at_once.while_deciding >= 1
    refused = answer.refused
    assert [(row.row, row.field) for row in refused] == [
        (f"RUS{100_000 + ROWS - 1}", "claim.place.latitude")
    ]
    assert not answer.written
    # nothing of the append, and no fingerprint, was kept
    assert await _count(pool, "timeline_events") == 0
    assert await _count(pool, "timeline_import_rows") == 0
    # and the log takes the next append at once
    assert (await store.append([filed(kursk_held_now())])).last_position >= 1


async def test_an_import_refused_by_the_log_keeps_no_fingerprint(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an editor who files the first clash's report by hand while the import decides
    # its rows (after the importer read the log)
    export = acled_file(tmp_path, "acled.csv", _clashes(3))
    real = importer._imported_reports

    async def and_meanwhile(*args: Any, **kwargs: Any) -> Any:
        found = await real(*args, **kwargs)
        first = row_report_id("acled", "RUS100000")
        by_hand = msgspec.structs.replace(filed(kursk_held_now()), originator_id=first)
        await store.append([by_hand])
        return found

    monkeypatch.setattr(importer, "_imported_reports", and_meanwhile)

    # When the import appends, then it is refused as a conflict, and keeps no fingerprint
    with pytest.raises(VersionConflict):
        await _import(store, export)
    assert await _count(pool, "timeline_import_rows") == 0
    assert await _count(pool, "timeline_events") == 1


async def test_with_a_pool_of_one_connection_the_fingerprints_are_written_after_the_append(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lone = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert lone is not None
    try:
        store = EventStore(lone)
        export = acled_file(tmp_path, "acled.csv", _clashes(4))
        await _import(store, export)
        rows_read = RowsRead(monkeypatch)

        again = await _import(store, export)

        assert again.counts["unchanged"] == 4
        assert rows_read.count == 0
    finally:
        await lone.close()


async def test_a_changed_rows_fingerprint_replaces_the_one_kept(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an export imported, then a revision of it in which one clash's toll changed
    await _import(store, acled_file(tmp_path, "acled.csv", _clashes(4)))
    revised = _clashes(4)
    revised = (*revised[:2], revised[2].replace(",2,,1732600920", ",9,,1732600920"), revised[3])
    export = acled_file(tmp_path, "acled-revised.csv", revised)
    corrected = await _import(store, export)
    rows_read = RowsRead(monkeypatch)

    # When the revision is imported again
    again = await _import(store, export)

    # Then its changed row was a correction, whose fingerprint was kept: none is read again
    assert [row.outcome for row in corrected.rows].count(Outcome.CORRECTED) == 1
    assert again.counts["unchanged"] == 4
    assert rows_read.count == 0
