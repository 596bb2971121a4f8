"""`GET /v1/incidents`: the event datasets' incidents added up per region, actor, kind,
source and month, as JSON and as CSV, and with `explain=true` the incidents in a sum, a page
at a time (`reports`, then each row's `earlier_reports` as `reports_cursor`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.api.conftest import Client
from tests.api.test_import_api import part, post_import
from tests.event_datasets import ACLED_ROWS, SUDZHA_CLASH, acled_file

KURSK_CLASHES = "russia/kursk/all-actors/clash/acled/2024-11"


async def _imported(client: Client, tmp_path: Path) -> int:
    export = acled_file(tmp_path, "acled.csv", (*ACLED_ROWS, SUDZHA_CLASH))
    answer = await post_import(client, [part(export)], format="acled")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["last_position"])


async def test_the_months_clashes_in_kursk_are_summed_as_json_and_as_csv(
    client: Client, tmp_path: Path
) -> None:
    # Given ACLED's clashes near Plekhovo (12 dead) and at Sudzha (3 dead) imported
    head = await _imported(client, tmp_path)
    asked = {"key": "russia/kursk/all-actors/clash", "min_position": str(head)}

    # When a chart asks for Kursk's clashes, month by month
    answer = await client.get("/v1/incidents", params=asked)
    table = await client.get("/v1/incidents.csv", params=asked)

    # Then November's are two, 15 dead, ACLED's one figure bounding itself
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["rows"]
    assert row["key"] == KURSK_CLASHES
    assert {k: row["row"][k] for k in ("events", "fatalities_low", "fatalities_high")} == {
        "events": 2,
        "fatalities_low": 15.0,
        "fatalities_high": 15.0,
    }
    assert row["row"]["fatalities_best"] == 15.0
    # and the CSV twin has the same row, a column per value
    assert table.status_code == 200, table.text
    (line,) = csv.DictReader(io.StringIO(table.text))
    assert (line["key"], line["row.events"], line["row.fatalities_best"]) == (
        KURSK_CLASHES,
        "2",
        "15.0",
    )


async def test_explain_pages_through_the_incidents_of_one_sum(
    client: Client, tmp_path: Path
) -> None:
    head = await _imported(client, tmp_path)
    asked = {"key": KURSK_CLASHES, "explain": "true", "reports": "1", "min_position": str(head)}

    # When the sum is explained one incident at a time
    first = await client.get("/v1/incidents", params=asked)
    (row,) = first.json()["rows"]
    cursor = row["earlier_reports"]
    second = await client.get("/v1/incidents", params={**asked, "reports_cursor": cursor})

    # Then the latest clash (Sudzha, 24 November) comes first, then Plekhovo's, and no more
    assert first.status_code == second.status_code == 200, second.text
    (earlier,) = second.json()["rows"]
    assert [r["date"][:10] for r in (*row["reports"], *earlier["reports"])] == [
        "2024-11-24",
        "2024-11-21",
    ]
    assert row["reports_total"] == earlier["reports_total"] == 2
    assert "earlier_reports" not in earlier
    assert {r["role"] for r in (*row["reports"], *earlier["reports"])} == {"shown"}


async def test_a_reports_cursor_we_did_not_give_is_a_400_naming_it(
    client: Client, tmp_path: Path
) -> None:
    answer = await client.get(
        "/v1/incidents", params={"explain": "true", "reports_cursor": "not-a-cursor"}
    )

    assert answer.status_code == 400
    assert answer.json()["field"] == "reports_cursor"
