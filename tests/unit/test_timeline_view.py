"""The timeline view: every report of the seed article, in the order things happened.

Given the article's fourteen reports and what happened to them later, when the timeline
folds the log, then each report is one row, ordered by `sort_key`, that a dashboard can
filter by kind, region, actor, source, verification and dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from domain.attribution import Attribution, Side, Verification
from domain.events import DomainEvent
from domain.occurrence import Instant
from domain.report import Report, correct, deny, dispute, project_report, retract
from projections.core import fold, render_all
from projections.views.timeline import TimelineRow, TimelineView, timeline_matches
from seed.kursk_article import demo_report_id
from tests.projection_support import RECORDED_FROM, demo_events, recorded
from tests.seed_values import RUSSIAN_DEFENCE_MINISTRY

VIEW = TimelineView()
KREMLIN = Attribution(source="Kremlin spokesman", side=Side.RUSSIA)

IN_ORDER_OF_OCCURRENCE = [
    "russian-full-scale-invasion",  # February 2022
    "port-facilities-damaged",  # since July 2023, filed before the ships
    "foreign-merchant-ships-damaged",
    "kursk-incursion",  # August 2024, in the order they were filed
    "kursk-peak-holding",
    "kursk-counter-assaults",
    "kursk-russian-deployment",
    "kursk-reinforcements-november-11",
    "berdiansk-strike",  # Friday 22 November
    "kursk-current-holding",  # Saturday 23 November, in the order they were filed
    "kursk-north-korean-troops",  # "had arrived" by Saturday: placed at the start of its end
    "kurakhove-advance",
    "russian-force-strength",
    "russian-occupation-share",
]


def report_after(events: list[DomainEvent], slug: str) -> Report:
    report_id = demo_report_id(slug)
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def timeline(events: list[DomainEvent], as_of: datetime | None = None) -> list[TimelineRow]:
    """The rows in timeline order, as a dashboard would list them."""
    state, _ = fold(VIEW, recorded(events))
    rows = render_all(VIEW, state, as_of)
    typed = {key: row for key, row in rows.items() if isinstance(row, TimelineRow)}
    assert typed == rows
    # Keys are report ids, stable across corrections; the order is in `sort_key`.
    assert all(key == str(row.report_id) for key, row in typed.items())
    return sorted(typed.values(), key=lambda row: row.sort_key)


def row_of(rows: list[TimelineRow], slug: str) -> TimelineRow:
    (row,) = (row for row in rows if row.report_id == demo_report_id(slug))
    return row


def slugs(rows: list[TimelineRow]) -> list[str]:
    by_id = {demo_report_id(slug): slug for slug in IN_ORDER_OF_OCCURRENCE}
    return [by_id[row.report_id] for row in rows]


def test_the_demo_gives_fourteen_reports_in_order_of_occurrence() -> None:
    rows = timeline(demo_events())

    assert len(rows) == 14
    assert slugs(rows) == IN_ORDER_OF_OCCURRENCE
    assert rows[0].sort_key == (
        "2022-02-01T00:00:00.000000+00:00|2024-11-23T00:00:00.000000+00:00|000000000012"
    )


def test_the_berdiansk_strike_row_carries_what_a_timeline_filters_on() -> None:
    row = row_of(timeline(demo_events()), "berdiansk-strike")

    assert row.kind == "strike"
    assert row.summary == "Ukraine struck port of Berdiansk in Berdiansk with guided missile"
    assert (row.region, row.region_key, row.country) == (
        "Zaporizhzhia Oblast",
        "zaporizhzhia-oblast",
        "UA",
    )
    assert (row.actors, row.actor_keys) == (("Ukraine",), ("ukraine",))
    assert row.source.startswith("Governor Yevgeny Balitsky")
    assert (row.outlet, row.side) == ("Reuters", Side.RUSSIA)
    assert row.verification is Verification.CORROBORATED
    assert (row.occurred_from, row.occurred_to) == ("2024-11-22T00:00:00Z", "2024-11-23T00:00:00Z")
    assert row.reported_on == "2024-11-23T00:00:00Z"
    assert (row.corrections, row.retracted) == (0, False)
    assert (row.filed_at_position, row.last_changed_at_position) == (15, 16)
    assert row.recorded_at == RECORDED_FROM + timedelta(seconds=14)


def test_north_korean_troops_involve_both_allies_and_have_only_an_end() -> None:
    row = row_of(timeline(demo_events()), "kursk-north-korean-troops")

    assert row.actors == ("North Korea", "Russia")
    assert row.actor_keys == ("north-korea", "russia")
    assert (row.occurred_from, row.occurred_to) == (None, "2024-11-24T00:00:00Z")
    assert [caveat.party for caveat in row.caveats] == [
        "Reuters",
        "Russian Defence Ministry",
        "Russian authorities",
    ]


def test_a_correction_of_when_it_happened_moves_the_report_but_keeps_its_row() -> None:
    # Given the strike on Friday, when the time is corrected to shortly before midnight UTC,
    demo = demo_events()
    report = report_after(demo, "berdiansk-strike")
    correction = correct(
        report,
        claim=report.claim,
        occurred=Instant(at=datetime(2024, 11, 22, 21, 45, tzinfo=UTC)),
        reason="Ukrainian Telegram channels timed the explosion",
    )

    rows = timeline([*demo, correction])

    # then the same row (same report, same key) carries the new time and one correction.
    assert len(rows) == 14
    row = row_of(rows, "berdiansk-strike")
    assert row.sort_key.startswith("2024-11-22T21:45:00.000000+00:00|")
    assert (row.occurred_from, row.occurred_to) == ("2024-11-22T21:45:00Z", "2024-11-22T21:45:00Z")
    assert (row.corrections, row.last_changed_at_position) == (1, 17)
    assert slugs(rows) == IN_ORDER_OF_OCCURRENCE


def test_a_time_in_a_named_zone_is_the_instant_it_names_even_when_clocks_go_back() -> None:
    # Given the strike timed at 03:30 Kyiv time on the night the clocks went back, when
    # 03:30 came twice: once in summer time, then again an hour later (equal as Python
    # compares times in one zone, so a row must not reuse what it spelled for the other),
    demo = demo_events()
    report = report_after(demo, "berdiansk-strike")
    occurred_from = []
    for second_time in (0, 1):
        when = datetime(2024, 10, 27, 3, 30, tzinfo=ZoneInfo("Europe/Kyiv"), fold=second_time)
        correction = correct(
            report, claim=report.claim, occurred=Instant(at=when), reason="timed in Kyiv"
        )
        row = row_of(timeline([*demo, correction]), "berdiansk-strike")
        occurred_from.append(row.occurred_from)

    # then each row names its own instant, in UTC.
    assert occurred_from == ["2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"]


def test_a_retracted_report_stays_in_the_timeline_but_is_hidden_by_default() -> None:
    demo = demo_events()
    retraction = retract(
        report_after(demo, "kurakhove-advance"), reason="the source withdrew the figure"
    )

    rows = timeline([*demo, retraction])

    assert len(rows) == 14
    row = row_of(rows, "kurakhove-advance")
    assert (row.retracted, row.verification) == (True, Verification.RETRACTED)
    assert not timeline_matches(row)
    assert timeline_matches(row, include_retracted=True)
    assert timeline_matches(row, verification="retracted")
    assert sum(timeline_matches(r) for r in rows) == 13


def test_disputes_and_denials_show_in_the_verification_state() -> None:
    demo = demo_events()
    disputed = dispute(
        report_after(demo, "kursk-current-holding"),
        by=RUSSIAN_DEFENCE_MINISTRY,
        reason="says Ukrainian forces hold far less of the region",
    )
    denied = deny(
        report_after(demo, "kursk-north-korean-troops"),
        by=KREMLIN,
        statement="no North Korean troops are fighting in Kursk",
    )

    rows = timeline([*demo, disputed, denied])

    assert row_of(rows, "kursk-current-holding").verification is Verification.DISPUTED
    assert [slugs([r])[0] for r in rows if timeline_matches(r, verification="denied")] == [
        "kursk-north-korean-troops"
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kinds": {"territory_control"}}, ["kursk-peak-holding", "kursk-current-holding"]),
        ({"kinds": {"strike", "front_advance"}}, ["berdiansk-strike", "kurakhove-advance"]),
        ({"actor": "North Korea"}, ["kursk-north-korean-troops"]),
        ({"region": "donetsk-oblast"}, ["kurakhove-advance"]),
        (
            {"source": "reuters"},
            ["russian-full-scale-invasion", "kursk-incursion", "russian-occupation-share"],
        ),
        (
            {"region": "Kursk Oblast", "actor": "ukraine", "kinds": {"counterattack"}},
            ["kursk-counter-assaults", "kursk-reinforcements-november-11"],
        ),
        ({"verification": "corroborated"}, ["kursk-incursion", "berdiansk-strike"]),
    ],
)
def test_filters_by_kind_region_actor_source_and_verification(
    filters: dict[str, Any], expected: list[str]
) -> None:
    rows = timeline(demo_events())

    assert slugs([row for row in rows if timeline_matches(row, **filters)]) == expected


def test_a_date_range_matches_what_may_have_happened_within_it() -> None:
    rows = timeline(demo_events())
    friday, saturday = datetime(2024, 11, 22, tzinfo=UTC), datetime(2024, 11, 23, tzinfo=UTC)

    # Friday's strike, and every span that covers Friday (open-ended tallies included);
    # Saturday's reports start when the range ends, so they are out.
    assert slugs(
        [row for row in rows if timeline_matches(row, occurred_from=friday, occurred_to=saturday)]
    ) == [
        "port-facilities-damaged",
        "foreign-merchant-ships-damaged",
        "kursk-peak-holding",
        "kursk-counter-assaults",
        "kursk-russian-deployment",
        "berdiansk-strike",
        "kursk-north-korean-troops",
    ]
    # Reported from 12 November: the armed forces chief's report of the 11th is out.
    reported_later = [
        r for r in rows if timeline_matches(r, reported_from=datetime(2024, 11, 12, tzinfo=UTC))
    ]
    assert len(reported_later) == 13


def test_an_instant_at_the_start_of_a_range_is_in_and_a_day_ending_there_is_out() -> None:
    strike = row_of(timeline(demo_events()), "berdiansk-strike")
    midnight = datetime(2024, 11, 23, tzinfo=UTC)
    at_midnight = msgspec.structs.replace(strike, occurred=Instant(at=midnight))

    assert not timeline_matches(strike, occurred_from=midnight)
    assert timeline_matches(at_midnight, occurred_from=midnight)
    assert not timeline_matches(at_midnight, occurred_to=midnight)


def test_as_of_mid_august_shows_only_what_had_begun_by_then() -> None:
    rows = timeline(demo_events(), as_of=datetime(2024, 8, 15, tzinfo=UTC))

    assert slugs(rows) == IN_ORDER_OF_OCCURRENCE[:7]


def test_the_same_events_render_byte_identical_rows() -> None:
    def encoded() -> bytes:
        state, _ = fold(VIEW, recorded(demo_events()))
        return msgspec.json.encode(render_all(VIEW, state))

    first = encoded()
    assert first == encoded()
    assert first.count(b'"retracted":false') == 14
