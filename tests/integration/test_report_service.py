"""The report use cases over the real store: retries never duplicate, stale editors are
told to reload, a retracted report stays retracted, and none of that writes half a thing."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import pytest

from application.commands import CorrectReport
from application.reports import ReportService
from domain.attribution import Verification
from domain.errors import ReportIsRetracted, ReportNotFound, VersionConflict
from store.event_store import EventStore, IdempotencyKeyReused
from tests.seed_values import (
    berdiansk_strike,
    corroborate_by_analysts,
    dispute_by_moscow,
    kursk_held_now,
    kursk_held_now_with_share_lost,
    port_damage_since_july_2023,
    retract_unconfirmed,
)

Rows = list[tuple[object, ...]]


async def everything_stored(pool: asyncpg.Pool) -> tuple[Rows, Rows]:
    """Every row of the log and of the idempotency keys, to prove nothing changed."""
    events = await pool.fetch("SELECT * FROM timeline_events ORDER BY notification_id")
    keys = await pool.fetch("SELECT * FROM timeline_idempotency_keys ORDER BY key")
    return [tuple(row) for row in events], [tuple(row) for row in keys]


@pytest.fixture
def reports(store: EventStore) -> ReportService:
    return ReportService(store)


async def test_filing_twice_under_one_key_files_one_report(
    reports: ReportService, pool: asyncpg.Pool
) -> None:
    # Given an editor filed the Kursk figure, and the connection dropped before the answer
    first = await reports.file(kursk_held_now(), idempotency_key="kursk-2024-11-23")
    before = await everything_stored(pool)

    # When the client retries the same filing under the same key
    retried = await reports.file(kursk_held_now(), idempotency_key="kursk-2024-11-23")

    # Then it is told about the report it already filed, and there is still only one
    assert retried.replayed is True
    assert retried.events == first.events
    assert await everything_stored(pool) == before
    report = await reports.get(first.events[0].report_id)
    assert report.attribution.source == "Ukrainian General Staff source"


async def test_a_key_reused_for_another_filing_is_refused(
    reports: ReportService, pool: asyncpg.Pool
) -> None:
    # Given the Berdiansk strike filed under a key
    await reports.file(berdiansk_strike(), idempotency_key="reuters-2024-11-23-3")
    before = await everything_stored(pool)

    # When the port damage tally is filed under the same key by mistake
    with pytest.raises(IdempotencyKeyReused):
        await reports.file(port_damage_since_july_2023(), idempotency_key="reuters-2024-11-23-3")

    # Then nothing is written
    assert await everything_stored(pool) == before


async def test_a_retried_corroboration_gets_its_first_answer_after_the_report_moved_on(
    reports: ReportService, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report, corroborated by analysts under a key
    report_id = (await reports.file(kursk_held_now())).events[0].report_id
    first = await reports.apply(
        report_id, corroborate_by_analysts(), expected_version=1, idempotency_key="isw-kursk"
    )

    # And since then Moscow disputed it and the source retracted it
    await reports.apply(report_id, dispute_by_moscow(), expected_version=2)
    await reports.apply(report_id, retract_unconfirmed(), expected_version=3)
    before = await everything_stored(pool)

    # When the analysts' client retries its corroboration, as it first sent it
    retried = await reports.apply(
        report_id, corroborate_by_analysts(), expected_version=1, idempotency_key="isw-kursk"
    )

    # Then it gets the first answer, not a conflict nor a "retracted" error, and nothing
    # is written
    assert (retried.replayed, retried.events) == (True, first.events)
    assert retried.events[0].version == 2
    assert await everything_stored(pool) == before
    assert (await reports.get(report_id)).verification is Verification.RETRACTED

    # But the same key with another command is refused
    with pytest.raises(IdempotencyKeyReused):
        await reports.apply(
            report_id, dispute_by_moscow(), expected_version=1, idempotency_key="isw-kursk"
        )


async def test_an_editor_who_read_an_old_version_is_told_to_reload(
    reports: ReportService, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report, which analysts corroborated (version 2)
    report_id = (await reports.file(kursk_held_now())).events[0].report_id
    await reports.apply(report_id, corroborate_by_analysts(), expected_version=1)
    before = await everything_stored(pool)

    # When an editor who saw version 1 records Moscow's dispute
    with pytest.raises(VersionConflict) as conflict:
        await reports.apply(
            report_id, dispute_by_moscow(), expected_version=1, idempotency_key="moscow-kursk"
        )

    # Then the conflict says where the report is, and nothing is written
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert await everything_stored(pool) == before


async def test_of_two_editors_racing_on_one_version_exactly_one_wins(
    reports: ReportService, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report at version 1
    report_id = (await reports.file(kursk_held_now())).events[0].report_id

    # When analysts corroborate and Moscow disputes at the same moment, both from version 1
    outcomes = await asyncio.gather(
        reports.apply(report_id, corroborate_by_analysts(), expected_version=1),
        reports.apply(report_id, dispute_by_moscow(), expected_version=1),
        return_exceptions=True,
    )

    # Then one is recorded as version 2 and the other is a conflict
    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "AppendResult",
        "VersionConflict",
    ]
    history = await reports.history(report_id)
    assert [r.event.originator_version for r in history.events] == [1, 2]


async def test_a_retracted_report_takes_no_correction_or_corroboration(
    reports: ReportService, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report, retracted by its source
    report_id = (await reports.file(kursk_held_now())).events[0].report_id
    await reports.apply(report_id, retract_unconfirmed(), expected_version=1)
    before = await everything_stored(pool)

    # When an editor corrects it, or analysts corroborate it
    correction = CorrectReport(
        claim=kursk_held_now_with_share_lost(), reason="the source gave the share lost too"
    )
    with pytest.raises(ReportIsRetracted, match="cannot be corrected"):
        await reports.apply(report_id, correction, idempotency_key="kursk-correction")
    with pytest.raises(ReportIsRetracted, match="cannot be corroborated"):
        await reports.apply(report_id, corroborate_by_analysts(), expected_version=2)

    # Then both are refused and nothing is written, not even the key
    assert await everything_stored(pool) == before


async def test_filing_many_is_all_or_nothing(reports: ReportService, pool: asyncpg.Pool) -> None:
    # Given the Berdiansk strike already filed under a chosen id
    berdiansk_id = uuid4()
    await reports.file(berdiansk_strike(report_id=berdiansk_id))
    before = await everything_stored(pool)

    # When an import files the Kursk figure, the port tally and that strike again
    with pytest.raises(VersionConflict):
        await reports.file_many(
            [
                kursk_held_now(),
                port_damage_since_july_2023(),
                berdiansk_strike(report_id=berdiansk_id),
            ]
        )

    # Then none of the three is filed
    assert await everything_stored(pool) == before


async def test_the_history_tells_the_story_and_the_report_its_outcome(
    reports: ReportService,
) -> None:
    # Given the Kursk report corroborated and then corrected
    report_id = (await reports.file(kursk_held_now())).events[0].report_id
    await reports.apply(report_id, corroborate_by_analysts(), expected_version=1)
    corrected = await reports.apply(
        report_id,
        CorrectReport(claim=kursk_held_now_with_share_lost(), reason="the share lost, in full"),
        expected_version=2,
    )

    # When we read it back
    history = await reports.history(report_id)

    # Then we see each step at its position, and where it stands now
    assert [type(r.event).__name__ for r in history.events] == [
        "ReportFiled",
        "ReportCorroborated",
        "ReportCorrected",
    ]
    assert history.events[-1].position == corrected.last_position
    assert history.report.version == 3
    assert history.report.verification is Verification.CORROBORATED
    assert history.report.claim == kursk_held_now_with_share_lost()
    assert history.report.corrections == 1


async def test_a_report_never_filed_is_not_found(reports: ReportService) -> None:
    missing = uuid4()
    with pytest.raises(ReportNotFound):
        await reports.get(missing)
    with pytest.raises(ReportNotFound):
        await reports.apply(missing, corroborate_by_analysts())
