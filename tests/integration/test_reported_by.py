"""What had been published by a date (`reported_by`): two vintages of one estimate series,
both imported today, each answering for its own date; an ACLED event corrected and deleted
in later uploads, shown as each upload left it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from application.imports import Format, read_format
from application.imports.identity import row_report_id
from application.imports.importer import import_datasets
from domain.events import ReportCorrected, ReportRetracted
from domain.occurrence import Day, Instant
from projections.replay import InvalidReplayQuestion, ReplayAnswer, replay
from projections.views.timeline import TimelineRow
from store.event_store import EventStore
from tests.event_datasets import (
    ACLED_ROWS,
    BERDIANSK_SHELLING,
    PLEKHOVO_CLASH,
    acled_deleted_file,
    acled_file,
)

ESTIMATES_HEADER = (
    "date,estimate_low,estimate_high,estimate,type,source,source_url,country,"
    '"ignore for chart, data from warring parties"'
)
AFU = "Armed Forces of Ukraine,https://www.mil.gov.ua/news/2024/02/06/,russia,yes"
NOVEMBER_26 = "1732600920"  # ACLED's upload time of the hand-made export: 2024-11-26 06:02 UTC
NOVEMBER_29 = "1732860120"  # a later upload, 2024-11-29 06:02 UTC


def _estimates(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join((ESTIMATES_HEADER, *rows)) + "\n", encoding="utf-8")
    return path


async def _import_estimates(store: EventStore, path: Path, vintage: date) -> None:
    datasets = read_format(Format.ECONOMIST_ESTIMATES, [path], vintage)
    answer = await import_datasets(store, datasets)
    assert not answer.refused


def _summaries(answer: ReplayAnswer) -> list[str]:
    return [row.row.summary for row in answer.rows if isinstance(row.row, TimelineRow)]


async def _timeline(store: EventStore, reported_by: date | datetime | None) -> ReplayAnswer:
    return await replay(store, "timeline", reported_by=reported_by)


async def test_each_vintage_of_an_estimate_answers_for_the_days_after_it_came_out(
    store: EventStore, tmp_path: Path
) -> None:
    # The Economist's file of 1 February has the General Staff's 390,580 of 16 January; its
    # file of 1 March has the same estimate revised to 391,000. Both are imported today.
    await _import_estimates(
        store,
        _estimates(tmp_path, "v1.csv", f"16/01/2024,,,390580,casualties,{AFU}"),
        date(2024, 2, 1),
    )
    await _import_estimates(
        store,
        _estimates(tmp_path, "v2.csv", f"16/01/2024,,,391000,casualties,{AFU}"),
        date(2024, 3, 1),
    )

    february = await _timeline(store, date(2024, 2, 15))
    march = await _timeline(store, date(2024, 3, 1))
    now = await _timeline(store, None)

    assert february.reported_by == "2024-02-15"
    assert [summary for summary in _summaries(february) if "390,580" in summary]
    assert not [summary for summary in _summaries(february) if "391,000" in summary]
    assert [summary for summary in _summaries(march) if "391,000" in summary]
    assert _summaries(march) == _summaries(now)
    assert now.reported_by is None
    # Before the estimate's own day nothing of it had been published.
    assert _summaries(await _timeline(store, date(2024, 1, 15))) == []
    correction = (await store.read_log())[-1].event
    assert isinstance(correction, ReportCorrected)
    assert correction.reported == Day(on=date(2024, 3, 1))


async def test_an_acled_event_stands_as_each_upload_left_it(
    store: EventStore, tmp_path: Path
) -> None:
    await import_datasets(
        store, read_format(Format.ACLED, [acled_file(tmp_path, "acled.csv", ACLED_ROWS)], None)
    )
    # The next upload (29 November) revises the clash's toll from 12 to 14; ACLED's list of
    # deleted events then withdraws the looting at Kurakhove on 3 December.
    later = acled_file(
        tmp_path,
        "acled-later.csv",
        (PLEKHOVO_CLASH.replace(NOVEMBER_26, NOVEMBER_29), BERDIANSK_SHELLING),
        fatalities=14,
    )
    datasets = read_format(Format.ACLED, [later], None, deleted=acled_deleted_file(tmp_path))
    await import_datasets(store, datasets)

    def clash(answer: ReplayAnswer) -> TimelineRow:
        wanted = row_report_id("acled", "RUS1001")
        rows = [row.row for row in answer.rows if isinstance(row.row, TimelineRow)]
        return next(row for row in rows if row.report_id == wanted)

    def looting_retracted(answer: ReplayAnswer) -> bool:
        wanted = row_report_id("acled", "UKR2004")
        rows = [row.row for row in answer.rows if isinstance(row.row, TimelineRow)]
        return next(row for row in rows if row.report_id == wanted).retracted

    first_upload = await _timeline(store, datetime(2024, 11, 27, tzinfo=UTC))
    second_upload = await _timeline(store, date(2024, 11, 30))
    after_deletion = await _timeline(store, date(2024, 12, 3))

    assert clash(first_upload).corrections == 0
    assert clash(second_upload).corrections == 1
    assert not looting_retracted(second_upload)
    assert looting_retracted(after_deletion)
    events = [recorded.event for recorded in await store.read_log()]
    retraction = next(event for event in events if isinstance(event, ReportRetracted))
    assert retraction.reported == Instant(at=datetime(2024, 12, 3, 6, 2, tzinfo=UTC))


async def test_a_correction_that_does_not_say_when_it_came_out_goes_with_its_report(
    store: EventStore, tmp_path: Path
) -> None:
    # Imported without a vintage, the revised file cannot say when its figure came out: the
    # correction then stands wherever the estimate does.
    await import_datasets(
        store,
        read_format(
            Format.ECONOMIST_ESTIMATES,
            [_estimates(tmp_path, "v1.csv", f"16/01/2024,,,390580,casualties,{AFU}")],
            None,
        ),
    )
    await import_datasets(
        store,
        read_format(
            Format.ECONOMIST_ESTIMATES,
            [_estimates(tmp_path, "v2.csv", f"16/01/2024,,,391000,casualties,{AFU}")],
            None,
        ),
    )

    january = await _timeline(store, date(2024, 1, 16))

    assert [summary for summary in _summaries(january) if "391,000" in summary]


async def test_reported_by_without_a_time_zone_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidReplayQuestion, match="reported_by needs a time zone"):
        await _timeline(store, datetime(2024, 11, 23, 12))
