"""Reading a dataset file into rows, each with the line it starts on, and the shapes every
format hands the importer: a row turned into a report, or a bad row and why."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import msgspec

from application.commands import FileReport
from application.imports.progress import EVERY, READING, Progress, no_progress
from domain.errors import Invalid
from domain.occurrence import Occurrence

# A field may be as long as an import may be large (api/import_routes.py): a field longer
# than a report's text may be is then a refused row, naming its line and field, where csv's
# own limit (131,072 characters) would refuse the whole file.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))


class BadFile(Invalid, ValueError):
    """The file as a whole cannot be read (not JSON, not the expected columns...)."""


# The shapes a file's rows take are msgspec structs, frozen: a large file makes hundreds of
# thousands of each, and a struct is made ten times faster than a frozen dataclass.


class BadRow(msgspec.Struct, frozen=True, gc=False):
    line: int
    field: str
    message: str
    row: str | None = None  # the row's key, when it could be read


class SourceRow(msgspec.Struct, frozen=True, gc=False):
    """One row of a dataset as a report to file: `key` is its identity within the dataset;
    `fingerprint`, when its format gives one, its digest (application/imports/fingerprints.py)."""

    line: int
    key: str
    command: FileReport
    fingerprint: bytes | None = None


class UnreadRow(msgspec.Struct, frozen=True, gc=False):
    """A row split into its fields, not yet read into a report: a re-import reads in full
    only the rows whose fingerprint the log does not hold for their report."""

    line: int
    key: str
    fingerprint: bytes
    fields: list[str]
    header: tuple[str, ...]

    @property
    def values(self) -> dict[str, str]:
        """The row by column name: made only for a row read in full (most rows of a
        re-import are not)."""
        return dict(zip(self.header, self.fields, strict=False))


class KnownRow(msgspec.Struct, frozen=True, gc=False):
    """A row whose fingerprint is the one kept with its report's current version: the log
    holds it as it stands."""

    line: int
    key: str
    report_id: UUID


RowReader = Callable[[UnreadRow], "SourceRow | BadRow"]


class DeletedRow(msgspec.Struct, frozen=True, gc=False):
    """A row its dataset says it withdrew (ACLED's deleted events), and since when."""

    line: int
    key: str
    reason: str
    published: Occurrence | None = None  # when the dataset withdrew it, where it says


@dataclass(frozen=True, slots=True)
class DatasetRows:
    """The rows of one dataset read from a file. `scope` names the dataset for report ids.
    A `complete` file holds all of it, so a row it no longer has was withdrawn; an excerpt
    (an ACLED export of one country and month) says nothing of the rows it leaves out, and
    only `deleted` withdraws any."""

    scope: str
    file: str
    rows: tuple[SourceRow, ...]
    bad: tuple[BadRow, ...]
    complete: bool = True
    deleted: tuple[DeletedRow, ...] = ()
    # When the file was put out (its vintage), where known: a row it changed or withdrew
    # was published then (`reported_by`, projections/published.py).
    published: Occurrence | None = None
    # Rows not yet read (`in_file_order`, `read_in_full`), how to read one, and rows the
    # log holds already (`sorted_out`).
    unread: tuple[UnreadRow, ...] = ()
    reader: RowReader | None = None
    known: tuple[KnownRow, ...] = ()

    def sorted_out(
        self, known: Mapping[str, tuple[UUID, bytes]], progress: Progress = no_progress
    ) -> DatasetRows:
        """The dataset with the rows whose fingerprint `known` (row key -> report id and
        fingerprint) holds set apart as `known`, the others left unread: a row's key must
        appear once in the file for that (a key repeated is compared row with row, read in
        full)."""
        if self.reader is None:
            return self
        if not known:  # nothing to compare with: every row is read
            progress(READING, len(self.unread), len(self.unread))
            return self
        held, unread = list(self.known), []
        repeated = Counter(map(attrgetter("key"), self.unread))
        total = len(self.unread)
        for done, row in enumerate(self.unread):
            if done % EVERY == 0:
                progress(READING, done, total)
            if repeated[row.key] == 1:
                report = known.get(row.key)
                if report is not None and report[1] == row.fingerprint:
                    held.append(KnownRow(row.line, row.key, report[0]))
                    continue
            unread.append(row)
        progress(READING, total, total)
        return dataclasses.replace(self, unread=tuple(unread), known=tuple(held))

    def in_file_order(self) -> tuple[int, Iterator[SourceRow | KnownRow | BadRow]]:
        """How many rows there are, and each of them in the order of the file: those read,
        those the log holds, and those unread, read as they come (a row that cannot be read
        is a BadRow); `bad` holds the file's other bad rows."""
        kinds = [rows for rows in (self.rows, self.known, self.unread) if rows]
        count = sum(len(rows) for rows in kinds)
        # Each kind is in the order of the file already: merged only when there are two.
        rows: Sequence[SourceRow | KnownRow | UnreadRow] = (
            kinds[0] if len(kinds) == 1 else sorted(chain(*kinds), key=_line) if kinds else ()
        )
        reader = self.reader
        if reader is None or not self.unread:
            return count, iter(cast("Sequence[SourceRow | KnownRow]", rows))
        return count, (reader(row) if isinstance(row, UnreadRow) else row for row in rows)

    def read_in_full(
        self, known: Mapping[str, tuple[UUID, bytes]], progress: Progress = no_progress
    ) -> DatasetRows:
        """The dataset with every unread row read, but for those whose fingerprint `known`
        holds (`sorted_out`). The rows that cannot be read come first among the bad ones, in
        the order of the file."""
        if self.reader is None:
            return self
        dataset = self.sorted_out(known, progress)
        rows, bad = list(dataset.rows), []
        assert self.reader is not None
        for unread in dataset.unread:
            read = self.reader(unread)
            if isinstance(read, SourceRow):
                rows.append(read)
            else:
                bad.append(read)
        return dataclasses.replace(
            dataset, rows=tuple(rows), bad=(*bad, *self.bad), unread=(), reader=None
        )


def _line(row: SourceRow | KnownRow | UnreadRow) -> int:
    return row.line


class FieldError(Invalid, ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A dataset file as it came in, from a disk (`timeline import`) or a request
    (`POST /v1/imports`): its name, which the answer's rows cite, and its bytes."""

    name: str
    content: bytes

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        try:
            return cls(path.name, path.read_bytes())
        except OSError as error:
            raise BadFile(f"{path}: {error.strerror}") from None

    def lines(self) -> io.TextIOWrapper:
        """The file's lines as they are read (not decoded whole first: a large file's text
        would be copied once more), without a byte order mark, each with its own line end
        (a quoted field may hold line ends: csv takes them as they come)."""
        return io.TextIOWrapper(io.BytesIO(self.content), encoding="utf-8-sig", newline="")

    def text(self) -> str:
        """The file's text, without a byte order mark; Windows line ends are left to the
        reader of each format (csv and json take them as they come)."""
        try:
            return self.content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise BadFile(
                f"{self.name}: not UTF-8 text ({error.reason} at byte {error.start})"
            ) from None


def json_objects(text: str, name: str) -> Iterator[tuple[int, Any]]:
    """The entries of a JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    position = _skip_blank(text, 0)
    if not text.startswith("[", position):
        raise BadFile(f"{name}: expected a JSON array of rows")
    position = _skip_blank(text, position + 1)
    if text.startswith("]", position):
        return
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise BadFile(f"{name}: malformed JSON at line {error.lineno}: {error.msg}") from None
        yield text.count("\n", 0, position) + 1, value
        position = _skip_blank(text, end)
        if text.startswith(",", position):
            position = _skip_blank(text, position + 1)
        elif text.startswith("]", position):
            return
        else:
            line = text.count("\n", 0, position) + 1
            raise BadFile(f"{name}: malformed JSON at line {line}: expected ',' or ']'")


def _skip_blank(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def csv_rows(file: SourceFile, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a header, each with the line it starts on (a quoted field
    may span lines); raises BadFile when a required column is missing."""
    header, records = csv_records(file, required)
    for line, values in records:
        yield line, dict(zip(header, values, strict=False))


def csv_records(
    file: SourceFile, required: tuple[str, ...]
) -> tuple[tuple[str, ...], Iterator[tuple[int, list[str]]]]:
    """The header of a CSV file, and its rows as lists of fields (as many as the header's,
    or more), each with the line it starts on; raises BadFile when a required column is
    missing, or (as the rows are read) when the file is not UTF-8 or not CSV."""
    reader = csv.reader(file.lines())
    try:
        header = tuple(column.strip() for column in next(reader))
    except StopIteration:
        raise BadFile(f"{file.name}: empty file, expected a header line") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise _unreadable(file, reader, error) from None
    missing = [column for column in required if column not in header]
    if missing:
        raise BadFile(f"{file.name}: missing column(s) {', '.join(missing)} in the header line")
    return header, _records(file, reader, len(header))


def _records(file: SourceFile, reader: Any, width: int) -> Iterator[tuple[int, list[str]]]:
    line = reader.line_num + 1
    try:
        for values in reader:
            # Blank when every field is: one join, not a test per field (a row has dozens).
            if values and (values[0].strip() or "".join(values).strip()):
                if len(values) < width:
                    values.extend([""] * (width - len(values)))
                yield line, values
            line = reader.line_num + 1
    except (UnicodeDecodeError, csv.Error) as error:
        raise _unreadable(file, reader, error) from None


def _unreadable(file: SourceFile, reader: Any, error: Exception) -> BadFile:
    if isinstance(error, UnicodeDecodeError):
        file.text()  # raises BadFile naming the first byte that is not UTF-8
    return BadFile(f"{file.name}: line {reader.line_num}: not CSV ({error})")


def day(text: object, field: str, layout: str, shown: str) -> date:
    if not isinstance(text, str) or not text.strip():
        raise FieldError(field, f"a date is required, as {shown}")
    try:
        return datetime.strptime(text.strip(), layout).date()
    except ValueError:
        raise FieldError(field, f"not a date as {shown}: {text!r}") from None


def figure(value: object, field: str) -> float | None:
    """A figure as datasets write it (1,376 or 1376.5), None when the field is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise FieldError(field, f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            raise FieldError(field, f"expected a number, got {value!r}") from None
    else:
        raise FieldError(field, f"expected a number, got {value!r}")
    if not math.isfinite(number):
        raise FieldError(field, f"expected a finite number, got {value!r}")
    return number


def name(text: str) -> str:
    """A name as a one-line field holds it: runs of spaces and line breaks made one space."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # most names: every other whitespace character is unprintable
    return " ".join(text.split())


def free_text(text: str) -> str | None:
    """A field of prose (ACLED's notes), lines ended by line feeds alone, None when empty."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def entries(text: str) -> tuple[str, ...]:
    """A multi-valued field's entries ("Ukrainska Pravda; Telegram"), each as a name."""
    return tuple(entry for entry in (name(part) for part in text.split(";")) if entry)


def coordinate(text: str, field: str) -> float | None:
    """A latitude or longitude as a decimal number (no thousands separators)."""
    if not text.strip():
        return None
    try:
        number = float(text.strip())
    except ValueError:
        raise FieldError(field, f"expected a decimal number, got {text!r}") from None
    if not math.isfinite(number):
        raise FieldError(field, f"expected a finite number, got {text!r}")
    return number


def whole(text: str, field: str) -> int:
    """A whole number as event datasets write counts and codes ("12", "12.0")."""
    number = figure(text, field)
    if number is None:
        raise FieldError(field, "a whole number is required")
    if not number.is_integer() or number < 0:
        raise FieldError(field, f"expected a whole number of at least 0, got {text!r}")
    return int(number)


def any_day(text: str, field: str, layouts: tuple[str, ...], shown: str) -> date:
    """A date in any of `layouts` (real files mix them in one column)."""
    value = text.strip()
    if not value:
        raise FieldError(field, f"a date is required, as {shown}")
    try:
        return date.fromisoformat(value)  # the usual case, and ten times faster
    except ValueError:
        pass
    for layout in layouts:
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            continue
    raise FieldError(field, f"not a date as {shown}: {text!r}")
