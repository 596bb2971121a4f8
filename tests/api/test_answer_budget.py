"""The API process remembers answers within its budget (TIMELINE_ANSWER_CACHE_BYTES): an
auditor stepping through every position of the log, view by view and explained, does not grow
the process's memory past it, and the dashboard's repeated live read is still answered from
memory."""

from __future__ import annotations

import pytest

from api.live_views import LiveViews
from api.services import services_of
from api.settings import ApiSettings, LimitSettings
from application.reports import ReportService
from projections.registry import VIEWS
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Client

BUDGET = 48_000  # a few dozen of the demo's answers: an auditor's questions overflow it


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(
        default_wait_seconds=3.0, limits=LimitSettings.unlimited(), answer_cache_bytes=BUDGET
    )


async def test_an_auditors_questions_stay_within_the_budget_and_the_live_read_stays_remembered(
    client: Client, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    for _ in range(2):  # the first waits for the view to reach the head: given, not kept
        live = await client.get("/v1/holdings", params={"min_position": head})
        assert live.status_code == 200, live.text
    views: LiveViews = services_of(client.app).views
    remembered = ("answered", "/v1/holdings", f"min_position={head}".encode())
    assert views["holdings"].memo(remembered) is not None

    asked = 0
    for position in range(1, head + 1):
        for view in (name for name in VIEWS if name != "timeline"):
            for explain in ("false", "true"):
                response = await client.get(
                    f"/v1/{view}", params={"position": position, "explain": explain}
                )
                assert response.status_code in (200, 404), response.text
                asked += 1
                assert views.answers.size <= BUDGET
            again = await client.get("/v1/holdings", params={"min_position": head})
            assert again.content == live.content
            assert views["holdings"].memo(remembered) is not None

    assert asked == head * (len(VIEWS) - 1) * 2
    assert len(views.answers) < asked  # older answers were let go
