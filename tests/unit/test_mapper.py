"""Events to stored rows and back: stable topics, every event type, old versions upcast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import DamageTally, TerritoryControl
from domain.events import EVENT_TYPES, DomainEvent, ReportEvent, ReportFiled
from domain.occurrence import Day, Interval, Month
from domain.quantities import Quantity, Unit, about, exactly
from domain.report import Report, correct, corroborate, deny, dispute, evolve, file_report, retract
from store.mapper import (
    MsgspecMapper,
    UnknownEventType,
    _Codec,
    decode_event,
    encode_event,
    stored_topic,
)

KURSK_REPORT_ID = UUID("0b6f9a2e-4c1d-4e8a-9b7f-3d2c1a0e5f11")
SATURDAY = Day(on=date(2024, 11, 23))
GENERAL_STAFF = Attribution(
    source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
)
RUSSIAN_MOD = Attribution(source="Russian Defence Ministry", side=Side.RUSSIA)


def kursk_held(square_km: float) -> TerritoryControl:
    return TerritoryControl(
        actor="Ukraine", region="Kursk region", country="Russia", area=about(square_km, Unit.KM2)
    )


def a_kursk_report_life() -> list[ReportEvent]:
    """Filed, corroborated, disputed, corrected, denied, retracted: one event of each type."""
    filed = file_report(
        report_id=KURSK_REPORT_ID,
        claim=kursk_held(800),
        attribution=GENERAL_STAFF,
        occurred=SATURDAY,
        reported=SATURDAY,
        caveats=(Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),),
        notes='"Now we control approximately 800 square kilometres."',
    )
    report = evolve(None, filed)
    events: list[ReportEvent] = [filed]
    steps: list[Callable[[Report], ReportEvent]] = [
        lambda r: corroborate(
            r, by=Attribution(source="Institute for the Study of War", side=Side.THIRD_PARTY)
        ),
        lambda r: dispute(r, by=RUSSIAN_MOD, reason="says far less of the region is held"),
        lambda r: correct(
            r,
            claim=kursk_held(780),
            reason="the source revised the figure",
            occurred=Day(on=date(2024, 11, 22)),
            by=GENERAL_STAFF,
        ),
        lambda r: deny(r, by=RUSSIAN_MOD, statement="calls the figure invented"),
        lambda r: retract(r, reason="the source withdrew the figure"),
    ]
    for step in steps:
        event = step(report)
        events.append(event)
        report = evolve(report, event)
    return events


LIFE = a_kursk_report_life()


def test_the_sample_life_has_one_event_of_every_type() -> None:
    assert {type(event) for event in LIFE} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", LIFE, ids=lambda event: type(event).__name__)
def test_every_event_type_round_trips(event: ReportEvent) -> None:
    topic, state = encode_event(event)

    assert decode_event(topic, state) == event


def test_the_stored_topic_is_the_stable_name_not_the_module_path() -> None:
    topic, _ = encode_event(LIFE[0])

    assert topic == "report-filed"
    assert [stored_topic(event_type) for event_type in EVENT_TYPES] == [
        "report-filed",
        "report-corroborated",
        "report-disputed",
        "report-denied",
        "report-corrected",
        "report-retracted",
    ]


def test_a_later_version_is_stored_under_a_suffixed_topic() -> None:
    assert stored_topic(ReportFiled, 1) == "report-filed"
    assert stored_topic(ReportFiled, 2) == "report-filed@v2"


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda event_type: event_type.__name__)
def test_the_library_resolves_our_stored_topics(event_type: type[DomainEvent]) -> None:
    assert resolve_topic(stored_topic(event_type)) is event_type


def test_the_state_is_plain_json_with_the_claim_tagged_by_kind() -> None:
    _, state = encode_event(LIFE[0])

    stored = msgspec.json.decode(state)

    assert stored["originator_id"] == str(KURSK_REPORT_ID)
    assert stored["claim"] == {
        "kind": "territory_control",
        "actor": "Ukraine",
        "region": "Kursk region",
        "country": "Russia",
        "area": {"unit": "km2", "value": 800, "qualifier": "about"},
    }
    assert stored["occurred"] == {"precision": "day", "on": "2024-11-23"}


def test_a_module_path_topic_written_by_the_library_still_decodes() -> None:
    filed = LIFE[0]
    _, state = encode_event(filed)

    assert get_topic(ReportFiled) == "domain.events:ReportFiled"
    assert decode_event("domain.events:ReportFiled", state) == filed


@pytest.mark.parametrize(
    "topic",
    [
        "report-annexed",
        "report-filed@v9",
        "domain.events:ReportAnnexed",
        "domain.events:DomainEvent",
        "domain.claims:TerritoryControl",
        "eventsourcing.domain:Aggregate",
        f"{__name__}:TerritoryHeld",
    ],
)
def test_an_unknown_topic_is_refused(topic: str) -> None:
    _, state = encode_event(LIFE[0])

    with pytest.raises(UnknownEventType, match=r"report event|no event type"):
        decode_event(topic, state)


# --- upcasting ---------------------------------------------------------------------------


class TerritoryHeld(DomainEvent, frozen=True, kw_only=True, gc=False):
    """Test-only: version 1 stored a bare `area_km2` figure; version 2 stores a hedged
    quantity, because "about 800" and "at most 1,376" are not the same claim."""

    stored_name = "test-territory-held"
    class_version = 2

    region: str
    area: Quantity

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["area"] = {"unit": "km2", "value": state.pop("area_km2")}


VERSION_1_STATE = msgspec.json.encode(
    {
        "originator_id": str(KURSK_REPORT_ID),
        "originator_version": 1,
        "timestamp": "2024-11-23T10:15:00Z",
        "region": "Kursk region",
        "area_km2": 1376,
    }
)


def test_version_1_state_decodes_into_the_version_2_class() -> None:
    event = _Codec(TerritoryHeld, 1).decode(VERSION_1_STATE)

    assert event == TerritoryHeld(
        originator_id=KURSK_REPORT_ID,
        originator_version=1,
        timestamp=datetime(2024, 11, 23, 10, 15, tzinfo=UTC),
        region="Kursk region",
        area=exactly(1376, Unit.KM2),
    )


def test_version_2_state_decodes_without_upcasting() -> None:
    current = TerritoryHeld(
        originator_id=KURSK_REPORT_ID,
        originator_version=1,
        region="Kursk region",
        area=about(800, Unit.KM2),
    )

    assert _Codec(TerritoryHeld, 2).decode(msgspec.json.encode(current)) == current
    assert stored_topic(TerritoryHeld) == "test-territory-held@v2"


def test_the_test_only_event_is_not_one_of_ours() -> None:
    assert TerritoryHeld not in EVENT_TYPES


# --- the library's mapper interface ----------------------------------------------------------


@pytest.mark.parametrize("event", LIFE, ids=lambda event: type(event).__name__)
def test_the_library_mapper_round_trips_every_event(event: ReportEvent) -> None:
    mapper = MsgspecMapper(transcoder=JSONTranscoder())

    stored = mapper.to_stored_event(event)

    assert stored == StoredEvent(
        originator_id=KURSK_REPORT_ID,
        originator_version=event.originator_version,
        topic=stored_topic(type(event)),
        state=encode_event(event)[1],
    )
    assert mapper.to_domain_event(stored) == event


def test_a_tally_since_july_2023_round_trips_through_the_library_mapper() -> None:
    tally = file_report(
        claim=DamageTally(
            category="port infrastructure facilities",
            count=exactly(321, Unit.FACILITIES),
            responsible="Russia",
            country="Ukraine",
            cause="drone and missile attacks",
        ),
        attribution=Attribution(
            source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"
        ),
        occurred=Interval(start=Month(year=2023, month=7), end=SATURDAY),
        reported=SATURDAY,
    )
    mapper = MsgspecMapper(transcoder=JSONTranscoder())

    assert mapper.to_domain_event(mapper.to_stored_event(tally)) == tally
