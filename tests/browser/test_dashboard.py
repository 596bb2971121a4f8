"""The reference dashboard in Debian's chromium, against `timeline serve` with the seed
article loaded: what a reader sees, asks and clicks (see conftest.py for the set-up)."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from seed.kursk_article import demo_report_id
from tests.browser.conftest import Service, Visit, visit

KURSK = '#territory [data-key="kursk-oblast/ukraine"]'
GENERAL_STAFF_VIA_REUTERS = "Ukrainian General Staff source via Reuters"
PEAK_REPORT = str(demo_report_id("kursk-peak-holding"))
# The stream delivers, the views catch up, the panels redraw: the bound for all three.
LIVE_WITHIN_MS = 2000


def opened(browser: Browser, service: Service, *, width: int = 1280, height: int = 800) -> Visit:
    """The dashboard after its reader typed the key once, and opened it again in the same tab
    (the key is kept for the tab). The first opening's one refused probe, before the key was
    typed, is the only 401 the page ever meets; the errors counted are the second opening's."""
    tab = visit(browser, service, width=width, height=height)
    tab.page.goto(f"{service.url}/")
    tab.page.fill("#key", service.editor_key)
    tab.page.get_by_role("button", name="Use key").click()
    expect(tab.page.locator(f"{KURSK} .figure-line.current")).to_contain_text("800 km²")
    tab.page.reload()
    tab.console_errors.clear()
    expect(tab.page.locator(f"{KURSK} .figure-line.current")).to_contain_text("800 km²")
    expect(tab.page.locator("#live")).to_have_attribute("data-state", "live")
    return tab


def test_the_page_shows_kursk_current_and_peak_with_their_sources(
    browser: Browser, service: Service, screenshots: Path
) -> None:
    tab = opened(browser, service)
    current = tab.page.locator(f"{KURSK} .figure-line.current")
    peak = tab.page.locator(f"{KURSK} .figure-line.peak")
    expect(current).to_contain_text("about 800 km²")
    expect(current).to_contain_text(GENERAL_STAFF_VIA_REUTERS)
    expect(current).to_contain_text("Reuters could not verify")
    expect(peak).to_contain_text("about 1,376 km²")
    expect(peak).to_contain_text(GENERAL_STAFF_VIA_REUTERS)
    expect(tab.page.locator("#question")).to_contain_text(
        "Showing everything that has happened, as the log stands now"
    )
    expect(tab.page.locator("#timeline .timeline li")).to_have_count(14)
    expect(tab.page.locator("#strikes")).to_contain_text("Ukraine struck port of Berdiansk")
    tab.page.screenshot(path=screenshots / "dashboard-1280x800.png")
    assert tab.console_errors == []
    assert tab.outside_requests == []
    # the key went in a header, kept for this tab only, never in a URL
    assert not any(service.editor_key in url for url in tab.urls)
    assert tab.page.evaluate("Object.keys(localStorage).length") == 0
    assert service.editor_key in tab.page.evaluate("Object.values(sessionStorage)")


def test_the_page_fits_a_phone(browser: Browser, service: Service, screenshots: Path) -> None:
    tab = opened(browser, service, width=390, height=844)
    expect(tab.page.locator(f"{KURSK} .figure-line.peak")).to_contain_text("1,376 km²")
    overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    tab.page.screenshot(path=screenshots / "dashboard-390x844.png")
    assert tab.console_errors == []
    assert tab.outside_requests == []


def test_moving_as_of_to_september_hides_the_800_and_keeps_the_peak(
    browser: Browser, service: Service
) -> None:
    tab = opened(browser, service)
    tab.page.fill("#as-of", "2024-09-01")
    expect(tab.page.locator("#question")).to_contain_text("what had happened by 1 Sep 2024")
    expect(tab.page.locator(f"{KURSK} .figure-line.current")).to_contain_text("not known")
    expect(tab.page.locator("#territory")).not_to_contain_text("800 km²")
    expect(tab.page.locator(f"{KURSK} .figure-line.peak")).to_contain_text("about 1,376 km²")
    # back to now: the 800 is there again
    tab.page.get_by_role("button", name="Now").click()
    expect(tab.page.locator(f"{KURSK} .figure-line.current")).to_contain_text("about 800 km²")
    assert tab.console_errors == []


def test_known_at_before_the_demo_was_recorded_shows_an_empty_log_on_every_panel(
    browser: Browser, service: Service
) -> None:
    tab = opened(browser, service)
    tab.page.fill("#known-at", "2024-11-24T00:00:00")
    expect(tab.page.locator("#question")).to_contain_text("as the log stood at 2024-11-24 00:00")
    expect(tab.page.locator("#territory")).to_contain_text("No holdings are known")
    expect(tab.page.locator("#strikes")).to_contain_text("No strikes are known")
    expect(tab.page.locator("#timeline")).to_contain_text("No report matches")
    assert tab.console_errors == []


def test_the_timeline_filters_by_kind_and_source(browser: Browser, service: Service) -> None:
    tab = opened(browser, service)
    filters = tab.page.locator("#timeline-filters")
    filters.locator('select[name="kind"]').select_option("territory_control")
    filters.get_by_role("button", name="Filter").click()
    entries = tab.page.locator("#timeline .timeline li")
    expect(entries).to_have_count(2)
    filters.locator('select[name="kind"]').select_option("")
    filters.locator('input[name="source"]').fill("President Volodymyr Zelenskiy")
    filters.get_by_role("button", name="Filter").click()
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("321 facilities of port infrastructure facilities")
    assert tab.console_errors == []


def test_the_800_figure_lists_its_source_and_the_report_it_supersedes(
    browser: Browser, service: Service, screenshots: Path
) -> None:
    tab = opened(browser, service)
    tab.page.locator(f"{KURSK} .figure-line.current button.figure").click()
    drawer = tab.page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text(f"per {GENERAL_STAFF_VIA_REUTERS} (ukraine), unverified")
    supersedes = drawer.locator(".role-current .supersedes")
    expect(supersedes).to_contain_text(f"supersedes report {PEAK_REPORT[:8]}")
    expect(supersedes).to_contain_text("Ukraine holds about 1,376 km2 of Kursk Oblast at peak")
    # and the report as it stands, with its history
    expect(drawer.locator(".history li")).to_have_count(1)
    expect(drawer.locator(".history")).to_contain_text("report filed at position 4")
    tab.page.screenshot(path=screenshots / "dashboard-drawer-1280x800.png")
    # Escape closes it and gives the focus back to the figure
    tab.page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(tab.page.locator(f"{KURSK} .figure-line.current button.figure")).to_be_focused()
    assert tab.console_errors == []


def test_a_report_filed_through_the_api_appears_without_a_reload(
    browser: Browser, service: Service
) -> None:
    tab = opened(browser, service)
    tab.page.evaluate("window.notReloaded = true")
    filed = httpx.post(
        f"{service.url}/v1/reports",
        headers={"Authorization": f"Bearer {service.editor_key}"},
        json={
            "claim": {
                "kind": "front_advance",
                "actor": "Russia",
                "direction": "Kurakhove",
                "region": "Donetsk Oblast",
                "country": "UA",
                "rate": {"unit": "m/day", "low": 200, "high": 300, "qualifier": "between"},
            },
            "attribution": {"source": "Institute for the Study of War", "side": "third_party"},
            "occurred": {"precision": "day", "on": "2024-11-24"},
            "reported": {"precision": "day", "on": "2024-11-24"},
        },
        timeout=10,
    )
    assert filed.status_code == 201, filed.text
    expect(tab.page.locator("#figures")).to_contain_text(
        "per Institute for the Study of War", timeout=LIVE_WITHIN_MS
    )
    expect(tab.page.locator("#timeline")).to_contain_text("Institute for the Study of War")
    assert tab.page.evaluate("window.notReloaded") is True
    assert tab.console_errors == []
