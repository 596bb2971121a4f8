"""Commands: what a caller asks for, named as imperatives. They are the unit of idempotency:
a retry with the same key must carry the same command."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim
from domain.limits import FEW, FreeText
from domain.occurrence import Occurrence


class FileReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    claim: Claim
    attribution: Attribution
    occurred: Occurrence
    reported: Occurrence
    caveats: Annotated[tuple[Caveat, ...], FEW] = ()
    notes: FreeText | None = None
    verification: Verification = Verification.UNVERIFIED
    report_id: UUID | None = None


class CorroborateReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    by: Attribution
    note: FreeText | None = None


class DisputeReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    by: Attribution
    reason: FreeText


class DenyReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    by: Attribution
    statement: FreeText


class CorrectReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    claim: Claim
    reason: FreeText
    occurred: Occurrence | None = None
    by: Attribution | None = None


class RetractReport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: FreeText
    by: Attribution | None = None


LifeCycleCommand = CorroborateReport | DisputeReport | DenyReport | CorrectReport | RetractReport
