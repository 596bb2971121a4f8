"""Reports from the seed article (Reuters, about 23 November 2024), ready to file.

Builders return fresh values so a test can file the same story twice under new ids.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from application.commands import CorroborateReport, DisputeReport, FileReport, RetractReport
from domain import report as rules
from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import (
    Casualties,
    DamageTally,
    EquipmentCategory,
    EquipmentLosses,
    Extent,
    PersonStatus,
    Place,
    Strike,
    StrikeEffects,
    Tally,
    TerritoryControl,
)
from domain.events import ReportEvent, ReportFiled
from domain.occurrence import Day, Instant, Interval, Month
from domain.quantities import Qualifier, Quantity, Unit, about, exactly

ARTICLE_DAY = Day(on=date(2024, 11, 23))

GENERAL_STAFF_VIA_REUTERS = Attribution(
    source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
)
GOVERNOR_BALITSKY = Attribution(
    source="Governor Yevgeny Balitsky", side=Side.RUSSIA, outlet="Reuters"
)
PRESIDENT_ZELENSKIY = Attribution(
    source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"
)
# Who might later corroborate or dispute a claim: not in the article, but the kind of
# party that does (an analysts' desk, the other side's ministry).
INSTITUTE_FOR_THE_STUDY_OF_WAR = Attribution(
    source="Institute for the Study of War", side=Side.THIRD_PARTY
)
RUSSIAN_DEFENCE_MINISTRY = Attribution(source="Russian Defence Ministry", side=Side.RUSSIA)

# The General Staff's daily tallies of Russian losses, as `timeline import gs-losses` files
# them (published the day they count up to, since the invasion).
UK_MOD_VIA_THE_ECONOMIST = Attribution(
    source="UK MoD", side=Side.THIRD_PARTY, outlet="The Economist"
)
GENERAL_STAFF = Attribution(
    source="General Staff of the Armed Forces of Ukraine", side=Side.UKRAINE
)
INVASION = date(2022, 2, 24)

REUTERS_COULD_NOT_VERIFY = Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY)


def kursk_held_now(report_id: UUID | None = None) -> FileReport:
    """Ukraine now holds about 800 km² of Russia's Kursk region."""
    return FileReport(
        claim=TerritoryControl(
            actor="Ukraine",
            region="Kursk Oblast",
            country="RU",
            area=about(800, Unit.KM2),
        ),
        attribution=GENERAL_STAFF_VIA_REUTERS,
        occurred=ARTICLE_DAY,
        reported=ARTICLE_DAY,
        caveats=(REUTERS_COULD_NOT_VERIFY,),
        report_id=report_id,
    )


def kursk_held_now_with_share_lost() -> TerritoryControl:
    """The same claim as the source gave it in full: "more than 40 per cent" lost."""
    return TerritoryControl(
        actor="Ukraine",
        region="Kursk Oblast",
        country="RU",
        area=about(800, Unit.KM2),
        share_lost_from_peak=Quantity(unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN),
    )


def kursk_at_peak(report_id: UUID | None = None) -> FileReport:
    """At most about 1,376 km² at the height of the August 2024 incursion."""
    return FileReport(
        claim=TerritoryControl(
            actor="Ukraine",
            region="Kursk Oblast",
            country="RU",
            area=Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.AT_MOST),
            extent=Extent.PEAK,
        ),
        attribution=GENERAL_STAFF_VIA_REUTERS,
        occurred=Month(year=2024, month=8),
        reported=ARTICLE_DAY,
        caveats=(REUTERS_COULD_NOT_VERIFY,),
        report_id=report_id,
    )


def berdiansk_strike(report_id: UUID | None = None) -> FileReport:
    """A guided-missile attack on the port of Berdiansk shortly before midnight on Friday."""
    return FileReport(
        claim=Strike(
            attacker="Ukraine",
            target="port of Berdiansk",
            place=Place(name="Berdiansk", region="Zaporizhzhia Oblast", country="UA"),
            weapon="guided missile",
            effects=StrikeEffects(
                injured=exactly(0, Unit.PEOPLE),
                operations_affected=False,
                fires="extinguished",
            ),
        ),
        attribution=GOVERNOR_BALITSKY,
        occurred=Instant(at=datetime(2024, 11, 22, 20, 50, tzinfo=UTC)),
        reported=ARTICLE_DAY,
        notes="Ukrainian Telegram channels reported a loud explosion.",
        report_id=report_id,
    )


def port_damage_since_july_2023(report_id: UUID | None = None) -> FileReport:
    """321 port infrastructure facilities damaged since July 2023: a running total."""
    return FileReport(
        claim=DamageTally(
            category="port infrastructure facilities",
            count=exactly(321, Unit.FACILITIES),
            responsible="Russia",
            country="UA",
        ),
        attribution=PRESIDENT_ZELENSKIY,
        occurred=Interval(start=Month(year=2023, month=7)),
        reported=ARTICLE_DAY,
        report_id=report_id,
    )


def corroborate_by_analysts() -> CorroborateReport:
    return CorroborateReport(
        by=INSTITUTE_FOR_THE_STUDY_OF_WAR, note="geolocated footage matches the line"
    )


def dispute_by_moscow() -> DisputeReport:
    return DisputeReport(
        by=RUSSIAN_DEFENCE_MINISTRY, reason="says Ukrainian forces hold far less of the region"
    )


def retract_unconfirmed() -> RetractReport:
    return RetractReport(reason="the source withdrew the figure")


def filed(command: FileReport) -> ReportFiled:
    """The event a filing decides, without going through the service."""
    return rules.file_report(
        claim=command.claim,
        attribution=command.attribution,
        occurred=command.occurred,
        reported=command.reported,
        caveats=command.caveats,
        notes=command.notes,
        verification=command.verification,
        report_id=command.report_id,
    )


def kursk_story() -> list[ReportEvent]:
    """The Kursk report's life: filed, corroborated by analysts, then corrected to carry
    the share lost since the peak, as the source gave it in full."""
    filing = filed(kursk_held_now())
    report = rules.evolve(None, filing)
    corroboration = rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
    report = rules.evolve(report, corroboration)
    correction = rules.correct(
        report,
        claim=kursk_held_now_with_share_lost(),
        reason="the source also said more than 40 per cent was lost since the peak",
    )
    return [filing, corroboration, correction]


def general_staff_tanks(count: int, on: date, report_id: UUID | None = None) -> FileReport:
    """Russia's tanks lost since the invasion, as the General Staff counted them on `on`
    (9,419 on 23 November 2024; 3,799 on 27 May 2023, then 3,797 the next day)."""
    return FileReport(
        claim=EquipmentLosses(
            side="Russia",
            category=EquipmentCategory.TANKS,
            source_category="tank",
            count=exactly(count, Unit.COUNT),
            since=INVASION,
        ),
        attribution=GENERAL_STAFF,
        occurred=Day(on=on),
        reported=Day(on=on),
        report_id=report_id,
    )


def general_staff_personnel(count: int, on: date) -> FileReport:
    """About 729,720 Russian personnel lost since the invasion, by 23 November 2024."""
    return FileReport(
        claim=Casualties(
            side="Russia",
            status=PersonStatus.MILITARY,
            total=about(count, Unit.PEOPLE),
            label="personnel",
            since=INVASION,
        ),
        attribution=GENERAL_STAFF,
        occurred=Day(on=on),
        reported=Day(on=on),
    )


def tanks_lost_on_the_day(count: int, on: date, report_id: UUID | None = None) -> FileReport:
    """Russian tanks lost on one day: an increment, which adds up with the others."""
    return FileReport(
        claim=EquipmentLosses(
            side="Russia",
            category=EquipmentCategory.TANKS,
            source_category="tanks",
            count=exactly(count, Unit.COUNT),
            tally=Tally.INCREMENT,
        ),
        attribution=GENERAL_STAFF,
        occurred=Day(on=on),
        reported=Day(on=on),
        report_id=report_id,
    )


def uk_mod_estimate(killed: Quantity, on: date, wounded: Quantity | None = None) -> FileReport:
    """UK MoD's estimate of Russian soldiers killed (200,000-250,000 by 20 March 2025), and
    wounded, as `timeline import economist-estimates` files it."""
    return FileReport(
        claim=Casualties(
            side="Russia",
            status=PersonStatus.MILITARY,
            killed=killed,
            wounded=wounded,
            since=INVASION,
        ),
        attribution=UK_MOD_VIA_THE_ECONOMIST,
        occurred=Day(on=on),
        reported=Day(on=on),
    )
