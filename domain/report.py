"""The report aggregate: an immutable state folded from its events, and the use-case
functions that check the rules and return the next event."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import assert_never, cast
from uuid import UUID, uuid4

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim
from domain.errors import InvalidReport, NothingToCorrect, ReportIsRetracted
from domain.events import (
    EVENT_TYPES,
    DomainEvent,
    ReportCorrected,
    ReportCorroborated,
    ReportDenied,
    ReportDisputed,
    ReportEvent,
    ReportFiled,
    ReportRetracted,
)
from domain.limits import checked
from domain.occurrence import Occurrence, validate_occurrence, validate_reported


class Report(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A claim as it stands after every event about it."""

    # gc=False: a view keeps one per report of the log, and nothing a report holds (frozen,
    # gc=False structs, tuples of them, times) can lead back to it, so the cyclic collector
    # need not scan them.

    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime
    claim: Claim
    attribution: Attribution
    occurred: Occurrence
    reported: Occurrence
    caveats: tuple[Caveat, ...]
    notes: str | None
    verification: Verification
    corroborated_by: tuple[Attribution, ...] = ()
    disputed_by: tuple[Attribution, ...] = ()
    denied_by: tuple[Attribution, ...] = ()
    corrections: int = 0

    @property
    def kind(self) -> str:
        return str(self.claim.__struct_config__.tag)

    @property
    def is_retracted(self) -> bool:
        return self.verification is Verification.RETRACTED


# --- rules -------------------------------------------------------------------------------


def _validate_filing(
    claim: Claim,
    attribution: Attribution,
    occurred: Occurrence,
    reported: Occurrence,
    caveats: Iterable[Caveat],
) -> None:
    claim.validate()
    attribution.validate("attribution")
    validate_occurrence(occurred, "occurred")
    validate_reported(reported, "reported")
    for index, caveat in enumerate(caveats):
        caveat.validate(f"caveats[{index}]")
    if _began_after_reported(occurred, reported):
        raise InvalidReport(
            "occurred", "a report cannot describe something that began after it was reported"
        )


@functools.lru_cache(maxsize=4_096)  # a batch's rows share their dates
def _began_after_reported(occurred: Occurrence, reported: Occurrence) -> bool:
    began, reported_by = occurred.earliest(), reported.latest()
    return began is not None and reported_by is not None and began >= reported_by


def _require_live(report: Report, action: str) -> None:
    if report.is_retracted:
        raise ReportIsRetracted(report.id, action)


def _require_text(value: str, field: str) -> None:
    if not value.strip():
        raise InvalidReport(field, "must not be blank")


# --- use cases: each returns the next event, or raises ---------------------------------


def file_report(
    *,
    claim: Claim,
    attribution: Attribution,
    occurred: Occurrence,
    reported: Occurrence,
    caveats: tuple[Caveat, ...] = (),
    notes: str | None = None,
    verification: Verification = Verification.UNVERIFIED,
    report_id: UUID | None = None,
) -> ReportFiled:
    # The text and list rules first, so that every rule after sees the text as stored (NFC).
    event = checked(
        ReportFiled(
            originator_id=report_id or uuid4(),
            originator_version=1,
            claim=claim,
            attribution=attribution,
            occurred=occurred,
            reported=reported,
            caveats=caveats,
            notes=notes,
            verification=verification,
        )
    )
    _validate_filing(event.claim, event.attribution, occurred, reported, event.caveats)
    if verification is Verification.RETRACTED:
        raise InvalidReport("verification", "a report cannot be filed already retracted")
    return event


def corroborate(report: Report, *, by: Attribution, note: str | None = None) -> ReportCorroborated:
    _require_live(report, "corroborated")
    event = checked(
        ReportCorroborated(
            originator_id=report.id, originator_version=report.version + 1, by=by, note=note
        )
    )
    event.by.validate("by")
    return event


def dispute(report: Report, *, by: Attribution, reason: str) -> ReportDisputed:
    _require_live(report, "disputed")
    event = checked(
        ReportDisputed(
            originator_id=report.id, originator_version=report.version + 1, by=by, reason=reason
        )
    )
    event.by.validate("by")
    _require_text(event.reason, "reason")
    return event


def deny(report: Report, *, by: Attribution, statement: str) -> ReportDenied:
    _require_live(report, "denied")
    event = checked(
        ReportDenied(
            originator_id=report.id,
            originator_version=report.version + 1,
            by=by,
            statement=statement,
        )
    )
    event.by.validate("by")
    _require_text(event.statement, "statement")
    return event


def correct(
    report: Report,
    *,
    claim: Claim,
    reason: str,
    occurred: Occurrence | None = None,
    by: Attribution | None = None,
    reported: Occurrence | None = None,
) -> ReportCorrected:
    _require_live(report, "corrected")
    event = checked(
        ReportCorrected(
            originator_id=report.id,
            originator_version=report.version + 1,
            claim=claim,
            reason=reason,
            occurred=occurred,
            by=by,
            reported=reported,
        )
    )
    _require_text(event.reason, "reason")
    if claim.__struct_config__.tag != report.claim.__struct_config__.tag:
        raise InvalidReport(
            "claim.kind",
            f"a correction keeps the report's kind ({report.kind}); "
            "retract the report and file a new one instead",
        )
    _validate_filing(
        event.claim, report.attribution, occurred or report.occurred, report.reported, ()
    )
    if event.by is not None:
        event.by.validate("by")
    _validate_published(report, reported)
    if event.claim == report.claim and (occurred is None or occurred == report.occurred):
        raise NothingToCorrect(report.id)
    return event


def retract(
    report: Report,
    *,
    reason: str,
    by: Attribution | None = None,
    reported: Occurrence | None = None,
) -> ReportRetracted:
    _require_live(report, "retracted")
    event = checked(
        ReportRetracted(
            originator_id=report.id,
            originator_version=report.version + 1,
            reason=reason,
            by=by,
            reported=reported,
        )
    )
    _require_text(event.reason, "reason")
    if event.by is not None:
        event.by.validate("by")
    _validate_published(report, reported)
    return event


def _validate_published(report: Report, reported: Occurrence | None) -> None:
    """A correction or retraction published at a known time: an instant or a day, not
    before the report it changes was published."""
    if reported is None:
        return
    validate_reported(reported, "reported")
    published, changed = report.reported.earliest(), reported.latest()
    if published is not None and changed is not None and changed <= published:
        raise InvalidReport(
            "reported", "a change to a report cannot be published before the report itself"
        )


# --- the fold ---------------------------------------------------------------------------


def evolve(report: Report | None, event: ReportEvent) -> Report:
    """Apply one event to the report (None before it was filed)."""
    if isinstance(event, ReportFiled):
        return Report(
            id=event.originator_id,
            version=event.originator_version,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            claim=event.claim,
            attribution=event.attribution,
            occurred=event.occurred,
            reported=event.reported,
            caveats=event.caveats,
            notes=event.notes,
            verification=event.verification,
        )
    if report is None:
        raise ValueError(f"event {type(event).__name__} arrived before the report was filed")
    moved = {"version": event.originator_version, "modified_on": event.timestamp}
    match event:
        case ReportCorroborated(by=by):
            return msgspec.structs.replace(
                report,
                **moved,
                verification=Verification.CORROBORATED,
                corroborated_by=(*report.corroborated_by, by),
            )
        case ReportDisputed(by=by):
            return msgspec.structs.replace(
                report,
                **moved,
                verification=Verification.DISPUTED,
                disputed_by=(*report.disputed_by, by),
            )
        case ReportDenied(by=by):
            return msgspec.structs.replace(
                report,
                **moved,
                verification=Verification.DENIED,
                denied_by=(*report.denied_by, by),
            )
        case ReportCorrected(claim=claim, occurred=occurred):
            return msgspec.structs.replace(
                report,
                **moved,
                claim=claim,
                occurred=occurred or report.occurred,
                corrections=report.corrections + 1,
            )
        case ReportRetracted():
            return msgspec.structs.replace(report, **moved, verification=Verification.RETRACTED)
        case _:
            assert_never(event)


def project_report(report: Report | None, events: Iterable[DomainEvent]) -> Report | None:
    """Fold events into a report; the signature the eventsourcing repository expects."""
    for event in events:
        if not isinstance(event, EVENT_TYPES):
            raise TypeError(f"{type(event).__name__} is not an event of a report")
        report = evolve(report, cast(ReportEvent, event))
    return report
