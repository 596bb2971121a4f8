"""`POST /v1/imports`: an editor posts a dataset's file and is answered row by row, as
`timeline import --json` answers (the same use case): added, corrected, retracted,
unchanged, refused; the same file again writes nothing, a bad row writes nothing unless
skip_invalid, and a reader may not import."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from api.app import create_app
from api.settings import ApiSettings, LimitSettings
from application.imports import Format
from application.imports.identity import row_report_id
from application.imports.importer import ImportAnswer
from application.imports.importing import import_files, summary
from application.imports.rows import SourceFile
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Client, Keys
from tests.api.live_server import serving
from tests.api.test_writes_api import assert_problem
from tests.event_datasets import (
    ACLED_DELETED,
    ACLED_ROWS,
    BERDIANSK_SHELLING,
    GED_ROWS,
    KURAKHOVE_FIGHTING,
    PLEKHOVO_CLASH,
    SUDZHA_CLASH,
    acled_file,
    ged_file,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "imports"
# Smaller than the route's own ceiling, larger than the ISW file (170 kB).
IMPORT_LIMIT = 262_144

Part = tuple[str, tuple[str, bytes, str]]


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(default_wait_seconds=3.0, max_import_bytes=IMPORT_LIMIT)


def part(path: Path, name: str = "file", media_type: str = "text/csv") -> Part:
    return (name, (path.name, path.read_bytes(), media_type))


async def post_import(client: Client, parts: list[Part], **params: str) -> Any:
    return await client.post("/v1/imports", params=params, files=parts)


def _tallies(tmp_path: Path, name: str, days: set[str]) -> Path:
    """The General Staff's file cut down to `days`, as the file writes them."""
    rows = json.loads((DATA / name).read_text(encoding="utf-8"))
    path = tmp_path / name
    path.write_text(json.dumps([row for row in rows if row["date"] in days], indent=4))
    return path


async def test_an_acled_export_posted_adds_each_event_and_posted_again_is_unchanged(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled-2024-11-26.csv", ACLED_ROWS)

    first = await post_import(client, [part(export)], format="acled")

    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["counts"] == {
        "added": 4,
        "corrected": 0,
        "retracted": 0,
        "unchanged": 0,
        "refused": 0,
    }
    assert answer["written"] is True
    assert first.headers["X-Timeline-Position"] == str(answer["last_position"]) == "4"
    plekhovo = next(row for row in answer["rows"] if row["row"] == "RUS1001")
    assert plekhovo == {
        "outcome": "added",
        "file": "acled-2024-11-26.csv",
        "line": 2,
        "row": "RUS1001",
        "report_id": str(row_report_id("acled", "RUS1001")),
    }
    report = await client.get(f"/v1/reports/{plekhovo['report_id']}")
    assert report.json()["report"]["claim"]["kind"] == "clash"

    again = await post_import(client, [part(export)], format="acled")

    assert again.status_code == 200, again.text
    assert again.json()["counts"]["unchanged"] == 4
    assert again.json()["written"] is False
    assert again.json()["last_position"] is None
    assert "X-Timeline-Position" not in again.headers
    assert await store.position() == 4


async def test_a_revised_export_and_acleds_deleted_list_correct_add_and_retract(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    await post_import(
        client, [part(acled_file(tmp_path, "acled-1.csv", ACLED_ROWS))], format="acled"
    )
    # A week later: Plekhovo's fatalities revised, Sudzha new, Kurakhove's looting deleted.
    revised = acled_file(
        tmp_path, "acled-2.csv", (PLEKHOVO_CLASH, BERDIANSK_SHELLING, SUDZHA_CLASH), fatalities=15
    )
    deleted = tmp_path / "acled-deleted.csv"
    deleted.write_bytes(ACLED_DELETED.encode())

    response = await post_import(client, [part(revised), part(deleted, "deleted")], format="acled")

    assert response.status_code == 200, response.text
    outcomes = {row["row"]: row["outcome"] for row in response.json()["rows"]}
    assert outcomes == {
        "RUS1001": "corrected",
        "UKR2002": "unchanged",
        "RUS1007": "added",
        "UKR2004": "retracted",
    }
    looting = await client.get(f"/v1/reports/{row_report_id('acled', 'UKR2004')}")
    assert looting.json()["report"]["verification"] == "retracted"
    clash = await client.get(f"/v1/reports/{row_report_id('acled', 'RUS1001')}")
    assert clash.json()["report"]["claim"]["fatalities"]["value"] == 15


async def test_the_answer_is_the_use_cases_row_by_row_as_timeline_import_json_prints_it(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled-2024-11-26.csv", ACLED_ROWS)
    expected = summary(
        Format.ACLED,
        await import_files(store, Format.ACLED, [SourceFile.read(export)], dry_run=True),
        dry_run=True,
    )

    response = await post_import(client, [part(export)], format="acled", dry_run="true")

    assert response.json() == msgspec.to_builtins(expected)


async def test_a_complete_ged_release_retracts_the_event_missing_from_it(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    first = ged_file(tmp_path, "ged-25.1.csv", GED_ROWS)
    await post_import(client, [part(first)], format="ucdp-ged", release="25.1")
    later = ged_file(tmp_path, "ged-25.2.csv", GED_ROWS[:2], deaths_a=7, best=11)

    response = await post_import(client, [part(later)], format="ucdp-ged", release="25.2")

    assert response.status_code == 200, response.text
    counts = response.json()["counts"]
    assert (counts["corrected"], counts["retracted"], counts["unchanged"]) == (1, 1, 1)
    gone = next(row for row in response.json()["rows"] if row["outcome"] == "retracted")
    assert gone["row"] == "512347"
    assert "line" not in gone  # the row is gone from the file: it has no line
    kurakhove = await client.get(f"/v1/reports/{row_report_id('ucdp-ged', '512345')}")
    assert kurakhove.json()["report"]["claim"]["fatalities"]["value"] == 11
    assert KURAKHOVE_FIGHTING.startswith("512345,")


async def test_both_general_staff_files_come_as_two_file_parts_of_one_import(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    days = {"2024-11-22", "2024-11-23"}
    equipment = _tallies(tmp_path, "russia_losses_equipment.json", days)
    personnel = _tallies(tmp_path, "russia_losses_personnel.json", days)

    response = await post_import(
        client,
        [
            part(equipment, media_type="application/json"),
            part(personnel, media_type="application/json"),
        ],
        format="gs-losses",
        vintage="2026-08-08",
    )

    assert response.status_code == 200, response.text
    assert {row["file"] for row in response.json()["rows"]} == {
        "russia_losses_equipment.json",
        "russia_losses_personnel.json",
    }
    tanks = await client.get(
        f"/v1/reports/{row_report_id('gs-losses/equipment', '2024-11-23/tank')}"
    )
    assert tanks.json()["report"]["claim"]["count"]["value"] == 9419
    personnel_row = row_report_id("gs-losses/personnel", "2024-11-23/personnel")
    report = (await client.get(f"/v1/reports/{personnel_row}")).json()["report"]
    assert report["claim"]["total"]["value"] == 729720
    assert report["attribution"]["provenance"]["release"] == "2026-08-08"


async def test_a_dry_run_of_the_isw_file_counts_every_row_and_writes_nothing(
    client: Client, store: EventStore
) -> None:
    response = await post_import(
        client,
        [part(DATA / "area_assessed_as_russia_controlled.csv")],
        format="isw-area",
        dry_run="true",
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["dry_run"], answer["written"]) == (True, False)
    assert (answer["counts"]["added"], answer["counts"]["unchanged"]) == (1642, 1)
    assert await store.position() == 0


async def test_bad_rows_are_a_422_naming_each_line_and_nothing_is_written(
    client: Client, store: EventStore
) -> None:
    broken = FIXTURES / "economist-broken.csv"

    response = await post_import(client, [part(broken)], format="economist-estimates")

    problem = assert_problem(response, 422, "invalid-rows")
    assert {error["file"] for error in problem["errors"]} == {"economist-broken.csv"}
    bad_date = next(error for error in problem["errors"] if error["line"] == 4)
    assert bad_date["field"] == "date"
    assert "31/11/2024" in bad_date["message"]
    assert len(problem["errors"]) >= 5
    assert "nothing was written" in problem["detail"]
    assert await store.position() == 0


async def test_skip_invalid_writes_the_good_rows_and_lists_the_refused_ones(
    client: Client, store: EventStore
) -> None:
    broken = FIXTURES / "economist-broken.csv"

    response = await post_import(
        client, [part(broken)], format="economist-estimates", skip_invalid="true"
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["counts"]["added"] == 2  # Mediazona's and CSIS's estimates
    refused = [row for row in answer["rows"] if row["outcome"] == "refused"]
    assert {row["line"] for row in refused} >= {4, 5, 6}
    assert all(row["field"] and row["message"] for row in refused)
    assert await store.position() == answer["last_position"] == 2


async def test_a_file_that_is_not_the_format_is_a_422_and_writes_nothing(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    response = await post_import(client, [part(export)], format="gs-losses")

    problem = assert_problem(response, 422, "unreadable-file")
    assert "acled.csv" in problem["detail"]
    assert await store.position() == 0


async def test_a_deleted_list_is_acleds_alone(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    release = ged_file(tmp_path, "ged-25.1.csv", GED_ROWS)
    deleted = tmp_path / "acled-deleted.csv"
    deleted.write_bytes(ACLED_DELETED.encode())

    response = await post_import(
        client, [part(release), part(deleted, "deleted")], format="ucdp-ged"
    )

    problem = assert_problem(response, 422, "unreadable-file")
    assert "ACLED's" in problem["detail"]


async def test_an_unknown_format_is_a_400(client: Client, tmp_path: Path) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    response = await post_import(client, [part(export)], format="acled-2")

    problem = assert_problem(response, 400, "invalid-request")
    assert problem["field"] == "query parameter format"


async def test_a_reader_key_may_not_import_and_nothing_is_written(
    client: Client, store: EventStore, keys: Keys, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    response = await client.post(
        "/v1/imports",
        params={"format": "acled"},
        files=[part(export)],
        headers=Keys.header(keys.reader),
    )

    assert_problem(response, 403, "forbidden")
    assert await store.position() == 0


async def test_a_file_sent_as_the_raw_body_is_a_415_that_names_multipart(
    client: Client, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    response = await client.post(
        "/v1/imports",
        params={"format": "acled"},
        content=export.read_bytes(),
        headers={"Content-Type": "text/csv"},
    )

    assert_problem(response, 415, "unsupported-media-type")
    assert response.headers["Accept-Post"] == "multipart/form-data"


async def test_files_larger_than_the_configured_limit_are_413_and_write_nothing(
    client: Client, store: EventStore
) -> None:
    equipment = DATA / "russia_losses_equipment.json"  # 706 kB: a deployment taking 256 kB

    response = await post_import(client, [part(equipment)], format="gs-losses")

    problem = assert_problem(response, 413, "body-too-large")
    assert "at most 262,144 bytes" in problem["detail"]
    assert "timeline import" in problem["detail"]
    assert await store.position() == 0


async def test_a_body_larger_than_the_routes_ceiling_is_413(
    client: Client, store: EventStore
) -> None:
    huge = ("file", ("acled.csv", b"x" * (64 * 1_048_576 + 1), "text/csv"))

    response = await post_import(client, [huge], format="acled")

    problem = assert_problem(response, 413, "body-too-large")
    assert "67,108,864 bytes" in problem["detail"]
    assert await store.position() == 0


async def test_a_body_cut_short_is_a_400_and_writes_nothing(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS).read_bytes()
    body = b'--kursk\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'

    response = await client.post(
        "/v1/imports",
        params={"format": "acled"},
        content=body + export[:200],  # no closing boundary
        headers={"Content-Type": "multipart/form-data; boundary=kursk"},
    )

    problem = assert_problem(response, 400, "malformed-multipart")
    assert "not valid multipart/form-data" in problem["detail"]
    assert await store.position() == 0


async def test_a_part_of_another_name_is_a_422_naming_it(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    response = await post_import(client, [part(export, "acled")], format="acled")

    problem = assert_problem(response, 422, "invalid-request")
    assert "'acled'" in problem["detail"]
    assert await store.position() == 0


class HeldImports:
    """`import_files` standing in for itself, holding every import until released (the app
    runs in the live server's thread, hence threading's events)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.started = threading.Event()
        self.release = threading.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> ImportAnswer:
        self.started.set()
        await asyncio.to_thread(self.release.wait, 30)
        answer: ImportAnswer = await self.real(*args, **kwargs)
        return answer


async def test_a_second_import_while_one_runs_is_503_with_retry_after_and_writes_nothing(
    database_url: str,
    keys: Keys,
    store: EventStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a process that runs one import at a time, busy with an ACLED export
    held = HeldImports(import_files)
    monkeypatch.setattr("api.import_routes.import_files", held)
    app = create_app(
        Database(url=database_url, embedded=False),
        settings=ApiSettings(limits=LimitSettings(imports_at_once=1, refusal_delay_seconds=0)),
    )
    export = acled_file(tmp_path, "acled-2024-11-26.csv", ACLED_ROWS)
    ged = ged_file(tmp_path, "ged-25.1.csv", GED_ROWS)
    with serving(app) as url:
        async with httpx.AsyncClient(
            base_url=url, headers=Keys.header(keys.editor), timeout=30
        ) as http:
            first = asyncio.create_task(
                http.post("/v1/imports", params={"format": "acled"}, files=[part(export)])
            )
            await asyncio.to_thread(held.started.wait, 30)

            # When a second editor posts UCDP's release meanwhile
            second = await http.post(
                "/v1/imports", params={"format": "ucdp-ged", "release": "25.1"}, files=[part(ged)]
            )

            # Then it is refused with when to come back, and nothing of it is written
            assert second.status_code == 503, second.text
            assert second.headers["content-type"].startswith("application/problem+json")
            assert int(second.headers["retry-after"]) >= 1
            assert second.json()["type"].endswith("/too-many-imports")
            assert await store.position() == 0

            held.release.set()
            assert (await first).json()["counts"]["added"] == 4
            # and once the first is done, the second goes through
            again = await http.post(
                "/v1/imports", params={"format": "ucdp-ged", "release": "25.1"}, files=[part(ged)]
            )
            assert again.json()["counts"]["added"] == 3
            assert await store.position() == 7
