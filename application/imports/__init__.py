"""Importers for the field's datasets: each format reads its file into rows (`rows`), and
one importer turns rows into filings, corrections and retractions (`importer`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

from application.imports import economist, general_staff
from application.imports.rows import BadFile, DatasetRows


class Format(StrEnum):
    GS_LOSSES = "gs-losses"
    ECONOMIST_ESTIMATES = "economist-estimates"
    ISW_AREA = "isw-area"


def read_format(format: Format, paths: list[Path], release: date | None) -> list[DatasetRows]:
    """The datasets in `paths`, read as `format`; raises BadFile for a file that cannot be
    read at all (rows that cannot be read are in each dataset's `bad`)."""
    vintage = None if release is None else release.isoformat()
    if format is Format.GS_LOSSES:
        return general_staff.read(paths, vintage)
    if len(paths) != 1:
        raise BadFile(f"{format} takes one file, got {len(paths)}")
    if format is Format.ECONOMIST_ESTIMATES:
        return [economist.read_estimates(paths[0], vintage)]
    return [economist.read_area(paths[0], vintage)]
