"""Poison events: stored events our validation would refuse, or that no code can decode,
written straight into the log through `timeline_append` (as another writer, an old version of
this service, or a hand in psql could) to prove that no single event stops a view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec

from domain.events import DomainEvent, ReportCorroborated
from domain.recorded import LogEntry
from store.event_store import entry_from_row
from store.group_commit import APPEND
from store.mapper import encode_event
from tests.seed_values import (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    berdiansk_strike,
    filed,
    kursk_held_now,
    port_damage_since_july_2023,
)


@dataclass(frozen=True, slots=True)
class Stored:
    """One event as the log stores it."""

    report_id: UUID
    version: int
    topic: str
    state: bytes


def stored(event: DomainEvent) -> Stored:
    topic, state = encode_event(event)
    return Stored(event.originator_id, event.originator_version, topic, state)


def _reshaped(event: DomainEvent, change: dict[str, Any]) -> Stored:
    """`event` stored with parts of its state replaced, bypassing every check."""
    plain = stored(event)
    state = msgspec.json.decode(plain.state)
    for path, value in change.items():
        *parents, last = path.split(".")
        at = state
        for part in parents:
            at = at[part]
        at[last] = value
    return Stored(plain.report_id, plain.version, plain.topic, msgspec.json.encode(state))


def kursk_with_nul_in_region() -> Stored:
    """800 km² of "Kursk\\0Oblast": PostgreSQL text cannot hold the holdings row's key."""
    return _reshaped(filed(kursk_held_now()), {"claim.region": "Kursk\x00Oblast"})


def port_damage_with_nul_in_category() -> Stored:
    return _reshaped(filed(port_damage_since_july_2023()), {"claim.category": "port\x00facilities"})


def berdiansk_strike_ending_in_month_13() -> Stored:
    """A strike that began on 22 November 2024 and ended in "month 13": it has a place on
    the time axis (its start), but the timeline cannot draw its row (its end is no date)."""
    return _reshaped(
        filed(berdiansk_strike()),
        {
            "occurred": {
                "precision": "interval",
                "start": {"precision": "day", "on": "2024-11-22"},
                "end": {"precision": "month", "year": 2024, "month": 13},
            }
        },
    )


def unreadable_filing() -> Stored:
    """A filing whose state is not a filing at all."""
    return Stored(uuid4(), 1, "report-filed", b'{"claim": "Kursk", "area": "a lot"}')


def corroborated(report_id: UUID, version: int) -> Stored:
    return stored(
        ReportCorroborated(
            originator_id=report_id,
            originator_version=version,
            timestamp=datetime(2024, 11, 24, tzinfo=UTC) + timedelta(hours=version),
            by=INSTITUTE_FOR_THE_STUDY_OF_WAR,
        )
    )


async def append_raw(pool: asyncpg.Pool, events: Sequence[Stored]) -> list[int]:
    """Append `events` as they are, in one transaction; returns their positions."""
    row = await pool.fetchrow(
        APPEND,
        [e.report_id for e in events],
        [e.version for e in events],
        [e.topic for e in events],
        [e.state for e in events],
        None,  # scope, key and fingerprint: no idempotency key
        None,
        None,
    )
    first: int = row[0]
    return list(range(first, first + len(events)))


async def whole_log(pool: asyncpg.Pool) -> list[LogEntry]:
    rows = await pool.fetch(
        "SELECT notification_id, recorded_at, topic, state FROM timeline_events "
        "ORDER BY notification_id"
    )
    return [entry_from_row(row) for row in rows]
