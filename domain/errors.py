"""Errors the domain raises when a report or a life-cycle step breaks its rules."""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Base of every rule the domain enforces."""


class InvalidReport(DomainError):
    """A report (or a correction) is not valid; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ReportIsRetracted(DomainError):
    """A retracted report takes no further corrections or assessments."""

    def __init__(self, report_id: UUID, action: str) -> None:
        super().__init__(f"report {report_id} is retracted and cannot be {action}")
        self.report_id = report_id
        self.action = action


class NothingToCorrect(DomainError):
    """A correction that changes nothing would only add noise to the record."""

    def __init__(self, report_id: UUID) -> None:
        super().__init__(f"the correction of report {report_id} changes nothing")
        self.report_id = report_id
