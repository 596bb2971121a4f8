"""`?explain=true` a page at a time (api/explain_pages.py): following `next_cursor` gives each
row of the whole explanation once, in key order, byte for byte as `timeline explain --json`
gives it; a page is bounded; a cursor the service did not give is a 400 naming `cursor`."""

from __future__ import annotations

import asyncpg
import msgspec

from api.explain_pages import DEFAULT_EXPLAIN_PAGE, MAX_EXPLAIN_PAGE, ExplanationPage
from application.commands import FileReport
from application.reports import ReportService
from domain.claims import TerritoryControl
from projections.explain import explain
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.event_store import EventStore
from tests.api.conftest import Client

_canonical = msgspec.json.Encoder(order="sorted")

# Besides Kursk Oblast: 22 more regions where Ukraine is said to hold about 800 km², so that
# the holdings view has more rows than a default page.
REGIONS = [
    f"{name} Oblast"
    for name in (
        "Belgorod",
        "Bryansk",
        "Kharkiv",
        "Sumy",
        "Chernihiv",
        "Donetsk",
        "Luhansk",
        "Zaporizhzhia",
        "Kherson",
        "Mykolaiv",
        "Dnipropetrovsk",
        "Odesa",
        "Kyiv",
        "Zhytomyr",
        "Poltava",
        "Kirovohrad",
        "Cherkasy",
        "Vinnytsia",
        "Rivne",
        "Volyn",
        "Lviv",
        "Ternopil",
    )
]


def _holding_in(region: str) -> FileReport:
    """The demo's 800 km² claim, about `region` instead of Kursk."""
    (filing,) = [
        demo.filing
        for demo in demo_reports()
        if isinstance(demo.filing.claim, TerritoryControl) and demo.filing.claim.area.value == 800
    ]
    claim = msgspec.structs.replace(filing.claim, region=region)
    return msgspec.structs.replace(filing, claim=claim, report_id=None)


async def _many_holdings(store: EventStore) -> int:
    service = ReportService(store)
    await load_demo(service)
    for region in REGIONS:
        await service.file(_holding_in(region))
    return await store.position()


async def _bodies(client: Client, path: str, **params: str | int) -> list[bytes]:
    """Every page's body, following next_cursor from the first page to the last."""
    bodies: list[bytes] = []
    cursor: str | None = None
    while True:
        asked = {"explain": "true", **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=asked)
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        cursor = msgspec.json.decode(response.content, type=ExplanationPage).next_cursor
        if cursor is None:
            return bodies


async def _pages(client: Client, path: str, **params: str | int) -> list[ExplanationPage]:
    bodies = await _bodies(client, path, **params)
    return [msgspec.json.decode(body, type=ExplanationPage) for body in bodies]


async def test_following_next_cursor_gives_every_row_of_the_explanation_once_in_order(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    head = await _many_holdings(store)
    whole = await explain(pool, "holdings", position=head)
    assert len(whole.rows) == 1 + len(REGIONS)

    bodies = await _bodies(client, "/v1/holdings", limit=7, min_position=head)
    pages = [msgspec.json.decode(body, type=ExplanationPage) for body in bodies]

    assert [len(page.rows) for page in pages] == [7, 7, 7, 2]
    assert {page.position for page in pages} == {head}
    assert [row for page in pages for row in page.rows] == list(whole.rows)
    for row in whole.rows:  # each row's bytes as `timeline explain --json` gives them
        assert sum(_canonical.encode(row) in body for body in bodies) == 1, row.key
    assert "kursk-oblast/ukraine" in {row.key for page in pages for row in page.rows}


async def test_a_page_is_twenty_rows_unless_asked_and_never_more_than_a_hundred(
    client: Client, store: EventStore
) -> None:
    head = await _many_holdings(store)
    first = await client.get("/v1/holdings", params={"explain": "true", "min_position": head})
    assert first.status_code == 200, first.text
    page = msgspec.json.decode(first.content, type=ExplanationPage)
    assert (page.limit, len(page.rows)) == (DEFAULT_EXPLAIN_PAGE, DEFAULT_EXPLAIN_PAGE)
    assert page.next_cursor is not None

    everything = await client.get(
        "/v1/holdings", params={"explain": "true", "limit": MAX_EXPLAIN_PAGE}
    )
    whole = msgspec.json.decode(everything.content, type=ExplanationPage)
    assert (len(whole.rows), whole.next_cursor) == (1 + len(REGIONS), None)

    for limit in (0, MAX_EXPLAIN_PAGE + 1):
        refused = await client.get("/v1/holdings", params={"explain": "true", "limit": limit})
        assert refused.status_code == 400, limit
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_cursor_the_service_did_not_give_is_400_naming_cursor(
    client: Client, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    for cursor in ("not a cursor!", "a", "", "=="):
        response = await client.get(
            "/v1/forces", params={"explain": "true", "limit": 1, "cursor": cursor}
        )
        assert response.status_code == 400, cursor
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == "cursor"


async def test_rows_a_key_picks_are_paged_too(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    pages = await _pages(client, "/v1/forces", key="russia", limit=1, min_position=head)
    assert [[row.key for row in page.rows] for page in pages] == [
        ["russia/kursk-oblast"],
        ["russia/ukraine"],
    ]
    whole = await explain(pool, "forces", "russia", position=head)
    assert [row for page in pages for row in page.rows] == list(whole.rows)


async def test_one_rows_explanation_is_one_page(client: Client, store: EventStore) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    for path, params in (
        ("/v1/holdings/kursk-oblast", {}),
        ("/v1/holdings", {"key": "kursk-oblast/ukraine"}),
    ):
        response = await client.get(
            path, params={"explain": "true", "min_position": head, **params}
        )
        assert response.status_code == 200, response.text
        page = msgspec.json.decode(response.content, type=ExplanationPage)
        assert [row.key for row in page.rows] == ["kursk-oblast/ukraine"]
        assert page.next_cursor is None
        assert "General Staff" in response.text


async def test_a_regions_holding_explained_pages_back_through_its_reports(
    client: Client, store: EventStore
) -> None:
    # Given the demo, and three more claims that Ukraine holds about 800 km² of Kursk
    service = ReportService(store)
    await load_demo(service)
    for _ in range(3):
        await service.file(_holding_in("Kursk Oblast"))
    head = await store.position()
    asked: dict[str, str | int] = {"explain": "true", "reports": 1, "min_position": head}

    # When the region's holding is explained one report besides its figures' at a time
    first = await client.get("/v1/holdings/kursk-oblast", params=asked)
    assert first.status_code == 200, first.text
    (row,) = first.json()["rows"]
    listed = {report["report_id"] for report in row["reports"]}
    cursor = row["earlier_reports"]
    back = await client.get("/v1/holdings/kursk-oblast", params={**asked, "reports_cursor": cursor})

    # Then the page back names the same row and an earlier report not listed before, as the
    # view's own route gives it
    assert back.status_code == 200, back.text
    (earlier,) = back.json()["rows"]
    assert earlier["key"] == "kursk-oblast/ukraine"
    assert {report["report_id"] for report in earlier["reports"]} - listed
    same = await client.get(
        "/v1/holdings", params={**asked, "key": "kursk-oblast", "reports_cursor": cursor}
    )
    assert same.json()["rows"] == back.json()["rows"]
