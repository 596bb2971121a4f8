"""The read routes take their database through one seam: `ReadSide.pool` (a hot standby's pool
when TIMELINE_READ_DATABASE_URL is set, else the primary's; api/app.py `pools`). A read route
given the primary's pool (`pool`, `services.pool`) would put the standby's work back on the
primary, and answer with rows newer than the position it reports (the views' positions are
read on the standby)."""

from __future__ import annotations

from pathlib import Path

API = Path(__file__).parents[2] / "api"
# The modules of read routes (each answers GETs about the views only), and how they answer.
READ_MODULES = ("view_routes.py", "timeline_routes.py", "strike_routes.py", "answers.py")
THE_PRIMARY = ("pool: NamedDependency", "services.pool", "state.pool", "read_pool")


def test_the_read_routes_read_through_the_read_side_only() -> None:
    on_the_primary = [
        f"{name}:{n}: {line.strip()}"
        for name in READ_MODULES
        for n, line in enumerate((API / name).read_text(encoding="utf-8").splitlines(), 1)
        if any(primary in line for primary in THE_PRIMARY)
    ]
    assert on_the_primary == []


def test_the_read_side_is_given_the_read_pool() -> None:
    app = (API / "app.py").read_text(encoding="utf-8")
    assert "reads=ReadSide(views, read_pool," in app
