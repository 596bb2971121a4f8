"""The report use cases: file, assess, correct, retract, read back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import assert_never
from uuid import UUID

import msgspec

from application.commands import (
    CorrectReport,
    CorroborateReport,
    DenyReport,
    DisputeReport,
    FileReport,
    LifeCycleCommand,
    RetractReport,
)
from domain import report as rules
from domain.errors import ReportNotFound, VersionConflict
from domain.events import ReportEvent, ReportFiled
from domain.recorded import RecordedEvent
from domain.report import Report
from store.event_store import LOCAL_SCOPE, AppendResult, EventStore, Idempotency

_encoder = msgspec.json.Encoder(order="deterministic")


@dataclass(frozen=True, slots=True)
class ReportHistory:
    report: Report
    events: list[RecordedEvent]


class ReportService:
    """The use cases for one caller: `idempotency_scope` names it, so that its idempotency
    keys are its own (an API key's id over HTTP; LOCAL_SCOPE for the CLI and the demo)."""

    def __init__(self, store: EventStore, *, idempotency_scope: str = LOCAL_SCOPE) -> None:
        self._store = store
        self._scope = idempotency_scope

    def _idempotency(self, key: str | None, *parts: object) -> Idempotency | None:
        if key is None:
            return None
        digest = hashlib.sha256()
        for part in parts:
            digest.update(_encoder.encode(part))
            digest.update(b"\x00")
        return Idempotency(key=key, fingerprint=digest.digest(), scope=self._scope)

    async def file(
        self, command: FileReport, *, idempotency_key: str | None = None
    ) -> AppendResult:
        idempotency = self._idempotency(idempotency_key, "file", command)
        return await self._store.append([decide_filing(command)], idempotency=idempotency)

    async def file_many(
        self, commands: list[FileReport], *, idempotency_key: str | None = None
    ) -> AppendResult:
        """File every report in one transaction, or none; a retry with the same key and the
        same commands gets the first answer (the first append's ids and positions)."""
        idempotency = self._idempotency(idempotency_key, "file_many", commands)
        events = [decide_filing(command) for command in commands]
        return await self._store.append(events, idempotency=idempotency)

    async def history(self, report_id: UUID) -> ReportHistory:
        recorded = await self._store.read_report(report_id)
        report = rules.project_report(None, (r.event for r in recorded))
        if report is None:
            raise ReportNotFound(report_id)
        return ReportHistory(report=report, events=recorded)

    async def get(self, report_id: UUID) -> Report:
        return (await self.history(report_id)).report

    async def apply(
        self,
        report_id: UUID,
        command: LifeCycleCommand,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        """Record a corroboration, dispute, denial, correction or retraction.

        `expected_version` is the version the caller last saw; a stale one raises
        VersionConflict before anything is written.
        """
        idempotency = self._idempotency(
            idempotency_key, "apply", report_id, expected_version, command
        )
        # A retry whose first attempt landed gets its first answer, even though the report
        # has moved on (or been retracted) since.
        if idempotency is not None:
            replay = await self._store.replay(idempotency)
            if replay is not None:
                return replay
        report = await self.get(report_id)
        if expected_version is not None and expected_version != report.version:
            raise VersionConflict(report_id, expected=expected_version, actual=report.version)
        event = decide(report, command)
        return await self._store.append([event], idempotency=idempotency)


def decide_filing(command: FileReport, *, report_id: UUID | None = None) -> ReportFiled:
    """The event that files the report `command` describes (the domain checks its rules),
    under `report_id` if given (an importer's, worked out from the row), else the
    command's own."""
    return rules.file_report(
        claim=command.claim,
        attribution=command.attribution,
        occurred=command.occurred,
        reported=command.reported,
        caveats=command.caveats,
        notes=command.notes,
        verification=command.verification,
        report_id=command.report_id if report_id is None else report_id,
    )


def decide(report: Report, command: LifeCycleCommand) -> ReportEvent:
    """The event a life-cycle command records on `report` (the domain checks its rules)."""
    match command:
        case CorroborateReport(by=by, note=note):
            return rules.corroborate(report, by=by, note=note)
        case DisputeReport(by=by, reason=reason):
            return rules.dispute(report, by=by, reason=reason)
        case DenyReport(by=by, statement=statement):
            return rules.deny(report, by=by, statement=statement)
        case CorrectReport(claim=claim, reason=reason, occurred=occurred, by=by):
            return rules.correct(report, claim=claim, reason=reason, occurred=occurred, by=by)
        case RetractReport(reason=reason, by=by):
            return rules.retract(report, reason=reason, by=by)
        case _:
            assert_never(command)
