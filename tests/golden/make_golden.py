"""Write the golden encoded event of every sample below that has no golden file yet.

Run by hand only, from the project root:

    .venv/bin/python tests/golden/make_golden.py

The files in `tests/golden/events/` are the forever schema of the log: each holds a stored
topic, the state exactly as the code encoded it on the day the file was written, and a few
field values that decoding must still produce. `tests/unit/test_golden_events.py` decodes
every one of them with the current code, and fails when a stored topic or a claim kind has
no golden file.

This script never overwrites a golden file: an existing one is kept as it is, byte for byte,
even when the sample that produced it has changed since. So:
- a new event type or claim kind: add a sample to `SAMPLES`, run the script, read the new file
  by eye, commit it;
- a class moved to `class_version` 2: keep the old files (they now prove the upcaster), run the
  script to write the files of the new topic (`report-filed@v2.<variant>.json`);
- a golden that no longer decodes is a break of the stored schema, never a file to regenerate.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make `domain` and `store` importable
    sys.path.insert(0, str(ROOT))

from domain.attribution import Attribution, Caveat, Cited, Provenance, Side, Stance  # noqa: E402
from domain.claims import (  # noqa: E402
    AttackOnCivilians,
    Casualties,
    Clash,
    Counterattack,
    DamageTally,
    EquipmentCategory,
    EquipmentLosses,
    Extent,
    FatalitiesAmong,
    ForceStrength,
    FrontAdvance,
    Incident,
    OccupationShare,
    OffensiveLaunched,
    PersonStatus,
    Place,
    PlacePrecision,
    SourceCategory,
    Strike,
    StrikeEffects,
    TerritorialChange,
    TerritoryControl,
    TroopDeployment,
)
from domain.events import DomainEvent, ReportFiled  # noqa: E402
from domain.occurrence import Day, Instant, Interval, Month  # noqa: E402
from domain.quantities import Qualifier, Quantity, Unit, about, between, exactly  # noqa: E402
from domain.report import (  # noqa: E402
    Report,
    correct,
    corroborate,
    deny,
    dispute,
    evolve,
    file_report,
    retract,
)
from store.mapper import encode_event  # noqa: E402

EVENTS_DIR = Path(__file__).resolve().parent / "events"

# Every event carries the moment it was made; goldens fix it so the files are stable.
FILED_AT = datetime(2024, 11, 23, 10, 15, tzinfo=UTC)
SATURDAY = Day(on=date(2024, 11, 23))
MOSCOW_TIME = timezone(timedelta(hours=3))

GENERAL_STAFF = Attribution(
    source="Ukrainian General Staff source",
    side=Side.UKRAINE,
    outlet="Reuters",
)
REUTERS_UNVERIFIED = Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY)


@dataclass(frozen=True)
class Sample:
    """One event to keep forever, and the dotted paths whose decoded values the test checks."""

    variant: str | None
    event: DomainEvent
    expected: tuple[str, ...]


def _filed(report_id: str, minutes: int = 0, **fields: Any) -> ReportFiled:
    event = file_report(report_id=UUID(report_id), **fields)
    return msgspec.structs.replace(event, timestamp=FILED_AT + timedelta(minutes=minutes))


def _later(event: DomainEvent, days: int) -> Any:
    return msgspec.structs.replace(event, timestamp=FILED_AT + timedelta(days=days))


def _report(filed: ReportFiled) -> Report:
    return evolve(None, filed)


KURSK_NOW = _filed(
    "0b6f9a2e-4c1d-4e8a-9b7f-3d2c1a0e5f11",
    claim=TerritoryControl(
        actor="Ukraine",
        region="Kursk region",
        country="Russia",
        area=about(800, Unit.KM2),
        share_lost_from_peak=Quantity(unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN),
    ),
    attribution=GENERAL_STAFF,
    occurred=SATURDAY,
    reported=SATURDAY,
    caveats=(REUTERS_UNVERIFIED,),
    notes='"Now we control approximately 800 square kilometres."',
)
KURSK_PEAK = _filed(
    "7c3e5d1a-2b4f-4a6c-8e9d-0f1a2b3c4d52",
    minutes=1,
    claim=TerritoryControl(
        actor="Ukraine",
        region="Kursk region",
        country="Russia",
        area=Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.AT_MOST),
        extent=Extent.PEAK,
    ),
    attribution=GENERAL_STAFF,
    occurred=Interval(start=Month(year=2024, month=8), end=SATURDAY),
    reported=SATURDAY,
    caveats=(REUTERS_UNVERIFIED,),
)
INCURSION = _filed(
    "a41d8c7e-5f2b-4d3a-9c6e-1b0a9f8e7d63",
    minutes=2,
    claim=OffensiveLaunched(
        actor="Ukraine",
        region="Kursk region",
        country="Russia",
        mode="incursion",
        objectives=(
            "stem Russian attacks in eastern and northeastern Ukraine",
            "force Russia to pull back forces advancing in the east",
            "gain leverage in any future peace negotiations",
        ),
        description="the first ground invasion of Russia by a foreign power since World War II",
    ),
    attribution=Attribution(source="Reuters", side=Side.THIRD_PARTY),
    occurred=Month(year=2024, month=8),
    reported=SATURDAY,
)
COUNTER_ASSAULTS = _filed(
    "c93b1e6f-8a2d-4b7c-a5e4-2d1c0b9a8e74",
    minutes=3,
    claim=Counterattack(
        actor="Russia",
        against="Ukraine",
        region="Kursk region",
        country="Russia",
        intensity="waves of counter-assaults, increasing",
    ),
    attribution=GENERAL_STAFF,
    occurred=Interval(start=Month(year=2024, month=8)),
    reported=SATURDAY,
)
NORTH_KOREANS = _filed(
    "e25f7a3b-9c1e-4f8d-b6a2-3e2d1c0b9f85",
    minutes=4,
    claim=TroopDeployment(
        actor="North Korea",
        theatre="Kursk region",
        country="Russia",
        troops=about(11_000, Unit.TROOPS),
        in_support_of="Russia",
        status="most still finalising their training",
    ),
    attribution=GENERAL_STAFF,
    occurred=Interval(end=SATURDAY),
    reported=SATURDAY,
    caveats=(
        Caveat(party="Russian authorities", stance=Stance.NEITHER_CONFIRMED_NOR_DENIED),
        REUTERS_UNVERIFIED,
    ),
)
RUSSIAN_FORCE = _filed(
    "f36a8b4c-0d2f-4a9e-87b3-4f3e2d1c0a96",
    minutes=5,
    claim=ForceStrength(
        actor="Russia",
        theatre="Ukraine",
        troops=about(575_000, Unit.TROOPS),
        target=about(690_000, Unit.TROOPS),
    ),
    attribution=GENERAL_STAFF,
    occurred=SATURDAY,
    reported=SATURDAY,
    caveats=(Caveat(party="Russia", stance=Stance.DOES_NOT_DISCLOSE), REUTERS_UNVERIFIED),
)
KURAKHOVE = _filed(
    "1a4b9c5d-1e3a-4b0f-98c4-5a4f3e2d1b07",
    minutes=6,
    claim=FrontAdvance(
        actor="Russia",
        direction="Kurakhove",
        region="Donetsk region",
        country="Ukraine",
        rate=between(200, 300, Unit.METRES_PER_DAY),
        description="broke through in some areas with armoured vehicles and anti-drone defences",
    ),
    attribution=GENERAL_STAFF,
    occurred=SATURDAY,
    reported=SATURDAY,
)
BERDIANSK = _filed(
    "2b5cad6e-2f4b-4c1a-a9d5-6b5a4f3e2c18",
    minutes=7,
    claim=Strike(
        attacker="Ukraine",
        target="port of Berdiansk",
        place=Place(
            name="Berdiansk",
            region="Zaporizhzhia region",
            country="Ukraine",
            latitude=46.7553,
            longitude=36.7885,
        ),
        weapon="guided missile",
        effects=StrikeEffects(
            injured=exactly(0, Unit.PEOPLE),
            operations_affected=False,
            fires="extinguished",
        ),
    ),
    attribution=Attribution(
        source="Yevgeny Balitsky, Kremlin-installed governor", side=Side.RUSSIA, outlet="Reuters"
    ),
    occurred=Instant(at=datetime(2024, 11, 22, 23, 50, tzinfo=MOSCOW_TIME)),
    reported=SATURDAY,
    notes="Ukrainian Telegram channels reported a loud explosion shortly before midnight.",
)
PORT_FACILITIES = _filed(
    "3c6dbe7f-3a5c-4d2b-bae6-7c6b5a4f3d29",
    minutes=8,
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
OCCUPIED_FIFTH = _filed(
    "4d7ecf8a-4b6d-4e3c-8bf7-8d7c6b5a4e3a",
    minutes=9,
    claim=OccupationShare(occupier="Russia", country="Ukraine", share=about(20, Unit.PERCENT)),
    attribution=Attribution(source="Reuters", side=Side.THIRD_PARTY),
    occurred=SATURDAY,
    reported=SATURDAY,
)

KURSK_MISENTERED = _filed(
    "5e8fd09b-5c7e-4f4d-9c08-9e8d7c6b5f4b",
    minutes=10,
    claim=TerritoryControl(
        actor="Ukraine", region="Kursk region", country="Russia", area=about(1376, Unit.KM2)
    ),
    attribution=GENERAL_STAFF,
    occurred=Interval(start=Month(year=2024, month=8), end=SATURDAY),
    reported=SATURDAY,
)

INVASION = date(2022, 2, 24)


def _general_staff_row(file: str, row: str) -> Attribution:
    return Attribution(
        source="General Staff of the Armed Forces of Ukraine",
        side=Side.UKRAINE,
        provenance=Provenance(
            dataset=f"PetroIvaniuk/2022-Ukraine-Russia-War-Dataset: {file}",
            row=row,
            release="2026-08-08",
            licence="MIT",
            credit="Copyright (c) 2022 Petro Ivaniuk",
        ),
    )


RUSSIAN_PERSONNEL = _filed(
    "e4d0e3af-0c1d-8a2e-9b3f-4c5d6e7f8a01",
    minutes=11,
    claim=Casualties(
        side="Russia",
        status=PersonStatus.MILITARY,
        total=about(729_720, Unit.PEOPLE),
        label="personnel",
        since=INVASION,
    ),
    attribution=_general_staff_row("russia_losses_personnel.json", "2024-11-23/personnel"),
    occurred=SATURDAY,
    reported=SATURDAY,
)
RUSSIAN_TANKS = _filed(
    "e4d0e3af-1d2e-8b3f-8c4a-5d6e7f8a9b02",
    minutes=12,
    claim=EquipmentLosses(
        side="Russia",
        category=EquipmentCategory.TANKS,
        source_category="tank",
        count=exactly(9_419, Unit.COUNT),
        since=INVASION,
    ),
    attribution=_general_staff_row("russia_losses_equipment.json", "2024-11-23/tank"),
    occurred=SATURDAY,
    reported=SATURDAY,
)
ISW_ASSESSED_SHARE = _filed(
    "bcf7ee9c-2e3f-8c4a-9d5b-6e7f8a9b0c03",
    minutes=13,
    claim=OccupationShare(
        occupier="Russia",
        country="UA",
        share=exactly(19.006322049121263, Unit.PERCENT),
        area=exactly(114_727.48165866968, Unit.KM2),
    ),
    attribution=Attribution(
        source="Institute for the Study of War",
        side=Side.THIRD_PARTY,
        outlet="The Economist",
        provenance=Provenance(
            dataset="TheEconomist/the-economist-ukraine-war-dead-and-wounded-estimates: "
            "area_assessed_as_russia_controlled.csv",
            row="2024-11-23",
            licence="CC BY 4.0",
            credit="Data © The Economist",
        ),
    ),
    occurred=SATURDAY,
    reported=SATURDAY,
)

# Incidents: hand-made rows in the layouts of ACLED (whose terms forbid redistributing its
# rows) and UCDP GED, with the seed's places and actors.


def _acled_row(row: str, sources: tuple[str, ...]) -> Attribution:
    return Attribution(
        source="ACLED",
        side=Side.THIRD_PARTY,
        provenance=Provenance(
            dataset="ACLED: Armed Conflict Location & Event Data",
            row=row,
            release="2024-11-26",
            licence="ACLED Terms of Use",
            credit="Armed Conflict Location & Event Data (ACLED); www.acleddata.com",
            cited=(Cited(field="source", entries=sources),),
        ),
    )


ACLED_BATTLE = SourceCategory(
    scheme="ACLED", category="Battles", subcategory="Armed clash", disorder="Political violence"
)
KURSK_CLASH = _filed(
    "5a1c0e7d-3b2a-8c4d-9e5f-6a7b8c9d0e14",
    minutes=14,
    claim=Clash(
        actor="Military Forces of Ukraine (2019-)",
        against="Military Forces of Russia (2000-)",
        against_allies=("Military Forces of North Korea (2011-)",),
        place=Place(
            name="Plekhovo",
            region="Kursk",
            district="Sudzhanskiy",
            country="Russia",
            latitude=51.1892,
            longitude=35.1469,
            precision=PlacePrecision.EXACT,
        ),
        fatalities=exactly(12, Unit.PEOPLE),
        classified_as=ACLED_BATTLE,
    ),
    attribution=_acled_row("RUS12345", ("Ministry of Defence of Russia", "Ukrainska Pravda")),
    occurred=Day(on=date(2024, 11, 21)),
    reported=Instant(at=datetime(2024, 11, 26, 6, 2, tzinfo=UTC)),
    notes="On 21 November 2024, Ukrainian forces clashed with Russian and North Korean "
    "forces near Plekhovo (Sudzhanskiy, Kursk). 12 fatalities.",
)
BERDIANSK_CIVILIANS = _filed(
    "5a1c0e7d-4c3b-8d5e-8f6a-7b8c9d0e1f25",
    minutes=15,
    claim=AttackOnCivilians(
        attacker="Military Forces of Ukraine (2019-)",
        victims="Civilians (Ukraine)",
        place=Place(
            name="Berdiansk",
            region="Zaporizhia",
            district="Berdianskyi",
            subdistrict="Berdianska",
            country="Ukraine",
            latitude=46.7553,
            longitude=36.7886,
            precision=PlacePrecision.NEAR,
        ),
        fatalities=exactly(0, Unit.PEOPLE),
        classified_as=SourceCategory(
            scheme="ACLED",
            category="Explosions/Remote violence",
            subcategory="Shelling/artillery/missile attack",
            disorder="Political violence",
        ),
    ),
    attribution=_acled_row("UKR98765", ("Telegram",)),
    occurred=Interval(start=Day(on=date(2024, 11, 19)), end=Day(on=date(2024, 11, 25))),
    reported=Instant(at=datetime(2024, 11, 26, 6, 2, tzinfo=UTC)),
)
KURSK_RETAKEN = _filed(
    "5a1c0e7d-5d4c-8e6f-9a7b-8c9d0e1f2a36",
    minutes=16,
    claim=TerritorialChange(
        actor="Military Forces of Russia (2000-)",
        from_actor="Military Forces of Ukraine (2019-)",
        place=Place(
            name="Darino", region="Kursk", country="Russia", precision=PlacePrecision.EXACT
        ),
        fatalities=exactly(0, Unit.PEOPLE),
        classified_as=SourceCategory(
            scheme="ACLED", category="Battles", subcategory="Government regains territory"
        ),
    ),
    attribution=_acled_row("RUS12399", ("Ministry of Defence of Russia",)),
    occurred=Month(year=2024, month=11),
    reported=SATURDAY,
)
GED_KURAKHOVE = _filed(
    "6b2d1f8e-6e5d-8f7a-8b8c-9d0e1f2a3b47",
    minutes=17,
    claim=Incident(
        actor="Government of Russia (Soviet Union)",
        against="Government of Ukraine",
        place=Place(
            name="Kurakhove town",
            region="Donetsk oblast",
            district="Pokrovsk raion",
            country="Ukraine",
            latitude=47.9839,
            longitude=37.2817,
            precision=PlacePrecision.NEAR,
        ),
        fatalities=Quantity(unit=Unit.PEOPLE, value=9, low=4, high=21),
        fatalities_among=FatalitiesAmong(
            actor=exactly(5, Unit.PEOPLE),
            against=exactly(3, Unit.PEOPLE),
            civilians=exactly(1, Unit.PEOPLE),
            unknown=exactly(0, Unit.PEOPLE),
        ),
        classified_as=SourceCategory(scheme="UCDP GED", category="state-based conflict"),
    ),
    attribution=Attribution(
        source="UCDP",
        side=Side.THIRD_PARTY,
        provenance=Provenance(
            dataset="UCDP Georeferenced Event Dataset (GED) Global",
            row="512345",
            release="25.1",
            licence="CC BY 4.0",
            credit="Uppsala Conflict Data Program (UCDP), Georeferenced Event Dataset",
            cited=(
                Cited(field="source_original", entries=("Ukrainian General Staff", "RIA")),
                Cited(field="source_office", entries=("Reuters", "BBC Monitoring")),
            ),
        ),
    ),
    occurred=Interval(start=Day(on=date(2024, 11, 20)), end=Day(on=date(2024, 11, 22))),
    reported=SATURDAY,
)

NIS = Attribution(
    source="South Korea's National Intelligence Service", side=Side.THIRD_PARTY, outlet="Yonhap"
)

FILED_EXPECTED = ("originator_id", "originator_version", "claim.kind", "attribution.source")

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "territory_control",
        KURSK_NOW,
        (
            *FILED_EXPECTED,
            "claim.area.value",
            "claim.area.qualifier",
            "claim.share_lost_from_peak.low",
            "occurred.on",
            "caveats.0.stance",
        ),
    ),
    Sample(
        "territory_control_peak",
        KURSK_PEAK,
        (*FILED_EXPECTED, "claim.area.value", "claim.extent", "occurred.start.month"),
    ),
    Sample("offensive", INCURSION, (*FILED_EXPECTED, "claim.mode", "occurred.month")),
    Sample("counterattack", COUNTER_ASSAULTS, (*FILED_EXPECTED, "claim.against", "occurred.end")),
    Sample(
        "deployment",
        NORTH_KOREANS,
        (*FILED_EXPECTED, "claim.troops.value", "claim.in_support_of", "caveats.0.stance"),
    ),
    Sample(
        "force_strength",
        RUSSIAN_FORCE,
        (*FILED_EXPECTED, "claim.troops.value", "claim.target.value"),
    ),
    Sample(
        "front_advance",
        KURAKHOVE,
        (*FILED_EXPECTED, "claim.rate.low", "claim.rate.high", "claim.rate.unit"),
    ),
    Sample(
        "strike",
        BERDIANSK,
        (
            *FILED_EXPECTED,
            "attribution.side",
            "claim.place.name",
            "claim.effects.injured.value",
            "claim.effects.operations_affected",
            "occurred.at",
        ),
    ),
    Sample(
        "damage_tally",
        PORT_FACILITIES,
        (*FILED_EXPECTED, "claim.count.value", "claim.count.unit", "occurred.start.year"),
    ),
    Sample("occupation_share", OCCUPIED_FIFTH, (*FILED_EXPECTED, "claim.share.value")),
    Sample(
        "occupation_share_area",
        ISW_ASSESSED_SHARE,
        (*FILED_EXPECTED, "claim.share.value", "claim.area.value", "attribution.provenance.row"),
    ),
    Sample(
        "casualties",
        RUSSIAN_PERSONNEL,
        (
            *FILED_EXPECTED,
            "claim.total.value",
            "claim.total.qualifier",
            "claim.status",
            "claim.since",
            "attribution.provenance.dataset",
            "attribution.provenance.licence",
        ),
    ),
    Sample(
        "equipment_losses",
        RUSSIAN_TANKS,
        (
            *FILED_EXPECTED,
            "claim.category",
            "claim.source_category",
            "claim.count.value",
            "claim.since",
            "attribution.provenance.row",
        ),
    ),
    Sample(
        "clash",
        KURSK_CLASH,
        (
            *FILED_EXPECTED,
            "claim.actor",
            "claim.against_allies.0",
            "claim.place.precision",
            "claim.place.district",
            "claim.fatalities.value",
            "claim.classified_as.subcategory",
            "attribution.provenance.cited.0.entries.1",
            "reported.at",
        ),
    ),
    Sample(
        "attack_on_civilians",
        BERDIANSK_CIVILIANS,
        (
            *FILED_EXPECTED,
            "claim.attacker",
            "claim.victims",
            "claim.place.subdistrict",
            "claim.classified_as.category",
            "occurred.start.on",
            "occurred.end.on",
        ),
    ),
    Sample(
        "territorial_change",
        KURSK_RETAKEN,
        (*FILED_EXPECTED, "claim.actor", "claim.from_actor", "occurred.month"),
    ),
    Sample(
        "incident",
        GED_KURAKHOVE,
        (
            *FILED_EXPECTED,
            "claim.classified_as.scheme",
            "claim.fatalities.low",
            "claim.fatalities.high",
            "claim.fatalities_among.civilians.value",
            "attribution.provenance.release",
        ),
    ),
    Sample(
        None,
        _later(
            corroborate(
                _report(NORTH_KOREANS),
                by=NIS,
                note="estimates that about 11,000 North Korean soldiers are in Kursk region",
            ),
            days=1,
        ),
        ("originator_id", "originator_version", "by.source", "by.side"),
    ),
    Sample(
        None,
        _later(
            dispute(
                _report(KURSK_NOW),
                by=Attribution(source="Russian Defence Ministry", side=Side.RUSSIA),
                reason="says Ukrainian units hold far less of the region than 800 km²",
            ),
            days=2,
        ),
        ("originator_id", "originator_version", "by.source", "reason"),
    ),
    Sample(
        None,
        _later(
            deny(
                _report(NORTH_KOREANS),
                by=Attribution(source="Kremlin spokesman Dmitry Peskov", side=Side.RUSSIA),
                statement="called reports of North Korean troops in Russia 'another fake'",
            ),
            days=1,
        ),
        ("originator_id", "by.source", "statement"),
    ),
    Sample(
        None,
        _later(
            correct(
                _report(KURSK_MISENTERED),
                claim=TerritoryControl(
                    actor="Ukraine",
                    region="Kursk region",
                    country="Russia",
                    area=about(800, Unit.KM2),
                ),
                reason="the peak (1,376 km²) was entered as the current area; the source said 800",
                occurred=SATURDAY,
                by=GENERAL_STAFF,
            ),
            days=1,
        ),
        ("originator_id", "originator_version", "claim.kind", "claim.area.value", "occurred.on"),
    ),
    Sample(
        None,
        _later(
            retract(
                _report(BERDIANSK),
                reason="the Telegram timing was put on the governor; refiled as two reports",
            ),
            days=3,
        ),
        ("originator_id", "originator_version", "reason"),
    ),
    Sample(
        "published",
        _later(
            correct(
                _report(RUSSIAN_TANKS),
                claim=EquipmentLosses(
                    side="Russia",
                    category=EquipmentCategory.TANKS,
                    source_category="tank",
                    count=exactly(9_421, Unit.COUNT),
                    since=INVASION,
                ),
                reason="row 2024-11-23/tank changed in russia_losses_equipment.json",
                by=_general_staff_row("russia_losses_equipment.json", "2024-11-23/tank"),
                reported=Day(on=date(2026, 8, 9)),
            ),
            days=4,
        ),
        ("originator_id", "originator_version", "claim.count.value", "reported.on"),
    ),
    Sample(
        "published",
        _later(
            retract(
                _report(GED_KURAKHOVE),
                reason="ACLED deleted event UKR2004 on 2024-12-02",
                reported=Instant(at=datetime(2024, 12, 2, 9, 30, tzinfo=UTC)),
            ),
            days=5,
        ),
        ("originator_id", "originator_version", "reason", "reported.at"),
    ),
)


def _value_at(state: Any, path: str) -> Any:
    for step in path.split("."):
        state = state[int(step)] if isinstance(state, list | tuple) else state[step]
    return state


def golden_path(sample: Sample) -> Path:
    topic, _ = encode_event(sample.event)
    suffix = "" if sample.variant is None else f".{sample.variant}"
    return EVENTS_DIR / f"{topic}{suffix}.json"


def golden_document(sample: Sample) -> dict[str, Any]:
    topic, state_bytes = encode_event(sample.event)
    state = json.loads(state_bytes)
    builtins = msgspec.to_builtins(sample.event)
    expected = {path: _value_at(builtins, path) for path in sample.expected}
    return {"topic": topic, "state": state, "expected": expected}


def main() -> int:
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        path = golden_path(sample)
        if path.exists():
            print(f"kept    {path.relative_to(ROOT)} (golden files are never overwritten)")
            continue
        text = json.dumps(golden_document(sample), indent=2, ensure_ascii=False) + "\n"
        # "x" refuses to open a file that appeared since the check above.
        with path.open("x", encoding="utf-8") as golden:
            golden.write(text)
        print(f"wrote   {path.relative_to(ROOT)}: review it by eye before committing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
