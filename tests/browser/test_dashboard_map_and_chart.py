"""The dashboard's map of strikes and its chart of territory, in Debian's chromium against
`timeline serve` with the seed article: what a reader sees on them and what a click opens."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser, Route, expect

from seed.kursk_article import demo_report_id
from tests.browser.conftest import Service, visit
from tests.browser.test_dashboard import KURSK, opened

BERDIANSK = str(demo_report_id("berdiansk-strike"))
KURSK_NOW = str(demo_report_id("kursk-current-holding"))


def test_the_map_shows_the_berdiansk_strike_and_a_click_opens_its_report(
    browser: Browser, service: Service, screenshots: Path
) -> None:
    tab = opened(browser, service)
    # The borders are drawn from the service's own file, and Berdiansk's strike on them
    expect(tab.page.locator("#strikes-map path.leaflet-interactive")).to_have_count(1)
    marker = tab.page.locator(f'#strikes-map path.strike-marker[data-report-id="{BERDIANSK}"]')
    expect(marker).to_have_count(1)
    expect(tab.page.locator("#strikes-map .leaflet-overlay-pane path")).not_to_have_count(1)
    expect(tab.page.locator("#strikes .strikes li").first).to_contain_text("Berdiansk")
    tab.page.locator("#strikes").screenshot(path=screenshots / "dashboard-strikes-map-1280x800.png")

    marker.click()

    drawer = tab.page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text("port of Berdiansk")
    expect(drawer).to_contain_text(f"report {BERDIANSK}")
    assert tab.console_errors == []
    assert tab.outside_requests == []
    assert any(url.endswith("/static/geo/outlines.geojson") for url in tab.urls)


def test_the_map_fits_a_phone(browser: Browser, service: Service, screenshots: Path) -> None:
    tab = opened(browser, service, width=390, height=844)
    marker = tab.page.locator(f'#strikes-map path.strike-marker[data-report-id="{BERDIANSK}"]')
    expect(marker).to_have_count(1)
    tab.page.locator("#strikes").scroll_into_view_if_needed()
    tab.page.locator("#strikes").screenshot(path=screenshots / "dashboard-strikes-390x844.png")
    overflow = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert tab.console_errors == []


def test_clicking_the_800_point_of_the_kursk_chart_opens_its_report(
    browser: Browser, service: Service
) -> None:
    tab = opened(browser, service)
    chart = tab.page.locator(f"{KURSK} .chart")
    expect(chart.locator("canvas")).to_have_count(1)
    # Where uPlot drew the 800 km² of 23 November, in the page's pixels
    x, y = chart.evaluate(
        """(element) => {
          const plot = element.plot;
          const box = plot.over.getBoundingClientRect();
          const day = Date.parse("2024-11-23T00:00:00Z") / 1000;
          return [box.left + plot.valToPos(day, "x"), box.top + plot.valToPos(800, "y")];
        }"""
    )

    tab.page.mouse.move(x, y)
    tab.page.mouse.click(x, y)

    drawer = tab.page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text(f"report {KURSK_NOW}")
    expect(drawer).to_contain_text("800 km²")
    assert tab.console_errors == []
    assert tab.outside_requests == []


def test_the_chart_lists_each_point_with_its_source_and_range(
    browser: Browser, service: Service
) -> None:
    tab = opened(browser, service)
    points = tab.page.locator(f"{KURSK} .points li")
    expect(points).to_have_count(2)
    expect(points.nth(0)).to_contain_text("peak · about 1,376 km² · per Ukrainian General Staff")
    expect(points.nth(1)).to_contain_text("current · about 800 km² · per Ukrainian General Staff")
    expect(points.nth(1)).to_contain_text("via Reuters")


def test_a_holding_with_many_claims_lists_the_latest_ten_and_the_earlier_on_request(
    browser: Browser, service: Service
) -> None:
    # Given twelve daily claims about the area Russia holds in Sumy Oblast, 1 to 12 November
    for day in range(1, 13):
        filed = httpx.post(
            f"{service.url}/v1/reports",
            headers={"Authorization": f"Bearer {service.editor_key}"},
            json={
                "claim": {
                    "kind": "territory_control",
                    "actor": "Russia",
                    "region": "Sumy Oblast",
                    "country": "UA",
                    "area": {"unit": "km2", "value": 80 + day, "qualifier": "about"},
                },
                "attribution": {"source": "DeepState", "side": "third_party"},
                "occurred": {"precision": "day", "on": f"2024-11-{day:02d}"},
                "reported": {"precision": "day", "on": f"2024-11-{day:02d}"},
            },
            timeout=10,
        )
        assert filed.status_code == 201, filed.text

    # When a reader opens the dashboard
    tab = opened(browser, service)
    sumy = tab.page.locator('#territory [data-key="sumy-oblast/russia"]')

    # Then the chart draws every claim, and the list under it the latest ten, in date order
    expect(sumy.locator(".chart canvas")).to_have_count(1)
    listed = sumy.locator(".points li")
    expect(listed).to_have_count(10)
    expect(listed.first).to_contain_text("3 Nov 2024 · current · about 83 km² · per DeepState")
    expect(listed.last).to_contain_text("12 Nov 2024 · current · about 92 km²")

    # And the two earlier ones once the reader asks for them
    sumy.get_by_text("2 earlier claims").click()
    expect(listed).to_have_count(12)
    expect(listed.first).to_contain_text("1 Nov 2024 · current · about 81 km²")
    assert tab.console_errors == []


def test_a_series_that_lags_its_holdings_is_drawn_once_the_stream_brings_what_it_missed(
    browser: Browser, service: Service
) -> None:
    # Given the holdings' series as it stood before a claim about Belgorod Oblast, then the claim
    editor = {"Authorization": f"Bearer {service.editor_key}"}
    stale = httpx.get(
        f"{service.url}/v1/holdings-series/points",
        params={"limit": 1000},
        headers=editor,
        timeout=10,
    )
    assert stale.status_code == 200, stale.text
    filed = httpx.post(
        f"{service.url}/v1/reports",
        headers=editor,
        json={
            "claim": {
                "kind": "territory_control",
                "actor": "Ukraine",
                "region": "Belgorod Oblast",
                "country": "RU",
                "area": {"unit": "km2", "value": 12, "qualifier": "about"},
            },
            "attribution": {"source": "DeepState", "side": "third_party"},
            "occurred": {"precision": "day", "on": "2024-11-20"},
            "reported": {"precision": "day", "on": "2024-11-20"},
        },
        timeout=10,
    )
    assert filed.status_code == 201, filed.text
    httpx.get(
        f"{service.url}/v1/holdings-series",
        params={"min_position": filed.json()["position"]},
        headers=editor,
        timeout=10,
    ).raise_for_status()

    # When the dashboard opens while the series (built on its own) still lags the holdings:
    # its first answer is the one from before the claim
    tab = visit(browser, service)
    served_stale: list[str] = []

    def first_one_stale(route: Route) -> None:
        if served_stale:
            route.continue_()
        else:
            served_stale.append(route.request.url)
            route.fulfill(status=200, content_type="application/json", body=stale.content)

    tab.page.route("**/v1/holdings-series/points?*", first_one_stale)
    tab.page.goto(f"{service.url}/")
    # (the page's one probe without a key is refused: the only 401 it meets)
    expect(tab.page.locator("#error")).to_contain_text("needs a reader key")
    tab.console_errors.clear()
    tab.page.fill("#key", service.editor_key)
    tab.page.get_by_role("button", name="Use key").click()

    # Then the holding shows at once, and its chart once the stream has brought the claim the
    # series had missed (the page follows it from the lowest position any panel showed)
    belgorod = tab.page.locator('#territory [data-key="belgorod-oblast/ukraine"]')
    expect(belgorod.locator(".figure-line.current")).to_contain_text("about 12 km²")
    expect(belgorod.locator(".chart canvas")).to_have_count(1)
    expect(belgorod.locator(".points li")).to_have_count(1)
    assert len(served_stale) == 1
    assert tab.console_errors == []
