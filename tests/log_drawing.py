"""Logs drawn for property tests: stories of a few reports across regions and kinds, filed,
then corroborated, disputed, denied, corrected (a territory claim may move to another region,
a date may move) and retracted, interleaved, as the domain's own rules allow them.

A filing's `shape` 0 is the seed article's shapes (every report said on the article's day, a
tally counted since July 2023 with no end, a strength with its target). Other shapes vary what
the aggregate views' past answers turn on: when a report was said (late reports about earlier
days), instants with an offset, months and periods with and without an end (a tally's
`as_of_day` then differs from its occurrence), equal and bounded areas, strengths without a
target, deployments with a start. Losses (equipment, casualties) are running totals that may
fall and increments, several figures in one report, for two sides.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import NamedTuple

from hypothesis import strategies as st

from domain.attribution import Attribution, Side
from domain.claims import (
    Casualties,
    Claim,
    Clash,
    DamageTally,
    EquipmentCategory,
    EquipmentLosses,
    EquipmentState,
    Extent,
    ForceStrength,
    FrontAdvance,
    OccupationShare,
    PersonStatus,
    Place,
    Strike,
    Tally,
    TerritoryControl,
    TroopDeployment,
)
from domain.errors import DomainError
from domain.events import DomainEvent
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from domain.quantities import Qualifier, Quantity, Unit, about, between, exactly
from domain.report import Report, correct, corroborate, deny, dispute, evolve, file_report, retract
from tests.seed_values import (
    ARTICLE_DAY,
    GENERAL_STAFF_VIA_REUTERS,
    GOVERNOR_BALITSKY,
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    PRESIDENT_ZELENSKIY,
    RUSSIAN_DEFENCE_MINISTRY,
)

REGIONS = (("Kursk Oblast", "RU"), ("Donetsk Oblast", "UA"), ("Zaporizhzhia Oblast", "UA"))
SOURCES = (GENERAL_STAFF_VIA_REUTERS, PRESIDENT_ZELENSKIY, GOVERNOR_BALITSKY)
CHECKERS = (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
    Attribution(source="Kremlin spokesman", side=Side.RUSSIA),
)
KINDS = (
    "territory",
    "strike",
    "tally",
    "deployment",
    "strength",
    "advance",
    "occupation",
    "clash",
    "equipment",
    "casualties",
)
STEPS = ("corroborate", "dispute", "deny", "correct", "retract")
SHAPES = 4  # 0: the article's; 1-3: varied dates, periods and figures (module docstring)
# Drawn occurrences fall between these days, and reports of varied shapes are said after
# them (up to the article's day): a report cannot describe what began after it was said.
FIRST_DAY = date(2024, 8, 6)
LAST_DAY = date(2024, 9, 9)
MOSCOW = timezone(timedelta(hours=3))
# Days before the article's a report of a varied shape is said: few, so that two reports are
# often said on the same day, and all after LAST_DAY.
SAID = (0, 1, 20, 40, (ARTICLE_DAY.on - LAST_DAY).days - 1)


class Filing(NamedTuple):
    kind: str
    figure: int
    place: int
    source: int
    shape: int = 0
    said: int = 0  # days before the article's day the report was said (varied shapes only)


class FollowUp(NamedTuple):
    step: str
    which: int  # the report it is about, modulo the reports filed so far
    draw: int
    shape: int = 0  # a correction's new claim's shape


def claim(kind: str, figure: int, place: int, shape: int = 0) -> tuple[Claim, Occurrence]:
    """A claim of `kind` like the article's, its figure and place chosen by the draw."""
    if shape:
        return _varied(kind, figure, place, shape)
    region, country = REGIONS[place % len(REGIONS)]
    day = Day(on=date(2024, 8, 6) + timedelta(days=figure % 100))
    match kind:
        case "territory":
            return TerritoryControl(
                actor=("Ukraine", "Russia")[place % 2],
                region=region,
                country=country,
                area=about(100 + figure * 10, Unit.KM2),
                extent=Extent.PEAK if figure % 4 == 0 else Extent.CURRENT,
            ), day
        case "strike":
            at = datetime(2024, 11, 22, 20, 50, tzinfo=UTC) - timedelta(hours=figure)
            return Strike(
                attacker="Ukraine",
                target="port of Berdiansk",
                place=Place(name="Berdiansk", region="Zaporizhzhia Oblast", country="UA"),
                weapon="guided missile",
            ), Instant(at=at)
        case "tally":
            return _tally(figure, place), Interval(start=Month(year=2023, month=7))
        case "deployment":
            return _deployment(figure), Interval(end=ARTICLE_DAY)
        case "strength":
            return _strength(figure, about(690_000, Unit.TROOPS)), day
        case "equipment" | "casualties":
            return _losses(kind, figure, place), day
        case "advance":
            return _advance(figure, place), day
        case "clash":
            return _clash(figure, place), day
        case _:
            return OccupationShare(
                occupier="Russia", country="UA", share=Quantity(unit=Unit.PERCENT, value=20)
            ), day


def _varied(kind: str, figure: int, place: int, shape: int) -> tuple[Claim, Occurrence]:
    when = _when(figure, shape)
    match kind:
        case "territory":
            region, country = REGIONS[place % len(REGIONS)]
            # Few distinct areas, so that equal figures (whose most recent stands for the
            # peak) come up often; shape 2 gives only a bound ("more than 800 km2").
            size = 800 + (figure % 3) * 288
            area = (
                Quantity(unit=Unit.KM2, low=size, qualifier=Qualifier.MORE_THAN)
                if shape == 2
                else about(size, Unit.KM2)
            )
            return TerritoryControl(
                actor=("Ukraine", "Russia")[place % 2],
                region=region,
                country=country,
                area=area,
                extent=Extent.PEAK if figure % 4 == 0 else Extent.CURRENT,
            ), when
        case "tally":
            return _tally(figure, place), _period(figure, shape)
        case "deployment":
            start = Day(on=_day(figure))
            since = Interval(start=start) if shape == 1 else Interval(start=start, end=ARTICLE_DAY)
            return _deployment(figure), start if shape == 3 else since
        case "strength":
            target = None if figure % 2 else about(690_000, Unit.TROOPS)
            if place % 2:  # North Korea's force in Kursk: the row its deployments feed
                return ForceStrength(
                    actor="North Korea",
                    theatre="Kursk Oblast",
                    troops=about(10_000 + figure * 100, Unit.TROOPS),
                    target=target,
                ), when
            return _strength(figure, target), when
        case "advance":
            return _advance(figure, place), when
        case "clash":
            return _clash(figure, place), when
        case "equipment" | "casualties":
            losses = _losses(kind, figure, place)
            # A running total counts up to the end of its period (or the day it was said).
            return losses, _period(figure, shape) if losses.tally is Tally.RUNNING_TOTAL else when
        case _:
            return claim(kind, figure, place)


def _day(figure: int) -> date:
    # Few distinct days, six days apart: reports on the same day (ties of order) come often.
    return FIRST_DAY + timedelta(days=figure % 6 * 6)


def _when(figure: int, shape: int) -> Occurrence:
    """A day, an instant late in the evening in Moscow (the day before, in UTC, from 21:00)
    or a month."""
    day = _day(figure)
    match shape:
        case 1:
            return Day(on=day)
        case 2:
            at = datetime.combine(day, datetime.min.time(), MOSCOW) + timedelta(
                hours=19 + figure % 6
            )
            return Instant(at=at)
        case _:
            return Month(year=2024, month=8) if figure % 2 else Day(on=day)


def _period(figure: int, shape: int) -> Occurrence:
    """What a running total counts over: since the invasion or since July 2023, up to a day
    (then that is its `as_of_day`) or still open (then the day it was said is)."""
    since = (Month(year=2022, month=2), Month(year=2023, month=7), Day(on=_day(figure)))[figure % 3]
    match shape:
        case 1:
            return Interval(start=since, end=Day(on=_day(figure) + timedelta(days=figure % 4)))
        case 2:
            return Interval(start=since)
        case _:
            return Instant(at=datetime.combine(_day(figure), datetime.min.time(), MOSCOW))


def _clash(figure: int, place: int) -> Clash:
    """A clash as the event datasets record one: its dead as one figure, a range, a bound
    or not at all; North Korea's forces beside Russia's now and then."""
    region, country = REGIONS[place % len(REGIONS)]
    dead = (
        exactly(figure, Unit.PEOPLE),
        Quantity(unit=Unit.PEOPLE, value=figure, low=figure // 2, high=figure * 2),
        Quantity(unit=Unit.PEOPLE, low=figure, qualifier=Qualifier.MORE_THAN),
        None,
    )[figure % 4]
    return Clash(
        actor=("Ukraine", "Russia")[place % 2],
        against=("Russia", "Ukraine")[place % 2],
        against_allies=("North Korea",) if figure % 3 == 0 else (),
        place=Place(name="Sudzha", region=region, country=country),
        fatalities=dead,
    )


def _tally(figure: int, place: int) -> DamageTally:
    return DamageTally(
        category=("port infrastructure facilities", "foreign merchant ships")[place % 2],
        count=exactly(300 + figure, Unit.FACILITIES),
        responsible="Russia",
        country="UA",
    )


def _losses(kind: str, figure: int, place: int) -> EquipmentLosses | Casualties:
    """Russian or Ukrainian losses: few distinct figures, which may fall from one report to
    the next (a corrected total), every fourth an increment."""
    tally = Tally.INCREMENT if figure % 4 == 0 else Tally.RUNNING_TOTAL
    since = None if tally is Tally.INCREMENT else date(2022, 2, 24)
    side = ("Russia", "Ukraine")[place % 2]
    if kind == "equipment":
        return EquipmentLosses(
            side=side,
            category=EquipmentCategory.TANKS,
            source_category="tank",
            count=exactly(9_419 - figure % 5, Unit.COUNT),
            state=EquipmentState.DESTROYED if figure % 7 == 0 else EquipmentState.UNSPECIFIED,
            tally=tally,
            since=since,
        )
    people = 729_720 - figure % 5 * 100
    return Casualties(
        side=side,
        status=PersonStatus.MILITARY,
        killed=between(people // 4, people // 3, Unit.PEOPLE) if figure % 3 == 0 else None,
        total=about(people, Unit.PEOPLE),
        label="personnel",
        tally=tally,
        since=since,
    )


def _deployment(figure: int) -> TroopDeployment:
    return TroopDeployment(
        actor="North Korea",
        theatre="Kursk Oblast",
        country="RU",
        troops=about(11_000 + figure * 100, Unit.TROOPS),
        in_support_of="Russia",
    )


def _strength(figure: int, target: Quantity | None) -> ForceStrength:
    return ForceStrength(
        actor="Russia",
        theatre="Ukraine",
        troops=about(575_000 + figure * 1_000, Unit.TROOPS),
        target=target,
    )


def _advance(figure: int, place: int) -> FrontAdvance:
    return FrontAdvance(
        actor="Russia",
        direction=("Kurakhove", "Pokrovsk")[place % 2],
        region="Donetsk Oblast",
        country="UA",
        rate=between(200, 300 + figure, Unit.METRES_PER_DAY),
    )


def follow_up(report: Report, step: str, draw: int, shape: int = 0) -> DomainEvent:
    """A follow-up as the domain decides it; raises DomainError where its rules forbid it."""
    by = CHECKERS[draw % len(CHECKERS)]
    match step:
        case "corroborate":
            return corroborate(report, by=by)
        case "dispute":
            return dispute(report, by=by, reason="says the figure is wrong")
        case "deny":
            return deny(report, by=by, statement="says it never happened")
        case "correct":
            kind = {
                "territory_control": "territory",
                "damage_tally": "tally",
                "force_strength": "strength",
                "front_advance": "advance",
                "equipment_losses": "equipment",
            }.get(report.kind, report.kind)
            claimed, occurred = claim(kind, draw, draw // 3, shape)
            return correct(report, claim=claimed, occurred=occurred, reason="the source revised it")
        case _:
            return retract(report, reason="the source withdrew it")


def actions(
    *,
    shapes: int = 1,
    kinds: tuple[str, ...] = KINDS,
    places: int = 6,
    sources: int = len(SOURCES),
    min_size: int = 1,
    max_size: int = 24,
) -> st.SearchStrategy[list[Filing | FollowUp]]:
    """Filings and follow-ups, interleaved; `shapes=1` draws only the article's shapes.
    Fewer `kinds`, `places` and `sources` put more reports in each row (and more of them
    from one source: a running total replaces only its own source's)."""
    shape = st.integers(0, shapes - 1)
    filing = st.builds(
        Filing,
        kind=st.sampled_from(kinds),
        figure=st.integers(0, 30),
        place=st.integers(0, places - 1),
        source=st.integers(0, sources - 1),
        shape=shape,
        said=st.sampled_from(SAID) if shapes > 1 else st.just(0),
    )
    step = st.builds(
        FollowUp,
        step=st.sampled_from(STEPS),
        which=st.integers(0, 7),
        draw=st.integers(0, 30),
        shape=shape,
    )
    return st.lists(st.one_of(filing, step), min_size=min_size, max_size=max_size)


def story(drawn: list[Filing | FollowUp]) -> list[DomainEvent]:
    """The events of the drawn actions, skipping the follow-ups the domain forbids."""
    events: list[DomainEvent] = []
    reports: list[Report] = []
    for action in drawn:
        if isinstance(action, Filing):
            claimed, occurred = claim(action.kind, action.figure, action.place, action.shape)
            said = ARTICLE_DAY if not action.shape else _said(action.said)
            try:
                event: DomainEvent = file_report(
                    claim=claimed,
                    attribution=SOURCES[action.source],
                    occurred=occurred,
                    reported=said,
                )
            except DomainError:
                continue  # said before it happened (a varied strike): no such report
            reports.append(evolve(None, event))  # type: ignore[arg-type]
        elif reports:
            index = action.which % len(reports)
            try:
                event = follow_up(reports[index], action.step, action.draw, action.shape)
            except DomainError:
                continue  # a step the rules forbid (a retracted report, a no-op correction)
            reports[index] = evolve(reports[index], event)  # type: ignore[arg-type]
        else:
            continue
        events.append(event)
    return events


def _said(days_before_the_article: int) -> Day:
    return Day(on=ARTICLE_DAY.on - timedelta(days=days_before_the_article))
