"""The demo reports say what the seed article says, with its hedges, sources and dates."""

from __future__ import annotations

from datetime import date
from typing import TypeVar
from uuid import uuid5

import pytest

from application.commands import (
    CorroborateReport,
    FileReport,
)
from application.reports import decide
from domain import report as rules
from domain.attribution import Caveat, Side, Stance
from domain.claims import (
    Claim,
    DamageTally,
    Extent,
    ForceStrength,
    FrontAdvance,
    OccupationShare,
    OffensiveLaunched,
    Strike,
    TerritoryControl,
    TroopDeployment,
)
from domain.occurrence import Day, Interval, Month
from domain.quantities import Qualifier, Quantity, Unit
from seed.kursk_article import ARTICLE_DATE, DEMO_NAMESPACE, DemoReport, demo_reports

DEMO = demo_reports()
BY_SLUG = {demo.slug: demo for demo in DEMO}
REUTERS_COULD_NOT_VERIFY = Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY)

T = TypeVar("T")


def filing(slug: str) -> FileReport:
    return BY_SLUG[slug].filing


def claim_of(slug: str, kind: type[T]) -> T:
    claim: Claim = filing(slug).claim
    assert isinstance(claim, kind)
    return claim


@pytest.mark.parametrize("demo", DEMO, ids=[demo.slug for demo in DEMO])
def test_every_demo_report_and_its_follow_ups_pass_the_domain_rules(demo: DemoReport) -> None:
    command = demo.filing
    report = rules.evolve(
        None,
        rules.file_report(
            claim=command.claim,
            attribution=command.attribution,
            occurred=command.occurred,
            reported=command.reported,
            caveats=command.caveats,
            notes=command.notes,
            verification=command.verification,
            report_id=command.report_id,
        ),
    )
    for follow_up in demo.follow_ups:
        report = rules.evolve(report, decide(report, follow_up))
    assert report.id == demo.report_id
    assert report.version == 1 + len(demo.follow_ups)


def test_the_article_holds_well_over_a_dozen_events() -> None:
    events = sum(1 + len(demo.follow_ups) for demo in DEMO)
    assert len(DEMO) >= 14
    assert events >= 16


def test_report_ids_are_derived_from_the_slug_and_never_change() -> None:
    again = demo_reports()
    assert [demo.report_id for demo in again] == [demo.report_id for demo in DEMO]
    assert len(BY_SLUG) == len(DEMO)
    for demo in DEMO:
        assert demo.filing.report_id == demo.report_id == uuid5(DEMO_NAMESPACE, demo.slug)


def test_relative_dates_resolve_against_a_saturday_article() -> None:
    assert ARTICLE_DATE.isoformat() == "2024-11-23"
    assert ARTICLE_DATE.strftime("%A") == "Saturday"
    # Zelenskiy and the Berdiansk administration spoke "on Saturday".
    assert filing("port-facilities-damaged").reported == Day(on=date(2024, 11, 23))
    assert filing("berdiansk-strike").reported == Day(on=date(2024, 11, 23))
    # The explosion was heard "shortly before midnight on Friday".
    assert filing("berdiansk-strike").occurred == Day(on=date(2024, 11, 22))
    # "since July last year": from July 2023, to month precision, still running.
    assert filing("port-facilities-damaged").occurred == Interval(start=Month(year=2023, month=7))
    assert filing("foreign-merchant-ships-damaged").occurred == Interval(
        start=Month(year=2023, month=7)
    )
    # "in August": the incursion of August 2024, to month precision.
    assert filing("kursk-incursion").occurred == Month(year=2024, month=8)
    assert filing("kursk-russian-deployment").occurred == Interval(start=Month(year=2024, month=8))
    # "on November 11": the armed forces chief's statement.
    assert filing("kursk-reinforcements-november-11").reported == Day(on=date(2024, 11, 11))


@pytest.mark.parametrize(
    ("slug", "figure", "expected"),
    [
        (
            "kursk-peak-holding",
            "area",
            Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.ABOUT),
        ),
        (
            "kursk-current-holding",
            "area",
            Quantity(unit=Unit.KM2, value=800, qualifier=Qualifier.ABOUT),
        ),
        (
            "kursk-current-holding",
            "share_lost_from_peak",
            Quantity(unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN),
        ),
        (
            "kursk-russian-deployment",
            "troops",
            Quantity(unit=Unit.TROOPS, value=59_000, qualifier=Qualifier.ABOUT),
        ),
        (
            "kursk-north-korean-troops",
            "troops",
            Quantity(unit=Unit.TROOPS, value=11_000, qualifier=Qualifier.ABOUT),
        ),
        (
            "kurakhove-advance",
            "rate",
            Quantity(unit=Unit.METRES_PER_DAY, low=200, high=300, qualifier=Qualifier.BETWEEN),
        ),
        (
            "russian-force-strength",
            "troops",
            Quantity(unit=Unit.TROOPS, value=575_000, qualifier=Qualifier.ABOUT),
        ),
        (
            "russian-force-strength",
            "target",
            Quantity(unit=Unit.TROOPS, value=690_000, qualifier=Qualifier.ABOUT),
        ),
        (
            "russian-occupation-share",
            "share",
            Quantity(unit=Unit.PERCENT, value=20, qualifier=Qualifier.ABOUT),
        ),
        ("port-facilities-damaged", "count", Quantity(unit=Unit.FACILITIES, value=321)),
        ("foreign-merchant-ships-damaged", "count", Quantity(unit=Unit.SHIPS, value=20)),
    ],
)
def test_figures_keep_the_sources_hedging_and_units(
    slug: str, figure: str, expected: Quantity
) -> None:
    assert getattr(filing(slug).claim, figure) == expected


def test_the_kursk_holdings_are_the_general_staff_sources_unverified_by_reuters() -> None:
    peak = claim_of("kursk-peak-holding", TerritoryControl)
    now = claim_of("kursk-current-holding", TerritoryControl)
    assert (peak.extent, now.extent) == (Extent.PEAK, Extent.CURRENT)
    # The two figures agree with "more than 40 per cent" lost.
    assert 1 - 800 / 1376 > 0.40
    for slug in ("kursk-peak-holding", "kursk-current-holding"):
        attribution = filing(slug).attribution
        assert attribution.source == "Ukrainian General Staff source"
        assert (attribution.side, attribution.outlet) == (Side.UKRAINE, "Reuters")
        assert REUTERS_COULD_NOT_VERIFY in filing(slug).caveats
        assert Caveat(party="Russian Defence Ministry", stance=Stance.DID_NOT_RESPOND) in (
            filing(slug).caveats
        )


def test_what_russia_would_not_say_is_kept_as_caveats() -> None:
    north_koreans = claim_of("kursk-north-korean-troops", TroopDeployment)
    assert (north_koreans.actor, north_koreans.in_support_of) == ("North Korea", "Russia")
    assert north_koreans.status is not None
    assert "training" in north_koreans.status
    assert Caveat(party="Russian authorities", stance=Stance.NEITHER_CONFIRMED_NOR_DENIED) in (
        filing("kursk-north-korean-troops").caveats
    )
    strength = filing("russian-force-strength")
    assert isinstance(strength.claim, ForceStrength)
    assert Caveat(party="Russia", stance=Stance.DOES_NOT_DISCLOSE) in strength.caveats
    assert REUTERS_COULD_NOT_VERIFY in strength.caveats


def test_the_incursion_is_an_incursion_with_its_aims() -> None:
    incursion = claim_of("kursk-incursion", OffensiveLaunched)
    assert (incursion.actor, incursion.mode, incursion.country) == ("Ukraine", "incursion", "RU")
    assert incursion.region.startswith("Kursk")
    assert len(incursion.objectives) == 3
    assert [type(step) for step in BY_SLUG["kursk-incursion"].follow_ups] == [CorroborateReport]


def test_the_kurakhove_advance_is_in_donetsk() -> None:
    advance = claim_of("kurakhove-advance", FrontAdvance)
    assert (advance.actor, advance.direction) == ("Russia", "Kurakhove")
    assert advance.region.startswith("Donetsk")


def test_zelenskiys_tallies_are_running_totals_of_his() -> None:
    for slug in ("port-facilities-damaged", "foreign-merchant-ships-damaged"):
        tally = claim_of(slug, DamageTally)
        assert tally.responsible == "Russia"
        attribution = filing(slug).attribution
        assert attribution.source == "President Volodymyr Zelenskiy"
        assert (attribution.side, attribution.outlet) == (Side.UKRAINE, "Reuters")


def test_each_side_has_its_say_on_the_berdiansk_strike() -> None:
    strike = claim_of("berdiansk-strike", Strike)
    assert (strike.attacker, strike.place.name, strike.weapon) == (
        "Ukraine",
        "Berdiansk",
        "guided missile",
    )
    assert strike.effects.injured == Quantity(unit=Unit.PEOPLE, value=0)
    assert strike.effects.operations_affected is False
    assert strike.effects.fires is not None
    assert "extinguished" in strike.effects.fires
    assert filing("berdiansk-strike").attribution.side is Side.RUSSIA
    assert "Balitsky" in filing("berdiansk-strike").attribution.source

    (telegram,) = BY_SLUG["berdiansk-strike"].follow_ups
    assert isinstance(telegram, CorroborateReport)
    assert telegram.by.side is Side.UKRAINE
    assert telegram.by.source == "Ukrainian Telegram channels"
    assert telegram.note is not None
    assert "shortly before midnight on Friday" in telegram.note


def test_the_occupation_share_is_reuters_own_statement() -> None:
    share = claim_of("russian-occupation-share", OccupationShare)
    assert share.occupier == "Russia"
    attribution = filing("russian-occupation-share").attribution
    assert (attribution.source, attribution.side) == ("Reuters", Side.THIRD_PARTY)
