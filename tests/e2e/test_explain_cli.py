"""`timeline explain`, run as a reader would: given the demo recorded, when they ask where the
Kursk holding comes from, then they read the reports behind it, as text or canonical JSON,
and a row or view that does not exist is one line and exit status 2.
"""

from __future__ import annotations

import asyncio
import json

from seed.kursk_article import demo_report_id
from store.event_store import EventStore
from tests.e2e.conftest import RunTimeline

CURRENT_HOLDING = str(demo_report_id("kursk-current-holding"))
PEAK_HOLDING = str(demo_report_id("kursk-peak-holding"))


def words(line: str) -> str:
    """A line as its words, whatever the column widths."""
    return " ".join(line.split())


async def test_explain_holdings_kursk_names_the_source_and_the_superseded_peak(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    assert (await asyncio.to_thread(run_timeline, "demo")).returncode == 0
    head = await store.position()

    text = await asyncio.to_thread(run_timeline, "explain", "holdings", "kursk")
    as_json = await asyncio.to_thread(run_timeline, "explain", "holdings", "kursk", "--json")

    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"holdings, as the log stood at position {head}"
    assert "kursk-oblast/ukraine" in lines
    figures = lines.index("  figures")
    assert words(lines[figures + 1]) == f"current about 800 km2 report {CURRENT_HOLDING}"
    current = lines.index("  reports") + 1  # the current report comes first
    assert words(lines[current]).startswith(f"current report {CURRENT_HOLDING}, filed at")
    assert (
        words(lines[current + 1]) == "Ukraine holds about 800 km2 of Kursk Oblast (on 2024-11-23)"
    )
    assert words(lines[current + 2]) == (
        "per Ukrainian General Staff source via Reuters (ukraine), unverified"
    )
    assert f"supersedes report {PEAK_HOLDING}" in text.stdout
    assert "Ukraine holds about 1,376 km2 of Kursk Oblast at peak" in text.stdout

    assert as_json.returncode == 0, as_json.stderr
    decoded = json.loads(as_json.stdout)
    assert (decoded["view"], decoded["key"], decoded["position"]) == ("holdings", "kursk", head)
    roles = {r["report_id"]: r["role"] for r in decoded["rows"][0]["reports"]}
    assert roles == {CURRENT_HOLDING: "current", PEAK_HOLDING: "superseded"}


async def test_an_unknown_row_or_view_is_one_line_and_exit_2(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    assert (await asyncio.to_thread(run_timeline, "demo")).returncode == 0

    row = await asyncio.to_thread(run_timeline, "explain", "holdings", "kurks")
    view = await asyncio.to_thread(run_timeline, "explain", "territory")

    assert (row.returncode, view.returncode) == (2, 2)
    assert row.stderr == (
        "timeline explain: no row of holdings matches 'kurks'; did you mean kursk-oblast/ukraine?\n"
    )
    assert view.stderr.startswith("timeline explain: no view is named 'territory'")
    assert view.stderr.count("\n") == 1
