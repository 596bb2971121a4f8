"""The damage view: Zelenskiy's running totals of damaged ports and ships, never added up.

Given the seed article's tallies and later ones, when the damage view folds them, then each
category shows every source's latest standing total side by side, apart from the sum of
incidents, and a total that goes down is taken as it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Side, Verification
from domain.claims import DamageTally
from domain.events import DomainEvent
from domain.occurrence import Day, Interval, Month
from domain.quantities import Quantity, Unit, exactly
from domain.report import Report, correct, corroborate, dispute, file_report, project_report
from domain.report import retract as retract_report
from projections.core import fold, render_all
from projections.views.damage import DamageRow, DamageView
from seed.kursk_article import demo_report_id
from tests.projection_support import demo_events, recorded
from tests.seed_values import INSTITUTE_FOR_THE_STUDY_OF_WAR, RUSSIAN_DEFENCE_MINISTRY

VIEW = DamageView()
PORTS = "ua/port-infrastructure-facilities/russia"
SHIPS = "ua/foreign-merchant-ships/russia"
PORT_TALLY = demo_report_id("port-facilities-damaged")
SHIP_TALLY = demo_report_id("foreign-merchant-ships-damaged")
ZELENSKIY = "President Volodymyr Zelenskiy"
ZELENSKIY_VIA_REUTERS = Attribution(source=ZELENSKIY, side=Side.UKRAINE, outlet="Reuters")
SEA_PORTS_AUTHORITY = Attribution(source="Ukrainian Sea Ports Authority", side=Side.UKRAINE)
SINCE_JULY_2023 = Interval(start=Month(year=2023, month=7))
# Fixed, so that two folds of "the same events" really are the same events.
AUGUST_TALLY = UUID("6b1d8e3a-2f4c-4a7e-9d15-0c8b7a6e5f21")
DECEMBER_TALLY = UUID("a3e9c7d1-5b2f-4e8a-b6c0-1d4f2e9a8b73")
AUTHORITY_TALLY = UUID("c8f2a6b4-9e1d-4c3f-a7b5-3e6d0f1c2a94")


def report_after(events: list[DomainEvent], report_id: UUID) -> Report:
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def damage(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, DamageRow]:
    state, _ = fold(VIEW, recorded(events))
    rows = render_all(VIEW, state, as_of)
    assert all(isinstance(row, DamageRow) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, DamageRow)}


def port_facilities(count: float) -> DamageTally:
    return DamageTally(
        category="port infrastructure facilities",
        count=exactly(count, Unit.FACILITIES),
        responsible="Russia",
        country="UA",
        cause="Russian drone and missile attacks",
    )


def port_tally(
    count: float,
    *,
    report_id: UUID,
    said_on: date,
    attribution: Attribution = ZELENSKIY_VIA_REUTERS,
    occurred: Interval = SINCE_JULY_2023,
) -> DomainEvent:
    """A running total of damaged port facilities, stated on `said_on`."""
    return file_report(
        claim=port_facilities(count),
        attribution=attribution,
        occurred=occurred,
        reported=Day(on=said_on),
        report_id=report_id,
    )


def retract(events: list[DomainEvent], report_id: UUID) -> DomainEvent:
    return retract_report(report_after(events, report_id), reason="the source withdrew the tally")


def counts_by_source(row: DamageRow) -> list[tuple[str, float | None]]:
    return [(total.attribution.source, total.count.value) for total in row.totals_by_source]


def test_the_demo_shows_zelenskiys_totals_of_damaged_ports_and_ships() -> None:
    rows = damage(demo_events())

    # The Berdiansk strike counts nothing, so it feeds no row.
    assert list(rows) == [SHIPS, PORTS]
    ports = rows[PORTS]
    assert (ports.category, ports.country, ports.responsible) == (
        "port infrastructure facilities",
        "UA",
        "Russia",
    )
    [total] = ports.totals_by_source
    assert total.attribution == ZELENSKIY_VIA_REUTERS
    assert total.count == exactly(321, Unit.FACILITIES)
    assert (total.since, total.as_of) == ("2023-07-01", "2024-11-23")
    assert total.verification is Verification.UNVERIFIED
    assert total.source.report_id == PORT_TALLY
    assert total.source.filed_at_position == 13
    assert ports.incident_sum == Quantity(unit=Unit.FACILITIES, value=0)
    assert ports.incidents_counted == 0
    assert counts_by_source(rows[SHIPS]) == [(ZELENSKIY, 20)]
    assert rows[SHIPS].incident_sum == Quantity(unit=Unit.SHIPS, value=0)


def test_a_later_total_from_the_same_source_replaces_the_earlier_one_and_is_not_added() -> None:
    # Given the demo, when Zelenskiy later says 330 since July 2023,
    events = [*demo_events(), port_tally(330, report_id=DECEMBER_TALLY, said_on=date(2024, 12, 10))]

    ports = damage(events)[PORTS]

    # then 330 is his total: not 321, not 651.
    assert counts_by_source(ports) == [(ZELENSKIY, 330)]
    assert ports.totals_by_source[0].as_of == "2024-12-10"


def test_a_later_lower_total_is_taken_as_it_is() -> None:
    events = [*demo_events(), port_tally(310, report_id=DECEMBER_TALLY, said_on=date(2024, 12, 10))]

    assert counts_by_source(damage(events)[PORTS]) == [(ZELENSKIY, 310)]


def test_a_total_counted_from_an_earlier_start_but_stated_later_is_the_newer_one() -> None:
    # "400 since February 2022", said in December, is newer than November's "321 since July
    # 2023", although its period began first.
    since_invasion = Interval(start=Month(year=2022, month=2))
    events = [
        *demo_events(),
        port_tally(
            400, report_id=DECEMBER_TALLY, said_on=date(2024, 12, 10), occurred=since_invasion
        ),
    ]

    [total] = damage(events)[PORTS].totals_by_source

    assert (total.count.value, total.since, total.as_of) == (400, "2022-02-01", "2024-12-10")


def test_totals_from_different_sources_are_kept_apart() -> None:
    authority = port_tally(
        300,
        report_id=AUTHORITY_TALLY,
        said_on=date(2024, 11, 20),
        attribution=SEA_PORTS_AUTHORITY,
    )

    ports = damage([*demo_events(), authority])[PORTS]

    assert counts_by_source(ports) == [(ZELENSKIY, 321), ("Ukrainian Sea Ports Authority", 300)]
    assert ports.incident_sum.value == 0


def test_a_corrected_total_replaces_the_old_one_even_when_it_goes_down() -> None:
    events = demo_events()
    events.append(
        correct(
            report_after(events, PORT_TALLY),
            claim=port_facilities(312),
            reason="nine facilities were counted twice",
        )
    )

    [total] = damage(events)[PORTS].totals_by_source

    assert total.count == exactly(312, Unit.FACILITIES)
    assert total.source.last_changed_at_position == len(events)


def test_retracting_a_sources_latest_total_falls_back_to_its_previous_one() -> None:
    # Given an August tally of 300 and the demo's 321, when the 321 is retracted,
    events = [*demo_events(), port_tally(300, report_id=AUGUST_TALLY, said_on=date(2024, 8, 15))]
    events.append(retract(events, PORT_TALLY))

    ports = damage(events)[PORTS]

    # then August's 300 is Zelenskiy's total again, and the withdrawn one is only listed.
    assert counts_by_source(ports) == [(ZELENSKIY, 300)]
    assert ports.totals_by_source[0].as_of == "2024-08-15"
    assert [source.report_id for source in ports.retracted] == [PORT_TALLY]


def test_the_row_names_each_sources_latest_withdrawn_tally_not_every_one() -> None:
    # Given Zelenskiy's August 300, December's 330 and the demo's 321, and the Sea Ports
    # Authority's 290: Zelenskiy withdraws August's, then December's; the Authority its own
    events = [
        *demo_events(),
        port_tally(300, report_id=AUGUST_TALLY, said_on=date(2024, 8, 15)),
        port_tally(330, report_id=DECEMBER_TALLY, said_on=date(2024, 12, 2)),
        port_tally(
            290,
            report_id=AUTHORITY_TALLY,
            said_on=date(2024, 9, 1),
            attribution=SEA_PORTS_AUTHORITY,
        ),
    ]
    for withdrawn in (AUGUST_TALLY, DECEMBER_TALLY, AUTHORITY_TALLY):
        events.append(retract(events, withdrawn))

    ports = damage(events)[PORTS]

    # then the row lists one withdrawn tally per source, its latest: December's for
    # Zelenskiy (August's stays in the log and in the row's explanation), by source name
    assert [source.report_id for source in ports.retracted] == [DECEMBER_TALLY, AUTHORITY_TALLY]
    assert counts_by_source(ports) == [(ZELENSKIY, 321)]


def test_retracting_the_only_total_removes_the_row() -> None:
    events = demo_events()
    events.append(retract(events, SHIP_TALLY))

    assert SHIPS not in damage(events)
    assert PORTS in damage(events)


def test_corroboration_then_dispute_changes_the_verification_shown() -> None:
    events = demo_events()
    events.append(corroborate(report_after(events, PORT_TALLY), by=INSTITUTE_FOR_THE_STUDY_OF_WAR))
    corroborated = damage(events)[PORTS].totals_by_source[0]
    events.append(
        dispute(
            report_after(events, PORT_TALLY),
            by=RUSSIAN_DEFENCE_MINISTRY,
            reason="says only military targets in ports were hit",
        )
    )
    disputed = damage(events)[PORTS].totals_by_source[0]

    assert corroborated.verification is Verification.CORROBORATED
    assert disputed.verification is Verification.DISPUTED
    assert disputed.count.value == 321


def test_the_same_events_render_the_same_bytes() -> None:
    def story() -> list[DomainEvent]:
        return [
            *demo_events(),
            port_tally(300, report_id=AUGUST_TALLY, said_on=date(2024, 8, 15)),
            port_tally(
                300,
                report_id=AUTHORITY_TALLY,
                said_on=date(2024, 11, 20),
                attribution=SEA_PORTS_AUTHORITY,
            ),
        ]

    assert msgspec.json.encode(damage(story())) == msgspec.json.encode(damage(story()))


def test_as_of_a_date_a_total_counts_only_once_its_period_has_ended() -> None:
    # Given August's 300 and November's 321, both counted since July 2023,
    events = [*demo_events(), port_tally(300, report_id=AUGUST_TALLY, said_on=date(2024, 8, 15))]

    september = damage(events, as_of=datetime(2024, 9, 1, tzinfo=UTC))

    # then in September the total was August's: November's 321 was not yet counted.
    assert list(september) == [PORTS]
    assert counts_by_source(september[PORTS]) == [(ZELENSKIY, 300)]
    assert damage(events, as_of=datetime(2023, 6, 1, tzinfo=UTC)) == {}
