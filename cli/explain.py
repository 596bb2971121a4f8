"""`timeline explain VIEW [KEY]`: which reports produced each figure of a view, as text for a
reader or as the canonical JSON the API gives."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from uuid import UUID

from cli.commands import UsageError, day_or_moment, log_position, moment
from domain.attribution import Provenance
from projections.explain import explain as explain_view
from projections.explain_keys import EarlierReports
from projections.explanation import (
    Contribution,
    Explanation,
    ReportRole,
    RowExplanation,
    encode_explanation,
)
from projections.tracked import iso
from projections.views.figures import Figure
from store.database import create_pool, resolve_database

# Who a reader looks at first: the reports behind the figures, then the ones they replaced.
ROLE_ORDER = tuple(ReportRole)
ROLE_WIDTH = max(len(role) for role in ReportRole) + 2
INDENT = "  "


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain = sub.add_parser(
        "explain",
        help="which reports produced each figure of a view",
        description="List, for each row of a view (or the rows KEY picks), the figures it shows "
        "and the reports behind them: their log positions, source, relaying outlet, "
        "verification, and what superseded, corrected or retracted them. KEY is a row key "
        "(kursk-oblast/ukraine) or what a reader would type: 'kursk' picks every row with a "
        "part starting 'kursk'; a report id's first characters pick that report's row. "
        "--known-at, --position and --as-of ask as `timeline replay` does.",
    )
    explain.add_argument("view", metavar="VIEW", help="holdings, damage, forces, front, ...")
    explain.add_argument("key", metavar="KEY", nargs="?", help="a row key, or its start")
    when = explain.add_mutually_exclusive_group()
    when.add_argument(
        "--known-at", metavar="TIME", help="e.g. 2024-11-24T00:00:00Z (with a time zone)"
    )
    when.add_argument("--position", type=int, metavar="N", help="a log position")
    explain.add_argument("--as-of", metavar="DATE", help="e.g. 2024-09-01 or a time with a zone")
    explain.add_argument(
        "--reports",
        type=int,
        metavar="N",
        help="list, of each row's reports, those behind its figures and the N latest others "
        "(default: every one)",
    )
    explain.add_argument(
        "--reports-cursor",
        metavar="CURSOR",
        help="with --reports: the reports before those a row listed (its earlier_reports)",
    )
    explain.add_argument("--json", action="store_true", help="canonical JSON")


async def explain(args: argparse.Namespace) -> int:
    known_at = moment(args.known_at, "--known-at")
    as_of = day_or_moment(args.as_of)
    pool = await create_pool(resolve_database(), min_size=1, max_size=2)
    try:
        explanation = await explain_view(
            pool,
            args.view,
            args.key,
            known_at=known_at,
            position=log_position(args.position, "--position"),
            as_of=as_of,
            reports=_reports(args.reports),
            before=_before(args.reports_cursor, args.reports),
        )
    finally:
        await pool.close()
    if args.json:
        sys.stdout.buffer.write(encode_explanation(explanation) + b"\n")
    else:
        print("\n".join(text_lines(explanation)))
    return 0


def _reports(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise UsageError("--reports must be at least 1")
    return value


def _before(cursor: str | None, reports: int | None) -> EarlierReports | None:
    if cursor is None:
        return None
    before = EarlierReports.of_cursor(cursor)
    if before is None or reports is None:
        raise UsageError("--reports-cursor takes a row's earlier_reports, with --reports N")
    return before


def text_lines(explanation: Explanation) -> Iterator[str]:
    """The explanation for a reader: each row's figures, then its reports, current first."""
    asked = [f"as the log stood at position {explanation.position}"]
    if explanation.known_at is not None:
        asked.append(f"known at {iso(explanation.known_at)}")
    if explanation.as_of is not None:
        asked.append(f"as of {explanation.as_of}")
    yield f"{explanation.view}, {', '.join(asked)}"
    if not explanation.rows:
        yield f"{INDENT}(no rows)"
    for row in explanation.rows:
        yield ""
        yield from _row_lines(row)


def _row_lines(row: RowExplanation) -> Iterator[str]:
    yield row.key
    if not row.shown:
        yield f"{INDENT}(the view shows no row: no report about it counts)"
    if row.figures:
        yield f"{INDENT}figures"
    field_width = max((len(figure.field) for figure in row.figures), default=0)
    text_width = max((len(figure.text) for figure in row.figures), default=0)
    for figure in row.figures:
        yield (
            f"{INDENT * 2}{figure.field:<{field_width}}  {figure.text:<{text_width}}  "
            f"{_from(figure)}"
        )
    supersedes: dict[UUID, list[UUID]] = {}
    for report in row.reports:
        if report.superseded_by is not None:
            supersedes.setdefault(report.superseded_by, []).append(report.report_id)
    listed = len(row.reports)
    if listed < row.reports_total:
        yield f"{INDENT}reports ({listed} of {row.reports_total}: the figures', the latest)"
    else:
        yield f"{INDENT}reports"
    for report in sorted(row.reports, key=lambda r: ROLE_ORDER.index(r.role)):
        yield from _report_lines(report, supersedes.get(report.report_id, []))
    if row.earlier_reports is not None:
        yield f"{INDENT}earlier reports: --reports-cursor {row.earlier_reports}"


def _from(figure: Figure) -> str:
    if not figure.report_ids:  # a sum: every report it counts, listed below
        return "the reports counted"
    noun = "report" if len(figure.report_ids) == 1 else "reports"
    return f"{noun} {', '.join(str(report_id) for report_id in figure.report_ids)}"


def _provenance_lines(provenance: Provenance, indent: str) -> Iterator[str]:
    release = f", release {provenance.release}" if provenance.release else ""
    yield f"{indent}from {provenance.dataset}{release}, row {provenance.row}"
    terms = "; ".join(text for text in (provenance.licence, provenance.credit) if text)
    if terms:
        yield f"{indent}licence: {terms}"
    for cited in provenance.cited:
        yield f"{indent}{cited.field}: {'; '.join(cited.entries)}"


def _report_lines(report: Contribution, supersedes: list[UUID]) -> Iterator[str]:
    role = report.role.value.replace("_", " ")
    yield (
        f"{INDENT * 2}{role:<{ROLE_WIDTH}}report {report.report_id}, filed at position "
        f"{report.filed_at_position}, recorded {iso(report.recorded_at)}"
    )
    more = INDENT * 2 + " " * ROLE_WIDTH
    yield f"{more}{report.summary} (on {report.date[:10]})"
    via = f" via {report.outlet}" if report.outlet else ""
    yield f"{more}per {report.source}{via} ({report.side}), {report.verification}"
    if report.provenance is not None:
        yield from _provenance_lines(report.provenance, more)
    if report.shown_as:
        yield f"{more}shown as {', '.join(report.shown_as)}"
    for change in report.changes:
        what = change.type.removeprefix("report-")
        yield f"{more}{what} at position {change.position}: {change.summary}"
    for replaced in supersedes:
        yield f"{more}supersedes report {replaced}"
    if report.superseded_by is not None:
        yield f"{more}superseded by report {report.superseded_by}"
