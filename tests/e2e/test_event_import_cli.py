"""`timeline import acled` and `timeline import ucdp-ged` as an editor runs them."""

from __future__ import annotations

from pathlib import Path

from store.event_store import EventStore
from tests.e2e.conftest import RunTimeline
from tests.event_datasets import (
    ACLED_BROKEN_ROWS,
    ACLED_ROWS,
    BERDIANSK_SHELLING,
    GED_ROWS,
    KURAKHOVE_FIGHTING,
    PLEKHOVO_CLASH,
    acled_deleted_file,
    acled_file,
    ged_file,
)


async def test_an_acled_export_then_its_deleted_events_are_added_then_retracted(
    run_timeline: RunTimeline, store: EventStore, tmp_path: Path
) -> None:
    first = run_timeline("import", "acled", str(acled_file(tmp_path, "acled.csv", ACLED_ROWS)))
    later = acled_file(tmp_path, "later.csv", (PLEKHOVO_CLASH, BERDIANSK_SHELLING))
    deleted = acled_deleted_file(tmp_path)

    second = run_timeline("import", "acled", str(later), "--deleted", str(deleted))

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("timeline import acled: 4 added, 0 corrected")
    assert second.returncode == 0, second.stderr
    assert "0 added, 0 corrected, 1 retracted, 2 unchanged, 0 refused" in second.stdout
    assert "  retracted UKR2004 (report " in second.stdout
    assert await store.position() == 5


async def test_a_bad_acled_export_exits_1_naming_line_and_field(
    run_timeline: RunTimeline, store: EventStore, tmp_path: Path
) -> None:
    result = run_timeline(
        "import", "acled", str(acled_file(tmp_path, "bad.csv", ACLED_BROKEN_ROWS))
    )

    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "refused bad.csv:4 (UKR2002): event_date: not a date as YYYY-MM-DD or "
        "21 November 2024: '31 November 2024'"
    )
    assert await store.position() == 0


async def test_a_ged_release_missing_a_row_retracts_it(
    run_timeline: RunTimeline, store: EventStore, tmp_path: Path
) -> None:
    first = run_timeline(
        "import", "ucdp-ged", str(ged_file(tmp_path, "ged251.csv", GED_ROWS)), "--release", "25.1"
    )
    release = ged_file(tmp_path, "ged252.csv", (KURAKHOVE_FIGHTING,))

    second = run_timeline("import", "ucdp-ged", str(release), "--release", "25.2")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "0 added, 0 corrected, 2 retracted, 1 unchanged" in second.stdout
    assert await store.position() == 5
