"""Importers for the field's datasets: each format reads its file into rows (`rows`), and
one importer turns rows into filings, corrections and retractions (`importer`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from enum import StrEnum
from pathlib import Path

from application.imports import acled, economist, general_staff, ucdp
from application.imports.rows import BadFile, DatasetRows, SourceFile
from domain.occurrence import Day


class Format(StrEnum):
    GS_LOSSES = "gs-losses"
    ECONOMIST_ESTIMATES = "economist-estimates"
    ISW_AREA = "isw-area"
    ACLED = "acled"
    UCDP_GED = "ucdp-ged"


# The datasets whose rows a re-import finds by their fingerprints (application/imports/
# fingerprints.py), by format: the scopes of their report ids.
FINGERPRINTED: dict[Format, tuple[str, ...]] = {Format.ACLED: (acled.FORMAT,)}


def read_format(
    format: Format,
    paths: list[Path],
    release: date | None,
    *,
    release_name: str | None = None,
    deleted: Path | None = None,
) -> list[DatasetRows]:
    """The datasets in the files at `paths` (see `read_files`)."""
    return read_files(
        format,
        [SourceFile.read(path) for path in paths],
        release,
        release_name=release_name,
        deleted=None if deleted is None else SourceFile.read(deleted),
    )


def read_files(
    format: Format,
    files: list[SourceFile],
    release: date | None,
    *,
    release_name: str | None = None,
    deleted: SourceFile | None = None,
    in_full: bool = True,
) -> list[DatasetRows]:
    """The datasets in `files`, read as `format`; raises BadFile for a file that cannot be
    read at all (rows that cannot be read are in each dataset's `bad`). `release` is the
    files' vintage (the date their publisher put them out); `release_name` names the
    release (a complete one, for ucdp-ged); `deleted` is ACLED's list of deleted events.
    Unless `in_full`, a format with fingerprints leaves its rows unread, for the importer
    to read those the log does not hold already (`DatasetRows.sorted_out`, then
    `in_file_order`)."""
    datasets = _read(format, files, release, release_name=release_name, deleted=deleted)
    if release is not None:
        datasets = [replace(dataset, published=Day(on=release)) for dataset in datasets]
    return [dataset.read_in_full({}) for dataset in datasets] if in_full else datasets


def _read(
    format: Format,
    files: list[SourceFile],
    release: date | None,
    *,
    release_name: str | None,
    deleted: SourceFile | None,
) -> list[DatasetRows]:
    vintage = release_name or (None if release is None else release.isoformat())
    if deleted is not None and format is not Format.ACLED:
        raise BadFile("a list of deleted events is ACLED's: acled alone takes one")
    if release_name is None and format is Format.UCDP_GED and release is not None:
        raise BadFile("ucdp-ged names its release (e.g. 25.1), not a vintage date")
    if not files:
        raise BadFile(f"{format} takes a file, got none")
    if format is Format.GS_LOSSES:
        return general_staff.read(files, vintage)
    if len(files) != 1:
        raise BadFile(f"{format} takes one file, got {len(files)}")
    if format is Format.ACLED:
        return [acled.read(files[0], deleted, vintage)]
    if format is Format.UCDP_GED:
        return [ucdp.read(files[0], release_name)]
    if format is Format.ECONOMIST_ESTIMATES:
        return [economist.read_estimates(files[0], vintage)]
    return [economist.read_area(files[0], vintage)]
