"""Request-body examples for the OpenAPI document, taken from the seed article (Reuters,
23 November 2024) through `seed.kursk_article`, so the documented bodies are the reports the
demo files and cannot drift from the model: every one is built from typed commands.

The article records corroborations but no dispute, denial, correction or retraction; those
examples are illustrative, and say so where the routes describe them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from application.commands import (
    CorrectReport,
    DenyReport,
    DisputeReport,
    FileReport,
    RetractReport,
)
from domain.attribution import Attribution, Side
from domain.claims import Extent, TerritoryControl
from domain.quantities import Unit, about
from seed.kursk_article import GENERAL_STAFF_VIA_REUTERS, KURSK, DemoReport, demo_reports

# The example every reader sees first: "Now we control approximately 800 square kilometres."
FIRST_EXAMPLE = "kursk-current-holding"
RUSSIAN_DEFENCE_MINISTRY = Attribution(source="Russian Defence Ministry", side=Side.RUSSIA)
RUSSIAN_AUTHORITIES = Attribution(source="Russian authorities", side=Side.RUSSIA)


def body(command: msgspec.Struct) -> dict[str, Any]:
    """The JSON a client sends for `command`, leaving out optional fields at their default."""
    document: dict[str, Any] = msgspec.to_builtins(command)
    for field in msgspec.structs.fields(command):
        if field.default is msgspec.NODEFAULT:
            continue
        if document.get(field.encode_name) == msgspec.to_builtins(field.default):
            del document[field.encode_name]
    return document


def _without_id(demo: DemoReport) -> FileReport:
    # The service picks an id unless the caller wants its own; examples leave it out so that
    # posting one twice files two reports rather than a conflict.
    return msgspec.structs.replace(demo.filing, report_id=None)


def filing_examples() -> list[dict[str, Any]]:
    """One filing per claim kind, the 800 km² Kursk holding first."""
    reports = sorted(demo_reports(), key=lambda demo: demo.slug != FIRST_EXAMPLE)
    by_kind: dict[str, dict[str, Any]] = {}
    for demo in reports:
        kind = demo.filing.claim.__struct_config__.tag
        if isinstance(kind, str):
            by_kind.setdefault(kind, body(_without_id(demo)))
    return list(by_kind.values())


def batch_example() -> str:
    """The article's Kursk reports as NDJSON, one filing a line."""
    kursk = [demo for demo in demo_reports() if demo.slug.startswith("kursk-")]
    return "".join(msgspec.json.encode(body(_without_id(demo))).decode() + "\n" for demo in kursk)


def corroboration_example() -> dict[str, Any]:
    """The Ukrainian Telegram channels' account of the explosion in Berdiansk."""
    berdiansk = next(demo for demo in demo_reports() if demo.slug == "berdiansk-strike")
    return body(berdiansk.follow_ups[0])


def dispute_example() -> dict[str, Any]:
    """Illustrative: Moscow disputing the 800 km² (in the article it did not respond)."""
    return body(
        DisputeReport(
            by=RUSSIAN_DEFENCE_MINISTRY,
            reason="says Ukrainian forces hold far less of Kursk Oblast than 800 km²",
        )
    )


def denial_example() -> dict[str, Any]:
    """Illustrative: a denial of the 11,000 North Korean troops (in the article Russian
    authorities neither confirmed nor denied them)."""
    return body(
        DenyReport(
            by=RUSSIAN_AUTHORITIES,
            statement="no North Korean forces are present in Kursk Oblast",
        )
    )


def correction_example() -> dict[str, Any]:
    """Illustrative: the peak holding filed as 1,367 km², corrected to the 1,376 km² the
    General Staff source gave."""
    return body(
        CorrectReport(
            claim=TerritoryControl(
                actor="Ukraine",
                region=KURSK,
                country="RU",
                area=about(1376, Unit.KM2),
                extent=Extent.PEAK,
            ),
            reason='mistyped as 1,367 km²; the source said "about 1376 square kilometres"',
            by=GENERAL_STAFF_VIA_REUTERS,
        )
    )


def retraction_example() -> dict[str, Any]:
    """Illustrative: a report filed twice from the same paragraph of the article."""
    return body(
        RetractReport(
            reason="filed twice: the same General Staff figure from the same Reuters "
            "report of 23 November 2024 is already on record",
        )
    )
