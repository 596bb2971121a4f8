"""What the lag benchmark's editors send (bench/lag.py): filings of every kind the seed
article has, spread over regions, sources and days, and the follow-ups that later happen
to them. Filings by kind, roughly as a conflict dataset's counts run."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import msgspec

from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import (
    Claim,
    DamageTally,
    ForceStrength,
    FrontAdvance,
    Place,
    Strike,
    StrikeEffects,
    TerritoryControl,
    TroopDeployment,
)
from domain.events import ReportEvent
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from domain.quantities import Qualifier, Quantity, Unit, about
from domain.report import Report, correct, corroborate, dispute, file_report, retract

REGIONS = {
    "Kursk Oblast": "RU",
    "Belgorod Oblast": "RU",
    "Donetsk Oblast": "UA",
    "Luhansk Oblast": "UA",
    "Kharkiv Oblast": "UA",
    "Zaporizhzhia Oblast": "UA",
    "Kherson Oblast": "UA",
    "Sumy Oblast": "UA",
    "Dnipropetrovsk Oblast": "UA",
}
TOWNS = {
    "Berdiansk": "Zaporizhzhia Oblast",
    "Kurakhove": "Donetsk Oblast",
    "Pokrovsk": "Donetsk Oblast",
    "Toretsk": "Donetsk Oblast",
    "Vuhledar": "Donetsk Oblast",
    "Chasiv Yar": "Donetsk Oblast",
    "Kupiansk": "Kharkiv Oblast",
    "Vovchansk": "Kharkiv Oblast",
    "Sudzha": "Kursk Oblast",
    "Nova Kakhovka": "Kherson Oblast",
    "Robotyne": "Zaporizhzhia Oblast",
    "Siversk": "Donetsk Oblast",
}
FORCES = (  # actor, theatre
    ("Russia", "Ukraine"),
    ("Russia", "Kursk Oblast"),
    ("North Korea", "Kursk Oblast"),
    ("Ukraine", "Kursk Oblast"),
    ("Russia", "Zaporizhzhia Oblast"),
    ("Russia", "Donetsk Oblast"),
)
DAMAGE = (  # category, country, responsible
    ("port infrastructure facilities", "UA", "Russia"),
    ("foreign merchant ships", "UA", "Russia"),
    ("energy facilities", "UA", "Russia"),
    ("hospitals", "UA", "Russia"),
    ("schools", "UA", "Russia"),
    ("railway infrastructure", "UA", "Russia"),
    ("oil refineries", "RU", "Ukraine"),
    ("airfields", "RU", "Ukraine"),
)
SOURCES = (
    Attribution(source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"),
    Attribution(source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"),
    Attribution(source="Russian Defence Ministry", side=Side.RUSSIA, outlet="TASS"),
    Attribution(source="Kremlin-installed governor of Zaporizhzhia", side=Side.RUSSIA),
    Attribution(source="Institute for the Study of War", side=Side.THIRD_PARTY),
)
NOT_VERIFIED = (Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),)
WAR_DAYS = 1_000  # from 24 February 2022
# Filings by kind, roughly as a conflict dataset's counts run: incidents (strikes) are most
# of the volume; claims about territory, the front, forces and running totals are fewer,
# and spread over many regions, forces and categories (each is one view row's history).
KINDS = {"strike": 50, "territory": 12, "front": 10, "deployment": 6, "force": 4, "damage": 4}


def _day(rng: random.Random) -> Day:
    return Day(on=date(2022, 2, 24) + timedelta(days=rng.randrange(WAR_DAYS)))


def _claim(kind: str, rng: random.Random) -> Claim:
    region = rng.choice(sorted(REGIONS))
    town = rng.choice(sorted(TOWNS))
    match kind:
        case "strike":
            return Strike(
                attacker=rng.choice(("Ukraine", "Russia")),
                target=rng.choice(("port", "power station", "rail depot", "airfield")),
                place=Place(name=town, region=TOWNS[town], country=REGIONS[TOWNS[town]]),
                weapon=rng.choice(("guided missile", "drone", "glide bomb", "artillery")),
                effects=StrikeEffects(injured=Quantity(unit=Unit.PEOPLE, value=0)),
            )
        case "territory":
            return TerritoryControl(
                actor=rng.choice(("Ukraine", "Russia")),
                region=region,
                country=REGIONS[region],
                area=about(rng.randrange(50, 1_400), Unit.KM2),
            )
        case "front":
            return FrontAdvance(
                actor=rng.choice(("Russia", "Russia", "Ukraine")),
                direction=town,
                region=TOWNS[town],
                country=REGIONS[TOWNS[town]],
                rate=Quantity(
                    unit=Unit.METRES_PER_DAY, low=200, high=300, qualifier=Qualifier.BETWEEN
                ),
            )
        case "deployment":
            return TroopDeployment(
                actor=rng.choice(("Russia", "North Korea", "Ukraine")),
                theatre=region,
                country=REGIONS[region],
                troops=about(rng.randrange(1, 60) * 1_000, Unit.TROOPS),
            )
        case "force":
            actor, theatre = rng.choice(FORCES)
            return ForceStrength(
                actor=actor,
                theatre=theatre,
                troops=about(rng.randrange(5, 600) * 1_000, Unit.TROOPS),
            )
        case _:
            category, country, responsible = rng.choice(DAMAGE)
            return DamageTally(
                category=category,
                count=Quantity(unit=Unit.FACILITIES, value=rng.randrange(20, 400)),
                responsible=responsible,
                country=country,
            )


def filing(rng: random.Random) -> ReportEvent:
    """A claim like the seed article's, somewhere along the front, on some day of the war."""
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    claim = _claim(kind, rng)
    day = _day(rng)
    occurred: Occurrence = day
    reported = Day(on=day.on + timedelta(days=rng.randrange(3)))
    if isinstance(claim, Strike):
        midnight = datetime(day.on.year, day.on.month, day.on.day, tzinfo=UTC)
        occurred = Instant(at=midnight + timedelta(minutes=rng.randrange(1_440)))
    elif isinstance(claim, DamageTally):  # a running total: "since July 2023"
        occurred = Interval(start=Month(year=2023, month=7))
        reported = Day(on=date(2023, 8, 1) + timedelta(days=rng.randrange(480)))
    return file_report(
        claim=claim,
        attribution=rng.choice(SOURCES),
        occurred=occurred,
        reported=reported,
        caveats=NOT_VERIFIED,
    )


def follow_up(report: Report, rng: random.Random) -> ReportEvent:
    """What later happens to a report: mostly corroborated or disputed, sometimes corrected
    (a territory figure) or retracted."""
    by = rng.choice(SOURCES)
    match rng.randrange(5):
        case 2:
            return dispute(report, by=by, reason="says the figure is wrong")
        case 3 if isinstance(report.claim, TerritoryControl):
            claim = msgspec.structs.replace(
                report.claim, area=about(rng.randrange(50, 1_400), Unit.KM2)
            )
            return correct(report, claim=claim, reason="the source revised the figure")
        case 4:
            return retract(report, reason="the source withdrew the claim")
        case _:
            return corroborate(report, by=by)


def plan(count: int, rng: random.Random) -> list[ReportEvent | None]:
    """`count` appends: filings built beforehand, and about one in seven None, a follow-up
    decided when it is sent."""
    return [None if rng.random() < 1 / 7 else filing(rng) for _ in range(count)]
