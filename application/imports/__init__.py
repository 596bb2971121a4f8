"""Importers for the field's datasets: each format reads its file into rows (`rows`), and
one importer turns rows into filings, corrections and retractions (`importer`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

from application.imports import acled, economist, general_staff, ucdp
from application.imports.rows import BadFile, DatasetRows


class Format(StrEnum):
    GS_LOSSES = "gs-losses"
    ECONOMIST_ESTIMATES = "economist-estimates"
    ISW_AREA = "isw-area"
    ACLED = "acled"
    UCDP_GED = "ucdp-ged"


def read_format(
    format: Format,
    paths: list[Path],
    release: date | None,
    *,
    release_name: str | None = None,
    deleted: Path | None = None,
) -> list[DatasetRows]:
    """The datasets in `paths`, read as `format`; raises BadFile for a file that cannot be
    read at all (rows that cannot be read are in each dataset's `bad`). `release_name` names
    the release (a complete one, for ucdp-ged); `deleted` is ACLED's list of deleted events."""
    vintage = release_name or (None if release is None else release.isoformat())
    if deleted is not None and format is not Format.ACLED:
        raise BadFile("--deleted is ACLED's list of deleted events: for acled only")
    if release_name is None and format is Format.UCDP_GED and release is not None:
        raise BadFile("ucdp-ged names its release with --release (e.g. 25.1), not --vintage")
    if format is Format.GS_LOSSES:
        return general_staff.read(paths, vintage)
    if len(paths) != 1:
        raise BadFile(f"{format} takes one file, got {len(paths)}")
    if format is Format.ACLED:
        return [acled.read(paths[0], deleted, vintage)]
    if format is Format.UCDP_GED:
        return [ucdp.read(paths[0], release_name)]
    if format is Format.ECONOMIST_ESTIMATES:
        return [economist.read_estimates(paths[0], vintage)]
    return [economist.read_area(paths[0], vintage)]
