"""The interactive API docs in Debian's chromium, with every request outside the service
refused: Swagger UI comes from the package, renders every operation, and tries one with a key."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Service, visit


def test_the_docs_render_their_operations_offline_and_try_one_with_a_key(
    browser: Browser, service: Service
) -> None:
    tab = visit(browser, service)
    tab.page.goto(f"{service.url}/schema/swagger")
    holdings = tab.page.locator("#operations-views-getHoldings")
    expect(holdings).to_be_visible()
    document = httpx.get(f"{service.url}/schema/openapi.json", timeout=10).json()
    operations = [op for item in document["paths"].values() for op in item if op != "parameters"]
    expect(tab.page.locator(".opblock")).to_have_count(len(operations))
    # Authorize with the key, then try GET /v1/holdings from the page
    tab.page.get_by_role("button", name="Authorize").first.click()
    tab.page.locator("#auth-bearer-value").fill(service.editor_key)
    tab.page.get_by_role("button", name="Apply credentials").first.click()
    tab.page.locator(".auth-container .btn-done").first.click()
    holdings.locator(".opblock-summary").click()
    holdings.get_by_role("button", name="Try it out").click()
    holdings.get_by_role("button", name="Execute").click()
    live = holdings.locator(".live-responses-table tbody .response-col_status")
    expect(live.first).to_have_text("200")
    expect(holdings.locator(".live-responses-table")).to_contain_text("kursk-oblast/ukraine")
    assert tab.outside_requests == []
    assert tab.console_errors == []
