"""The stored facts about reports: a public, forever schema.

Each event type has a stable stored name (`stored_name`) that does not depend on the module
path, so code can move without rewriting the log. Fields are only ever added with defaults;
a change of meaning is a new event type. When a field's shape must change, bump
`class_version` and add a static `upcast_vN_vN+1(state: dict) -> None` that rewrites the
stored state of version N into version N+1 (the eventsourcing library's convention).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim
from domain.limits import FEW, FreeText
from domain.occurrence import Occurrence


def _now() -> datetime:
    return datetime.now(UTC)


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A fact about one report. `timestamp` is when the event object was made; the time it
    was recorded is set by the store and is not part of the event."""

    stored_name: ClassVar[str]
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: datetime = msgspec.field(default_factory=_now)


class ReportFiled(DomainEvent, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    stored_name = "report-filed"

    claim: Claim
    attribution: Attribution
    occurred: Occurrence
    reported: Occurrence
    caveats: Annotated[tuple[Caveat, ...], FEW] = ()
    notes: FreeText | None = None
    verification: Verification = Verification.UNVERIFIED


class ReportCorroborated(DomainEvent, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    stored_name = "report-corroborated"

    by: Attribution
    note: FreeText | None = None


class ReportDisputed(DomainEvent, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    stored_name = "report-disputed"

    by: Attribution
    reason: FreeText


class ReportDenied(DomainEvent, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    stored_name = "report-denied"

    by: Attribution
    statement: FreeText


class ReportCorrected(DomainEvent, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """New values supersede the report's old ones; the old ones stay in the log."""

    stored_name = "report-corrected"

    claim: Claim
    reason: FreeText
    occurred: Occurrence | None = None
    by: Attribution | None = None
    # When the correction was published (a dataset's later release), where known: what
    # `reported_by` answers by. Without it, the correction counts from the report's own
    # reported time.
    reported: Occurrence | None = None


class ReportRetracted(DomainEvent, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    stored_name = "report-retracted"

    reason: FreeText
    by: Attribution | None = None
    reported: Occurrence | None = None  # when the withdrawal was published, as a correction's


ReportEvent = (
    ReportFiled
    | ReportCorroborated
    | ReportDisputed
    | ReportDenied
    | ReportCorrected
    | ReportRetracted
)

EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    ReportFiled,
    ReportCorroborated,
    ReportDisputed,
    ReportDenied,
    ReportCorrected,
    ReportRetracted,
)
