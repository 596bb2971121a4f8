"""The dashboard's page asks for every module main.js imports, directly or not, together with
main.js (modulepreload), so that drawing waits for one round trip of modules, not one per
level of imports; and for none it does not import."""

from __future__ import annotations

import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "api" / "static" / "dashboard"
IMPORT = re.compile(r'^import .* from "\./([a-z_]+\.js)";$', re.MULTILINE)
PRELOAD = re.compile(r'<link rel="modulepreload" href="/static/dashboard/([a-z_]+\.js)">')


def _imported_from(entry: str) -> set[str]:
    seen: set[str] = set()
    waiting = [entry]
    while waiting:
        module = waiting.pop()
        for imported in IMPORT.findall((DASHBOARD / module).read_text()):
            if imported not in seen:
                seen.add(imported)
                waiting.append(imported)
    return seen


def test_the_page_preloads_every_module_the_dashboard_imports_and_no_other() -> None:
    # Given the modules main.js imports, and the ones they import
    imported = _imported_from("main.js")
    assert {"api.js", "territory.js", "strikes_map.js", "libraries.js"} <= imported

    # Then the page asks for exactly those beside main.js
    preloaded = PRELOAD.findall((DASHBOARD / "index.html").read_text())
    assert sorted(preloaded) == sorted(imported)
    assert len(preloaded) == len(set(preloaded))


def test_main_js_runs_before_the_vendored_libraries_it_does_not_wait_for() -> None:
    # Deferred scripts run in the page's order: main.js first, its questions leave first
    page = (DASHBOARD / "index.html").read_text()
    scripts = re.findall(r'<script [^>]*src="([^"]+)"', page)
    assert scripts[0] == "/static/dashboard/main.js"
    assert {"uPlot.iife.min.js", "leaflet.js"} == {s.rsplit("/", 1)[1] for s in scripts[1:]}
