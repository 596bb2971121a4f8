"""CORS for browser dashboards: TIMELINE_CORS_ORIGINS names the origins that may call the API;
a preflight from one of them is answered with the Access-Control-Allow-* headers, one from
anywhere else is not."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from api.settings import CORS_ORIGINS_VARIABLE, ApiSettings
from tests.api.conftest import Keys

DASHBOARD = "https://dashboard.kursk-monitor.example"
ELSEWHERE = "https://elsewhere.example"


@pytest.fixture
def api_settings(monkeypatch: pytest.MonkeyPatch) -> ApiSettings:
    """The settings the `client` fixture builds its app with, read as `timeline serve` does."""
    monkeypatch.setenv(CORS_ORIGINS_VARIABLE, f" {DASHBOARD} , https://ops.example,")
    return ApiSettings.from_environment()


def test_the_variable_lists_origins_separated_by_commas(api_settings: ApiSettings) -> None:
    assert api_settings.cors_origins == (DASHBOARD, "https://ops.example")


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, last-event-id",
    }


async def test_a_preflight_from_a_dashboard_origin_is_allowed(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.options(
        "/v1/holdings", headers={"Authorization": "", **_preflight(DASHBOARD)}
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "GET" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "last-event-id" in allowed_headers


async def test_a_preflight_from_another_origin_gets_no_allow_headers(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    response = await client.options(
        "/v1/holdings", headers={"Authorization": "", **_preflight(ELSEWHERE)}
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-headers" not in response.headers
    # Refused as every other error is: a problem that says why.
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["detail"] == "Disallowed CORS Origin"
    assert problem["instance"] == "/v1/holdings"


async def test_a_dashboard_read_may_see_the_log_position(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
) -> None:
    response = await client.get(
        "/v1/holdings", headers={"Origin": DASHBOARD, **Keys.header(keys.reader)}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-timeline-position" in exposed
    assert "x-request-id" in exposed  # to quote when reporting a problem
    elsewhere = await client.get(
        "/v1/holdings", headers={"Origin": ELSEWHERE, **Keys.header(keys.reader)}
    )
    assert "access-control-allow-origin" not in elsewhere.headers


async def test_a_preflight_advertises_only_the_methods_the_api_has(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    response = await client.options(
        "/v1/reports", headers={"Authorization": "", **_preflight(DASHBOARD)}
    )
    allowed = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert allowed == {"GET", "HEAD", "POST", "OPTIONS"}
