"""The read routes take their database through one seam: `state.read_pool` (a hot standby
when TIMELINE_READ_DATABASE_URL is set, else the primary's pool; api/app.py `pools`). A read
route that took `state.pool` would put the standby's work back on the primary, and answer with
rows newer than the position it reports (the views' positions are read on the standby)."""

from __future__ import annotations

from pathlib import Path

API = Path(__file__).parents[2] / "api"
# The modules of read routes (each answers GETs about the views only).
READ_MODULES = ("reads.py", "strikes_by_date.py", "series_points.py")


def test_the_read_routes_read_through_the_read_pool_only() -> None:
    on_the_primary = [
        f"{name}:{n}: {line.strip()}"
        for name in READ_MODULES
        for n, line in enumerate((API / name).read_text(encoding="utf-8").splitlines(), 1)
        if "state.pool" in line
    ]
    assert on_the_primary == []
