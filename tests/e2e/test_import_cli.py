"""`timeline import` as an editor runs it: the answer, the exit status, the bad rows."""

from __future__ import annotations

import json
from pathlib import Path

from store.event_store import EventStore
from tests.e2e.conftest import RunTimeline

ROOT = Path(__file__).resolve().parents[2]
AREA = ROOT / "examples" / "data" / "area_assessed_as_russia_controlled.csv"
BROKEN = ROOT / "tests" / "fixtures" / "imports" / "gs-broken.json"


def test_import_help_names_each_format_and_how_gs_losses_takes_its_files(
    run_timeline: RunTimeline,
) -> None:
    result = run_timeline("import", "--help")

    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for phrase in ("gs-losses", "economist-estimates", "isw-area", "--skip-invalid", "--dry-run"):
        assert phrase in text
    assert "russia_losses_equipment.json, russia_losses_personnel.json or both" in text


async def test_importing_isw_areas_twice_adds_them_once(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    first = run_timeline("import", "isw-area", str(AREA), "--vintage", "2026-08-21")
    again = run_timeline("import", "isw-area", str(AREA))

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("timeline import isw-area: 1,642 added, 0 corrected")
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 corrected, 0 retracted, 1,643 unchanged" in again.stdout
    assert again.stdout.rstrip().endswith("nothing to write")
    assert await store.position() == 1_642


async def test_a_file_with_bad_rows_exits_1_listing_them_and_writes_nothing(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    result = run_timeline("import", "gs-losses", str(BROKEN))
    as_json = run_timeline("import", "gs-losses", str(BROKEN), "--json")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "refused gs-broken.json:9: date: not a date as YYYY-MM-DD: '2024-11-31'",
        "refused gs-broken.json:14 (2024-11-24/tank): tank: expected a number, got 'many'",
        "refused gs-broken.json:14 (2024-11-24/APC): claim.count.value: must not be negative, "
        "got -3",
    ]
    assert "nothing written" in result.stdout
    answer = json.loads(as_json.stdout)
    assert as_json.returncode == 1
    assert answer["counts"]["refused"] == 3
    assert answer["written"] is False
    assert {"outcome": "added", "file": "gs-broken.json", "line": 2}.items() <= answer["rows"][
        0
    ].items()
    assert await store.position() == 0


async def test_skip_invalid_writes_the_good_rows(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    result = run_timeline("import", "gs-losses", str(BROKEN), "--skip-invalid")

    assert result.returncode == 0, result.stderr
    assert "2 added, 0 corrected, 0 retracted, 0 unchanged, 3 refused" in result.stdout
    assert len(result.stderr.splitlines()) == 3
    assert await store.position() == 2
