"""Who said it, who relayed it, which side they speak for, and how far it is verified."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

import msgspec

from domain.errors import InvalidReport
from domain.limits import FEW, FreeText, Name, Url
from domain.passed import once_per_value


class Side(StrEnum):
    """The side a source speaks for (not the side a claim is about)."""

    UKRAINE = "ukraine"
    RUSSIA = "russia"
    THIRD_PARTY = "third_party"
    UNKNOWN = "unknown"


class Verification(StrEnum):
    UNVERIFIED = "unverified"
    CORROBORATED = "corroborated"
    DISPUTED = "disputed"
    DENIED = "denied"
    RETRACTED = "retracted"


class Stance(StrEnum):
    """What a named party said (or did not say) about a claim at the time it was reported."""

    CONFIRMED = "confirmed"
    DENIED = "denied"
    NEITHER_CONFIRMED_NOR_DENIED = "neither_confirmed_nor_denied"
    DID_NOT_RESPOND = "did_not_respond"
    COULD_NOT_VERIFY = "could_not_verify"
    DOES_NOT_DISCLOSE = "does_not_disclose"


class Cited(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
):
    """What one of a dataset row's source columns names (ACLED's `source`, UCDP's
    `source_original`, `source_article`...), one entry per source, as the dataset wrote it."""

    field: Name
    entries: Annotated[tuple[FreeText, ...], FEW]

    @once_per_value
    def validate(self, field: str) -> None:
        if not self.field.strip():
            raise InvalidReport(f"{field}.field", "must not be blank")
        for index, entry in enumerate(self.entries):
            if not entry.strip():
                raise InvalidReport(f"{field}.entries[{index}]", "must not be blank")


class Provenance(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """Where an imported claim was taken from: the dataset that compiled it, which release
    of it, the row's own identity there, and what its licence asks of whoever shows it."""

    dataset: Name
    row: Name
    release: Name | None = None
    licence: Name | None = None
    credit: FreeText | None = None  # the attribution text the licence requires
    url: Url | None = None
    cited: Annotated[tuple[Cited, ...], FEW] = ()  # the sources the row names for itself

    # One report's own (domain/limits.py): no other report is read from the same row.
    OF_ONE_REPORT: ClassVar[bool] = True

    def validate(self, field: str) -> None:
        _validate_cited(self.cited, field)
        if not (self.dataset.strip() and self.row.strip()):
            name = "row" if self.dataset.strip() else "dataset"
            raise InvalidReport(f"{field}.{name}", "must not be blank")
        for name in ("release", "licence", "credit", "url"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise InvalidReport(f"{field}.{name}", "must not be blank; omit it instead")


@once_per_value  # a dataset's rows cite the same few sources, as one shared tuple
def _validate_cited(cited: tuple[Cited, ...], field: str) -> None:
    for index, source in enumerate(cited):
        source.validate(f"{field}.cited[{index}]")


class Attribution(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """The chain of custody of a claim: `source` said it, `outlet` relayed it, and, for an
    imported claim, `provenance` names the dataset row it was taken from."""

    source: Name
    side: Side
    outlet: Name | None = None
    url: Url | None = None
    provenance: Provenance | None = None

    def validate(self, field: str) -> None:
        if not self.source.strip():
            raise InvalidReport(f"{field}.source", "a report needs a source: who said it")
        if self.outlet is not None and not self.outlet.strip():
            raise InvalidReport(
                f"{field}.outlet", "must not be blank; omit it when nobody relayed the claim"
            )
        if self.provenance is not None:
            self.provenance.validate(f"{field}.provenance")


class Caveat(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, gc=False):
    """A party's stance recorded with the report ("Reuters could not independently verify")."""

    party: Name
    stance: Stance

    def validate(self, field: str) -> None:
        if not self.party.strip():
            raise InvalidReport(f"{field}.party", "must name who took this stance")
