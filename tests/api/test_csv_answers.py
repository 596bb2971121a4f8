"""Reads as CSV for newsroom tools: the same figures as the JSON, a table a spreadsheet reads,
and a precise 406 when the request accepts nothing a route answers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import msgspec

from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Client

CSV = {"Accept": "text/csv"}
KURSK_800 = Path(__file__).resolve().parents[2] / "examples" / "kursk-800.json"


def _table(body: bytes) -> list[dict[str, str]]:
    # RFC 4180: CRLF ends every line, the header row included
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def _kursk_800() -> dict[str, Any]:
    filing: dict[str, Any] = msgspec.json.decode(KURSK_800.read_bytes())
    return filing


def _figure(value: Any) -> str:
    return "" if value is None else str(value)


async def _demo(client: Client, store: EventStore) -> int:
    await load_demo(ReportService(store))
    head = await store.position()
    for view in ("holdings", "holdings-series", "strikes"):
        settled = await client.get(f"/v1/{view}", params={"min_position": head})
        assert settled.status_code == 200, settled.text
    return head


async def test_holdings_as_csv_carry_the_json_figures_under_their_json_paths(
    client: Client, store: EventStore
) -> None:
    # Given the seed article's reports
    await _demo(client, store)

    # When a newsroom asks the holdings as JSON, as CSV, and at the .csv twin
    as_json = await client.get("/v1/holdings")
    as_csv = await client.get("/v1/holdings", headers=CSV)
    twin = await client.get("/v1/holdings.csv")

    # Then the CSV is a table of the same rows and figures, 800 and 1,376 km² for Kursk
    assert as_csv.status_code == twin.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert "accept" in as_csv.headers["vary"].lower()
    assert twin.content == as_csv.content
    assert as_csv.headers["x-timeline-position"] == as_json.headers["x-timeline-position"]
    rows = {row["key"]: row for row in _table(as_csv.content)}
    kursk = rows["kursk-oblast/ukraine"]
    assert kursk["row.current.area.value"] == "800.0"
    assert kursk["row.peak.area.value"] == "1376.0"
    assert kursk["row.current.attribution.source"] == "Ukrainian General Staff source"
    for entry in as_json.json()["rows"]:
        line = rows[entry["key"]]
        assert line["row.region"] == entry["row"]["region"]
        current = entry["row"]["current"]
        if current is not None:
            assert line["row.current.area.value"] == _figure(current["area"].get("value"))
    # And the JSON is the JSON it was: the bytes of the view, not touched by the layer
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.content.startswith(b'{"as_of":null')


async def test_a_history_comes_as_flat_points_in_json_and_in_csv(
    client: Client, store: EventStore
) -> None:
    # Given the seed article's reports
    head = await _demo(client, store)

    # When a chart asks Kursk's holdings over time as points
    params: dict[str, str | int] = {"key": "Kursk Oblast/Ukraine", "min_position": head}
    as_json = await client.get("/v1/holdings-series/points", params=params)
    as_csv = await client.get("/v1/holdings-series/points.csv", params=params)

    # Then each point is one flat object: the peak of 1 August and the 800 km² of 23 November
    assert as_json.status_code == 200, as_json.text
    points = as_json.json()["points"]
    assert [(p["date"], p["measure"], p["value"], p["qualifier"]) for p in points] == [
        ("2024-08-01T00:00:00Z", "peak", 1376.0, "about"),
        ("2024-11-23T00:00:00Z", "current", 800.0, "about"),
    ]
    assert {p["source"] for p in points} == {"Ukrainian General Staff source"}
    assert {p["outlet"] for p in points} == {"Reuters"}
    assert [p["precision"] for p in points] == ["interval", "day"]  # August to the article
    assert {p["series"] for p in points} == {"kursk-oblast/ukraine"}
    # And the CSV carries the same figures, a line per point, a column per field
    lines = _table(as_csv.content)
    assert sorted(lines[0]) == sorted(points[0])
    assert [line["value"] for line in lines] == ["1376.0", "800.0"]
    assert [line["report_id"] for line in lines] == [p["report_id"] for p in points]
    assert [line["low"] for line in lines] == ["", ""]


async def test_a_timeline_page_as_csv_is_the_json_page_and_links_the_next(
    client: Client, store: EventStore
) -> None:
    # Given the seed article's reports
    await _demo(client, store)

    # When the timeline's first page of two is asked as JSON and as CSV
    params = {"limit": "2", "verification": "unverified"}
    as_json = (await client.get("/v1/timeline", params=params)).json()
    as_csv = await client.get("/v1/timeline.csv", params=params)

    # Then the CSV holds the page's reports with their summaries (commas quoted)
    lines = _table(as_csv.content)
    assert [line["report_id"] for line in lines] == [i["report_id"] for i in as_json["items"]]
    assert [line["summary"] for line in lines] == [i["summary"] for i in as_json["items"]]
    assert b'"' in as_csv.content  # a summary such as "about 1,376 km2" is quoted
    # And the next page is a Link to the same .csv with the JSON's cursor
    cursor = as_json["next_cursor"]
    assert cursor is not None
    link = as_csv.headers["link"]
    assert link.startswith("</v1/timeline.csv?")
    assert link.endswith('>; rel="next"')
    assert f"cursor={cursor}" in link
    assert "verification=unverified" in link
    following = await client.get(link[1:].split(">")[0])
    assert following.status_code == 200
    assert following.headers["content-type"].startswith("text/csv")


async def test_a_past_tense_csv_holds_the_past_tense_json_figures(
    client: Client, store: EventStore
) -> None:
    # Given the seed article's reports
    await _demo(client, store)

    # When the holdings are asked as they were on 1 September 2024
    past = {"as_of": "2024-09-01"}
    as_json = (await client.get("/v1/holdings", params=past)).json()
    as_csv = await client.get("/v1/holdings", params=past, headers=CSV)

    # Then the 800 km² of November is not there yet; the peak of 1,376 km² is
    lines = {line["key"]: line for line in _table(as_csv.content)}
    kursk = lines["kursk-oblast/ukraine"]
    assert kursk["row.peak.area.value"] == "1376.0"
    assert kursk["row.current.area.value"] == ""  # nothing current yet, the column kept
    for entry in as_json["rows"]:
        current = entry["row"]["current"]
        expected = "" if current is None else _figure(current["area"].get("value"))
        assert lines[entry["key"]]["row.current.area.value"] == expected


async def test_a_client_preferring_json_gets_json_and_one_preferring_csv_gets_csv(
    client: Client, store: EventStore
) -> None:
    await _demo(client, store)
    json_first = await client.get(
        "/v1/damage", headers={"Accept": "application/json, text/csv;q=0.5"}
    )
    csv_first = await client.get(
        "/v1/damage", headers={"Accept": "text/csv, application/json;q=0.5"}
    )
    browser = await client.get(
        "/v1/damage", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert json_first.headers["content-type"].startswith("application/json")
    assert csv_first.headers["content-type"].startswith("text/csv")
    assert browser.headers["content-type"].startswith("application/json")


async def test_an_accept_no_route_can_answer_is_a_precise_406(
    client: Client, store: EventStore
) -> None:
    await _demo(client, store)
    report_id = (await client.get("/v1/timeline")).json()["items"][0]["report_id"]
    refusals = {
        "html only": await client.get("/v1/holdings", headers={"Accept": "text/html"}),
        "csv twin, json only": await client.get(
            "/v1/holdings.csv", headers={"Accept": "application/json"}
        ),
        "an explanation": await client.get("/v1/holdings.csv", params={"explain": "true"}),
        "an explanation asked as csv": await client.get(
            "/v1/holdings", params={"explain": "true"}, headers=CSV
        ),
        "a report": await client.get(f"/v1/reports/{report_id}", headers=CSV),
        "a report's twin": await client.get(f"/v1/reports/{report_id}.csv"),
        "geojson": await client.get("/v1/strikes.geojson", headers=CSV),
    }
    for why, refused in refusals.items():
        assert refused.status_code == 406, why
        assert refused.headers["content-type"].startswith("application/problem+json"), why
        problem = refused.json()
        assert problem["type"].endswith("/not-acceptable"), why
        assert problem["field"] == "Accept", why
    assert "answers application/json or text/csv" in refusals["html only"].json()["detail"]
    assert "has no CSV form" in refusals["an explanation"].json()["detail"]
    assert "answers application/geo+json" in refusals["geojson"].json()["detail"]


async def test_a_csv_answer_is_not_modified_by_its_etag_and_head_tells_its_type(
    client: Client, store: EventStore
) -> None:
    await _demo(client, store)
    first = await client.get("/v1/front.csv")
    again = await client.get("/v1/front.csv", headers={"If-None-Match": first.headers["etag"]})
    head = await client.head("/v1/front.csv")
    assert again.status_code == 304
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/csv")
    assert head.headers["content-length"] == str(len(first.content))


async def test_a_text_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    client: Client, store: EventStore
) -> None:
    # Given the 800 km² of Kursk Oblast filed with a source and an outlet that begin like
    # spreadsheet formulas
    filing = _kursk_800()
    filing["attribution"]["source"] = '=HYPERLINK("http://evil.example","Reuters")'
    filing["attribution"]["outlet"] = "@SUM(1+1) and -2 km"
    filed = await client.post("/v1/reports", json=filing)
    assert filed.status_code == 201, filed.text
    head = filed.json()["position"]

    # When the timeline is read as CSV, and as JSON
    answer = await client.get("/v1/timeline.csv", params={"min_position": head})
    item = (await client.get("/v1/timeline", params={"min_position": head})).json()["items"][0]

    # Then those cells begin with an apostrophe (text, to a spreadsheet) while the JSON
    # keeps them as filed, and the other cells are written as they are
    assert answer.status_code == 200, answer.text
    (line,) = _table(answer.content)
    assert item["source"] == filing["attribution"]["source"]
    assert line["source"] == "'" + item["source"]
    assert line["outlet"] == "'" + item["outlet"]
    assert line["region"] == item["region"] == "Kursk Oblast"
    assert line["report_id"] == item["report_id"]
