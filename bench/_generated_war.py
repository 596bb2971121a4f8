"""The generated war: a log of up to 1,000,000 events that several benchmarks load.

About 670,000 reports of the nine kinds across ten regions, filed from 3,000 distinct claims
under fresh ids, a fifth of them later corroborated, some disputed or denied, an eighth
corrected and one in sixteen retracted, each follow-up some thousands of events after the
step before it. Each event is encoded once per template and its report id and version
spliced in, so a million rows are generated in seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from uuid import UUID

import asyncpg
import msgspec

from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import (
    Claim,
    Counterattack,
    DamageTally,
    Extent,
    ForceStrength,
    FrontAdvance,
    OccupationShare,
    OffensiveLaunched,
    Place,
    Strike,
    StrikeEffects,
    TerritoryControl,
    TroopDeployment,
)
from domain.events import ReportEvent
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from domain.quantities import Qualifier, Quantity, Unit, about, between, exactly
from domain.report import correct, corroborate, deny, dispute, evolve, file_report, retract
from store.mapper import encode_event

EVENTS = 1_000_000
TEMPLATES = 3_000
SEED = 20241123
LOG_COLUMNS = (
    "originator_id",
    "originator_version",
    "topic",
    "state",
    "notification_id",
    "recorded_at",
)

REGIONS = (
    ("Kursk Oblast", "RU", ("Sudzha", "Korenevo", "Malaya Loknya")),
    ("Belgorod Oblast", "RU", ("Shebekino", "Grayvoron")),
    ("Donetsk Oblast", "UA", ("Kurakhove", "Pokrovsk", "Chasiv Yar", "Toretsk", "Vuhledar")),
    ("Luhansk Oblast", "UA", ("Kreminna", "Bilohorivka")),
    ("Kharkiv Oblast", "UA", ("Kupiansk", "Vovchansk", "Lyptsi")),
    ("Zaporizhzhia Oblast", "UA", ("Robotyne", "Berdiansk", "Huliaipole")),
    ("Kherson Oblast", "UA", ("Krynky", "Kherson")),
    ("Dnipropetrovsk Oblast", "UA", ("Nikopol", "Marhanets")),
    ("Sumy Oblast", "UA", ("Sumy", "Shostka")),
    ("Odesa Oblast", "UA", ("Odesa", "Izmail")),
)
SOURCES = (
    Attribution(source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"),
    Attribution(source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"),
    Attribution(source="Russian Defence Ministry", side=Side.RUSSIA, outlet="TASS"),
    Attribution(source="Governor Yevgeny Balitsky", side=Side.RUSSIA, outlet="Reuters"),
    Attribution(source="Institute for the Study of War", side=Side.THIRD_PARTY),
    Attribution(source="Ukrainian Telegram channels", side=Side.UKRAINE, outlet="DPA"),
)
CHECKERS = (
    Attribution(source="Institute for the Study of War", side=Side.THIRD_PARTY),
    Attribution(source="DeepState analysts", side=Side.UKRAINE),
    Attribution(source="Russian Defence Ministry", side=Side.RUSSIA),
    Attribution(source="Kremlin spokesman", side=Side.RUSSIA),
)
COULD_NOT_VERIFY = (Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),)
WAR_BEGAN = date(2022, 2, 24)


class Step(IntEnum):
    """What happens to a filed report later; a retraction is always last."""

    CORROBORATE = 0
    DISPUTE = 1
    DENY = 2
    CORRECT = 3
    RETRACT = 4


# How often each step follows a filing: about 1.5 events per report in all.
STEP_ODDS = (
    (Step.CORROBORATE, 0.20),
    (Step.DISPUTE, 0.08),
    (Step.DENY, 0.04),
    (Step.CORRECT, 0.12),
)
RETRACT_ODDS = 0.06
# How far, in reports filed meanwhile, a follow-up comes after the step before it.
FOLLOW_UP_GAP = 2_000.0


def _claim(index: int, variant: int) -> tuple[Claim, Occurrence, Day]:
    """One of the nine kinds of claim, about a place and a day chosen by `index`; `variant`
    changes its figure (a correction's claim)."""
    kind, where = index % 20, index // 20
    region, country, towns = REGIONS[where % len(REGIONS)]
    town = towns[where // len(REGIONS) % len(towns)]
    actor, enemy = ("Ukraine", "Russia") if where % 3 == 0 else ("Russia", "Ukraine")
    day = WAR_BEGAN + timedelta(days=(index * 7) % 1000)
    reported = Day(on=day + timedelta(days=index % 3))
    figure = 100 + (index * 37) % 900 + 13 * variant
    occurred: Occurrence = Day(on=day)
    claim: Claim
    match kind:
        case 0 | 1 | 2 | 3 | 4:
            claim = Strike(
                attacker=actor,
                target=f"infrastructure in {town}",
                place=Place(name=town, region=region, country=country),
                weapon=("guided missile", "drone", "glide bomb")[index % 3],
                effects=StrikeEffects(
                    injured=exactly(index % 5 + variant, Unit.PEOPLE),
                    operations_affected=index % 2 == 0,
                ),
            )
            occurred = Instant(at=datetime.combine(day, datetime.min.time(), UTC).replace(hour=21))
        case 5 | 6:
            claim = TerritoryControl(
                actor=actor,
                region=region,
                country=country,
                area=about(figure, Unit.KM2),
                extent=Extent.PEAK if index % 7 == 0 else Extent.CURRENT,
            )
        case 7 | 8:
            claim = FrontAdvance(
                actor=actor,
                direction=town,
                region=region,
                country=country,
                rate=between(figure // 4, figure // 4 + 100, Unit.METRES_PER_DAY),
            )
        case 9 | 10:
            claim = Counterattack(actor=actor, against=enemy, region=region, country=country)
            if variant:
                claim = Counterattack(
                    actor=actor, against=enemy, region=region, country=country, intensity="heavy"
                )
        case 11 | 12:
            claim = TroopDeployment(
                actor=actor, theatre=region, country=country, troops=about(figure * 50, Unit.TROOPS)
            )
            occurred = Interval(start=Month(year=day.year, month=day.month))
        case 13:
            claim = ForceStrength(
                actor=actor,
                theatre="Ukraine",
                troops=about(500_000 + figure * 100, Unit.TROOPS),
                target=about(690_000, Unit.TROOPS),
            )
        case 14 | 15:
            claim = DamageTally(
                category=("port infrastructure facilities", "merchant ships", "power plants")[
                    index % 3
                ],
                count=exactly(figure, Unit.FACILITIES),
                responsible=enemy,
                country=country,
            )
            occurred = Interval(start=Month(year=day.year, month=day.month))
        case 16 | 17:
            claim = OffensiveLaunched(
                actor=actor,
                region=region,
                country=country,
                mode="incursion" if index % 2 else "offensive",
                description=f"towards {town}" if variant else None,
            )
            occurred = Month(year=day.year, month=day.month)
        case _:
            claim = OccupationShare(
                occupier="Russia",
                country="UA",
                share=Quantity(unit=Unit.PERCENT, value=18 + variant, qualifier=Qualifier.ABOUT),
            )
    return claim, occurred, reported


PLACEHOLDER_ID = UUID(int=0)
PLACEHOLDER_VERSION = 987_654_321


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A stored event's topic and state, cut where its report id and version go."""

    topic: str
    before_id: bytes
    before_version: bytes
    after_version: bytes

    @classmethod
    def of(cls, event: ReportEvent) -> _Encoded:
        placed = msgspec.structs.replace(
            event, originator_id=PLACEHOLDER_ID, originator_version=PLACEHOLDER_VERSION
        )
        topic, state = encode_event(placed)
        before_id, rest = state.split(str(PLACEHOLDER_ID).encode(), 1)
        before_version, after_version = rest.split(str(PLACEHOLDER_VERSION).encode(), 1)
        return cls(topic, before_id, before_version, after_version)

    def state(self, report_id: bytes, version: int) -> bytes:
        return b"".join(
            (self.before_id, report_id, self.before_version, b"%d" % version, self.after_version)
        )


@dataclass(frozen=True, slots=True)
class _Template:
    """A filing and the correction that may follow it."""

    filed: _Encoded
    corrected: _Encoded


def _templates() -> tuple[list[_Template], dict[Step, list[_Encoded]]]:
    templates: list[_Template] = []
    follow_ups: dict[Step, list[_Encoded]] = {step: [] for step in Step if step != Step.CORRECT}
    for index in range(TEMPLATES):
        claim, occurred, reported = _claim(index, 0)
        filed = file_report(
            claim=claim,
            attribution=SOURCES[index % len(SOURCES)],
            occurred=occurred,
            reported=reported,
            caveats=COULD_NOT_VERIFY if index % 2 else (),
        )
        report = evolve(None, filed)
        correction = correct(
            report, claim=_claim(index, 1)[0], reason="the source revised its figure"
        )
        templates.append(_Template(_Encoded.of(filed), _Encoded.of(correction)))
        if index < len(CHECKERS):
            by = CHECKERS[index]
            follow_ups[Step.CORROBORATE].append(
                _Encoded.of(corroborate(report, by=by, note="geolocated footage matches"))
            )
            follow_ups[Step.DISPUTE].append(
                _Encoded.of(dispute(report, by=by, reason="says the figure is inflated"))
            )
            follow_ups[Step.DENY].append(
                _Encoded.of(deny(report, by=by, statement="says it never happened"))
            )
            follow_ups[Step.RETRACT].append(
                _Encoded.of(retract(report, reason="the source withdrew the claim"))
            )
    return templates, follow_ups


@dataclass(frozen=True, slots=True)
class _Story:
    """One report's life: which template it was filed from and what happened next."""

    report_id: UUID
    template: int
    steps: tuple[Step, ...]


def _stories(rng: random.Random, events: int) -> tuple[list[_Story], list[tuple[float, int, int]]]:
    """Reports and the order of their events in the log: each report's follow-ups come
    later, interleaved with other reports' filings and follow-ups; `events` in all."""
    stories: list[_Story] = []
    order: list[tuple[float, int, int]] = []
    while len(order) < events * 1.05:
        steps = [step for step, odds in STEP_ODDS if rng.random() < odds]
        rng.shuffle(steps)
        if rng.random() < RETRACT_ODDS:
            steps.append(Step.RETRACT)
        number = len(stories)
        report_id = UUID(int=rng.getrandbits(128), version=4)
        stories.append(_Story(report_id, rng.randrange(TEMPLATES), tuple(steps)))
        slot = float(number)
        order.append((slot, number, 0))
        for step_index in range(len(steps)):
            slot += rng.expovariate(1 / FOLLOW_UP_GAP)
            order.append((slot, number, step_index + 1))
    order.sort()
    # A prefix of the log keeps every report's versions contiguous.
    return stories, order[:events]


Row = tuple[UUID, int, str, bytes, int, datetime]


def generated_log(rng: random.Random, chunk: int, events: int = EVENTS) -> Iterator[list[Row]]:
    """The log's rows in position order, `chunk` at a time, ready for COPY."""
    templates, follow_ups = _templates()
    stories, order = _stories(rng, events)
    start = datetime(2024, 11, 23, 18, 0, tzinfo=UTC)
    rows: list[Row] = []
    for position, (_, number, version_index) in enumerate(order, start=1):
        story = stories[number]
        template = templates[story.template]
        if version_index == 0:
            encoded = template.filed
        else:
            step = story.steps[version_index - 1]
            if step == Step.CORRECT:
                encoded = template.corrected
            else:
                variants = follow_ups[step]
                encoded = variants[number % len(variants)]
        version = version_index + 1
        rows.append(
            (
                story.report_id,
                version,
                encoded.topic,
                encoded.state(str(story.report_id).encode(), version),
                position,
                start + timedelta(milliseconds=position),
            )
        )
        if len(rows) == chunk:
            yield rows
            rows = []
    if rows:
        yield rows


async def copy_into_log(connection: asyncpg.Connection, chunks: Iterable[list[Row]]) -> None:
    """Rows into the log by COPY, then the log's sequence set past them, so that the
    service's own appends follow on."""
    for rows in chunks:
        await connection.copy_records_to_table("timeline_events", records=rows, columns=LOG_COLUMNS)
    await connection.execute(
        "SELECT setval('timeline_events_notification_id_seq', "
        "(SELECT max(notification_id) FROM timeline_events))"
    )


async def load_log(url: str, events: int = EVENTS) -> None:
    """The generated log, by COPY (not measured), then vacuumed and checkpointed so every
    reader finds the same clean table."""
    connection = await asyncpg.connect(url)
    try:
        await copy_into_log(
            connection, generated_log(random.Random(SEED), chunk=50_000, events=events)
        )
        await connection.execute("VACUUM ANALYZE timeline_events")
    finally:
        await connection.close()
