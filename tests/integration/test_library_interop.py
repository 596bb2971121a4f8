"""The eventsourcing library's own Application shares our table: it reads what we write,
we read what it writes, and both see one log with the same notification ids."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import asyncpg
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from application.reports import ReportService
from domain import report as rules
from domain.events import DomainEvent
from domain.report import Report, project_report
from store.event_store import EventStore
from store.mapper import MsgspecMapper
from tests.seed_values import (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
    berdiansk_strike,
    corroborate_by_analysts,
    dispute_by_moscow,
    filed,
    kursk_held_now,
    kursk_story,
    port_damage_since_july_2023,
)


class TimelineLibraryApp(Application[UUID]):
    # The library names its table after the application: "timeline_events".
    name = "Timeline"


def library_env(database_url: str) -> dict[str, str]:
    """The library's settings for the database at `database_url`. An embedded server's URL
    names no host but a socket folder (`postgresql://postgres:@/db?host=/run/dir`)."""
    url = urlsplit(database_url)
    query = parse_qs(url.query)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")),
        "POSTGRES_HOST": query.get("host", [url.hostname or "localhost"])[0],
        "POSTGRES_PORT": str(url.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "CREATE_TABLE": "no",  # alembic owns the tables
        "MAPPER_TOPIC": get_topic(MsgspecMapper),
    }


@pytest.fixture
def library(pool: asyncpg.Pool, database_url: str) -> Iterator[TimelineLibraryApp]:
    """The library's application on the test database (after `pool` emptied the log)."""
    app = TimelineLibraryApp(env=library_env(database_url))
    yield app
    app.close()


def library_report(app: TimelineLibraryApp, report_id: UUID) -> Report:
    report: Report = app.repository.get(report_id, projector_func=project_report)
    return report


async def test_the_library_reads_every_event_we_write(
    library: TimelineLibraryApp, store: EventStore
) -> None:
    # Given the Kursk figure filed, corroborated and disputed, and two more reports,
    # all written by our service
    reports = ReportService(store)
    kursk_id = (await reports.file(kursk_held_now())).events[0].report_id
    await reports.file(berdiansk_strike())
    await reports.apply(kursk_id, corroborate_by_analysts(), expected_version=1)
    await reports.file(port_damage_since_july_2023())
    await reports.apply(kursk_id, dispute_by_moscow(), expected_version=2)
    our_log = await store.read_log()

    # When the library reconstructs the Kursk report from the table
    # Then it arrives at the same report we do
    assert library_report(library, kursk_id) == await reports.get(kursk_id)

    # And its notification log is our log: same ids, same order, same events
    notifications = library.recorder.select_notifications(start=None, limit=100)
    assert [n.id for n in notifications] == [r.position for r in our_log]
    assert [library.mapper.to_domain_event(n) for n in notifications] == [r.event for r in our_log]
    section = library.notification_log.select(start=our_log[2].position, limit=2)
    assert [n.id for n in section] == [r.position for r in our_log[2:4]]


async def test_we_read_every_event_the_library_writes(
    library: TimelineLibraryApp, store: EventStore
) -> None:
    # Given the Kursk story saved by the library (the filing alone, then two steps at
    # once) between two reports our store appended
    filing, corroboration, correction = kursk_story()
    before = await store.append([filed(berdiansk_strike())])
    recordings = [
        *library.save(filing),
        *library.save(corroboration, correction),
    ]
    after = await store.append([filed(port_damage_since_july_2023())])

    # When we read the report and the log
    recorded = await store.read_report(filing.originator_id)
    log = await store.read_log()

    # Then we see the library's events, at the library's notification ids, in order
    assert [r.event for r in recorded] == [filing, corroboration, correction]
    assert [r.position for r in recorded] == [rec.notification.id for rec in recordings]
    assert log[1:4] == recorded
    assert [r.position for r in log] == [
        before.last_position,
        *(rec.notification.id for rec in recordings),
        after.last_position,
    ]

    # And the table's default gave the library's events a transaction time that sits in
    # log order between ours
    assert [r.recorded_at for r in log] == sorted(r.recorded_at for r in log)
    assert before.events[0].recorded_at < recorded[0].recorded_at
    assert recorded[-1].recorded_at <= after.events[0].recorded_at

    # And our service reconstructs what the library does, and can carry the story on
    reports = ReportService(store)
    assert await reports.get(filing.originator_id) == library_report(library, filing.originator_id)
    disputed = await reports.apply(filing.originator_id, dispute_by_moscow(), expected_version=3)
    assert disputed.events[0].version == 4
    assert library_report(library, filing.originator_id).disputed_by == (RUSSIAN_DEFENCE_MINISTRY,)


async def test_the_library_cannot_overwrite_a_version_we_wrote(
    library: TimelineLibraryApp, store: EventStore
) -> None:
    # Given the Kursk report corroborated through our store (version 2)
    filing, corroboration, _ = kursk_story()
    await store.append([filing, corroboration])

    # When the library saves another version 2, decided from version 1
    dispute = rules.dispute(
        rules.evolve(None, filing), by=RUSSIAN_DEFENCE_MINISTRY, reason="denies the figure"
    )

    # Then the shared primary key refuses it
    with pytest.raises(IntegrityError):
        library.save(dispute)
    assert [r.event for r in await store.read_report(filing.originator_id)] == [
        filing,
        corroboration,
    ]


async def test_transaction_time_never_decreases_across_mixed_writers(
    library: TimelineLibraryApp, store: EventStore
) -> None:
    # Given the library and our store appending at the same time (the library from a
    # thread, since its driver blocks)
    def library_writer() -> list[int]:
        ids = []
        for _ in range(40):
            filing = filed(berdiansk_strike())
            report = rules.evolve(None, filing)
            corroboration = rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
            ids += [rec.notification.id for rec in library.save(filing, corroboration)]
        return ids

    async def our_writer() -> list[int]:
        ids = []
        for _ in range(40):
            batch: list[DomainEvent] = [
                filed(kursk_held_now()),
                filed(port_damage_since_july_2023()),
            ]
            ids += [appended.position for appended in (await store.append(batch)).events]
        return ids

    library_ids, our_ids, more_of_ours = await asyncio.gather(
        asyncio.to_thread(library_writer), our_writer(), our_writer()
    )

    # When we read the whole log
    log = await store.read_log()

    # Then it holds every event from both writers, each once
    assert sorted(r.position for r in log) == sorted(library_ids + our_ids + more_of_ours)
    assert len(log) == 240
    # (and the writers really took turns, rather than one after the other)
    written_by_library = [r.position in library_ids for r in log]
    assert sum(a != b for a, b in itertools.pairwise(written_by_library)) > 2

    # And every event has a transaction time, in the order of the log
    recorded_at = [r.recorded_at for r in log]
    assert recorded_at == sorted(recorded_at)
