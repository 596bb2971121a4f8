"""Every claim of the seed article (Reuters with DPA, Saturday 23 November 2024, "Russia
retaking Kursk area seized by Ukraine") as a report under a fixed id, with the life-cycle
steps the article supports: data, which `application.demo.load_demo` files.

Attribution follows the article sentence by sentence. Figures given by the unnamed source on
Ukraine's General Staff are that source's, relayed by Reuters, which "could not independently
verify" them. Statements the article makes in its own voice (the aims of the incursion, the
share of Ukraine occupied) are Reuters' own, relayed by nobody. The article does not say which
paragraphs came from DPA, so "Reuters" is the outlet throughout.

Relative dates are resolved against the day of the article, at the precision it gives:
"Saturday" is that day, "Friday" the day before, "November 11" a day, "in August" a month and
"since July last year" an interval open at its end, as `domain.occurrence` reads "since".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID, uuid5

from application.commands import CorroborateReport, FileReport, LifeCycleCommand
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
from domain.occurrence import Day, Interval, Month, Occurrence
from domain.quantities import Qualifier, Quantity, Unit, about, between, exactly

ARTICLE_DATE = date(2024, 11, 23)  # a Saturday

# Fixed forever: report ids derive from it, and a second run finds the first run's reports.
DEMO_NAMESPACE = UUID("82bb5237-8ffb-4c54-9262-9ffa779c2ecc")

SATURDAY = Day(on=ARTICLE_DATE)
FRIDAY = Day(on=ARTICLE_DATE - timedelta(days=1))
NOVEMBER_11 = Day(on=date(ARTICLE_DATE.year, 11, 11))
IN_AUGUST = Month(year=ARTICLE_DATE.year, month=8)
SINCE_AUGUST = Interval(start=IN_AUGUST)
SINCE_JULY_LAST_YEAR = Interval(start=Month(year=ARTICLE_DATE.year - 1, month=7))
# The General Staff source's "now" and "at the moment": the article gives no other day.
NOW = SATURDAY

REUTERS = Attribution(source="Reuters", side=Side.THIRD_PARTY)
GENERAL_STAFF_VIA_REUTERS = Attribution(
    source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
)
ARMED_FORCES_CHIEF_VIA_REUTERS = Attribution(
    source="Ukraine's armed forces chief", side=Side.UKRAINE, outlet="Reuters"
)
ZELENSKIY_VIA_REUTERS = Attribution(
    source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"
)
BERDIANSK_ADMINISTRATION_VIA_REUTERS = Attribution(
    source="Governor Yevgeny Balitsky (Kremlin-appointed local administration)",
    side=Side.RUSSIA,
    outlet="Reuters",
)
UKRAINIAN_TELEGRAM_VIA_REUTERS = Attribution(
    source="Ukrainian Telegram channels", side=Side.UKRAINE, outlet="Reuters"
)

REUTERS_COULD_NOT_VERIFY = Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY)
# Asked about "Ukraine's latest assessment of the state of play in the Kursk region".
MOSCOW_DID_NOT_RESPOND = Caveat(party="Russian Defence Ministry", stance=Stance.DID_NOT_RESPOND)
MOSCOW_SILENT_ON_NORTH_KOREANS = Caveat(
    party="Russian authorities", stance=Stance.NEITHER_CONFIRMED_NOR_DENIED
)
RUSSIA_DOES_NOT_DISCLOSE = Caveat(party="Russia", stance=Stance.DOES_NOT_DISCLOSE)
KURSK_CAVEATS = (REUTERS_COULD_NOT_VERIFY, MOSCOW_DID_NOT_RESPOND)

KURSK = "Kursk Oblast"
BERDIANSK_PORT_LATITUDE = 46.75
BERDIANSK_PORT_LONGITUDE = 36.78


def demo_report_id(slug: str) -> UUID:
    return uuid5(DEMO_NAMESPACE, slug)


@dataclass(frozen=True, slots=True)
class DemoReport:
    """A report to file under a fixed id, and the life-cycle steps the article supports."""

    slug: str
    filing: FileReport
    follow_ups: tuple[LifeCycleCommand, ...] = ()

    @property
    def report_id(self) -> UUID:
        return demo_report_id(self.slug)


def _report(
    slug: str,
    claim: Claim,
    *,
    attribution: Attribution,
    occurred: Occurrence,
    reported: Occurrence = SATURDAY,
    caveats: tuple[Caveat, ...] = (),
    notes: str | None = None,
    follow_ups: tuple[LifeCycleCommand, ...] = (),
) -> DemoReport:
    filing = FileReport(
        claim=claim,
        attribution=attribution,
        occurred=occurred,
        reported=reported,
        caveats=caveats,
        notes=notes,
        report_id=demo_report_id(slug),
    )
    return DemoReport(slug=slug, filing=filing, follow_ups=follow_ups)


def _kursk() -> list[DemoReport]:
    """The incursion, what Ukraine held then and now, and what Russia sent against it."""
    return [
        _report(
            "kursk-incursion",
            OffensiveLaunched(
                actor="Ukraine",
                region=KURSK,
                country="RU",
                mode="incursion",
                objectives=(
                    "stem Russian attacks in eastern and northeastern Ukraine",
                    "force Russia to pull back forces gradually advancing in the east",
                    "give Ukraine extra leverage in any future peace negotiations",
                ),
                description="a surprise incursion; the first ground invasion of Russia "
                "by a foreign power since World War II",
            ),
            # The aims and the history are the article's own account, not the source's.
            attribution=REUTERS,
            occurred=IN_AUGUST,
            follow_ups=(
                CorroborateReport(
                    by=GENERAL_STAFF_VIA_REUTERS,
                    note="Ukraine's forces 'swept in and advanced swiftly, catching Russia "
                    "unprepared'; the territory was 'rapidly seized in a surprise incursion'",
                ),
            ),
        ),
        _report(
            "kursk-peak-holding",
            # "At most" names the peak extent; "about" is how the figure itself is hedged.
            TerritoryControl(
                actor="Ukraine",
                region=KURSK,
                country="RU",
                area=about(1376, Unit.KM2),
                extent=Extent.PEAK,
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            # The source did not say when the peak was: some time since the incursion.
            occurred=Interval(start=IN_AUGUST, end=NOW),
            caveats=KURSK_CAVEATS,
            notes='"At most, we controlled about 1376 square kilometres"',
        ),
        _report(
            "kursk-current-holding",
            TerritoryControl(
                actor="Ukraine",
                region=KURSK,
                country="RU",
                area=about(800, Unit.KM2),
                extent=Extent.CURRENT,
                share_lost_from_peak=Quantity(
                    unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN
                ),
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            occurred=NOW,
            caveats=KURSK_CAVEATS,
            notes='"We will hold this territory for as long as is militarily appropriate."',
        ),
        _report(
            "kursk-counter-assaults",
            Counterattack(
                actor="Russia",
                against="Ukraine",
                region=KURSK,
                country="RU",
                intensity="increasing",
                description='waves of counter-assaults; "The enemy is increasing its '
                'counterattacks"',
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            # Against ground taken in August, up to the source's "now".
            occurred=Interval(start=IN_AUGUST, end=NOW),
            caveats=KURSK_CAVEATS,
        ),
        _report(
            "kursk-reinforcements-november-11",
            # No figure was given, so a deployment (which needs one) does not fit: what the
            # chief described is Russian forces fighting back against Ukraine's in Kursk.
            Counterattack(
                actor="Russia",
                against="Ukraine",
                region=KURSK,
                country="RU",
                description="Ukraine's beleaguered forces battling crack Russian "
                "reinforcements in Kursk",
            ),
            attribution=ARMED_FORCES_CHIEF_VIA_REUTERS,
            occurred=NOVEMBER_11,
            reported=NOVEMBER_11,
            notes="He also said Ukraine's forces were scrambling to reinforce two besieged "
            "fronts in eastern Ukraine and bracing for an infantry assault in the south.",
        ),
        _report(
            "kursk-russian-deployment",
            TroopDeployment(
                actor="Russia", theatre=KURSK, country="RU", troops=about(59_000, Unit.TROOPS)
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            occurred=SINCE_AUGUST,
            caveats=KURSK_CAVEATS,
            notes="deployed since Ukraine's forces swept in",
        ),
        _report(
            "kursk-north-korean-troops",
            TroopDeployment(
                actor="North Korea",
                theatre=KURSK,
                country="RU",
                troops=about(11_000, Unit.TROOPS),
                in_support_of="Russia",
                status="arrived; the bulk still finalising training",
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            # "had arrived": by the day of the report; the source gave no start.
            occurred=Interval(end=NOW),
            caveats=(*KURSK_CAVEATS, MOSCOW_SILENT_ON_NORTH_KOREANS),
            notes="The source reiterated the figure.",
        ),
    ]


def _fronts() -> list[DemoReport]:
    """Russia's advance in Donetsk, its forces overall, and how much of Ukraine it holds."""
    return [
        _report(
            "kurakhove-advance",
            FrontAdvance(
                actor="Russia",
                direction="Kurakhove",
                region="Donetsk Oblast",
                country="UA",
                rate=between(200, 300, Unit.METRES_PER_DAY),
                description="the most threatening direction for Ukraine now; broke through "
                "in some areas with armoured vehicles backed by anti-drone defences",
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            occurred=NOW,
            caveats=(REUTERS_COULD_NOT_VERIFY,),
        ),
        _report(
            "russian-force-strength",
            ForceStrength(
                actor="Russia",
                theatre="Ukraine",
                troops=about(575_000, Unit.TROOPS),
                target=about(690_000, Unit.TROOPS),
            ),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            occurred=NOW,
            caveats=(RUSSIA_DOES_NOT_DISCLOSE, REUTERS_COULD_NOT_VERIFY),
        ),
        _report(
            "russian-occupation-share",
            OccupationShare(occupier="Russia", country="UA", share=about(20, Unit.PERCENT)),
            attribution=REUTERS,
            occurred=NOW,
            notes='"Russia occupies a fifth of Ukraine"',
        ),
        _report(
            "russian-full-scale-invasion",
            OffensiveLaunched(
                actor="Russia",
                region="Ukraine",
                country="UA",
                description="the all-out invasion",
            ),
            attribution=REUTERS,
            occurred=Month(year=2022, month=2),
            # No claim kind records the capture of a town without an area; keep it here.
            notes="Berdiansk, one of Ukraine's busiest ports before the war, was occupied "
            "early in the invasion.",
        ),
    ]


def _ports() -> list[DemoReport]:
    """Zelenskiy's running totals of damage, and the strike on occupied Berdiansk.

    The Telegram channels' account is a corroboration of the strike, not a report of its own:
    they told of a loud explosion, not of an attacker, a weapon or a target, so a report of
    theirs would have to invent one; and two reports of one attack would count it twice
    wherever incidents are added up. What they add is support from the other side that
    Berdiansk was hit, and the time: the administration gave none, so the strike's day is
    theirs ("shortly before midnight on Friday", in a time zone nobody stated, so a day).
    """
    return [
        _report(
            "port-facilities-damaged",
            DamageTally(
                category="port infrastructure facilities",
                count=exactly(321, Unit.FACILITIES),
                responsible="Russia",
                country="UA",
                cause="Russian drone and missile attacks",
            ),
            attribution=ZELENSKIY_VIA_REUTERS,
            occurred=SINCE_JULY_LAST_YEAR,
        ),
        _report(
            "foreign-merchant-ships-damaged",
            DamageTally(
                category="foreign merchant ships",
                count=exactly(20, Unit.SHIPS),
                responsible="Russia",
                country="UA",
                cause="Russian strikes",
            ),
            attribution=ZELENSKIY_VIA_REUTERS,
            # "also", in the same statement: the same period as the port facilities.
            occurred=SINCE_JULY_LAST_YEAR,
        ),
        _report(
            "berdiansk-strike",
            Strike(
                attacker="Ukraine",
                target="port of Berdiansk",
                # The article gives no position: this is the port's, as sailing directions
                # give it (46°45' N, 36°47' E), so that maps can place the strike.
                place=Place(
                    name="Berdiansk",
                    region="Zaporizhzhia Oblast",
                    country="UA",
                    latitude=BERDIANSK_PORT_LATITUDE,
                    longitude=BERDIANSK_PORT_LONGITUDE,
                ),
                weapon="guided missile",
                effects=StrikeEffects(
                    injured=exactly(0, Unit.PEOPLE),
                    operations_affected=False,
                    fires="fires caused by the attack have been extinguished",
                ),
            ),
            attribution=BERDIANSK_ADMINISTRATION_VIA_REUTERS,
            occurred=FRIDAY,
            notes="The administration gave no time; the day is the one Ukrainian Telegram "
            "channels gave for the explosion.",
            follow_ups=(
                CorroborateReport(
                    by=UKRAINIAN_TELEGRAM_VIA_REUTERS,
                    note="a loud explosion was heard in Berdiansk shortly before midnight "
                    "on Friday",
                ),
            ),
        ),
    ]


def demo_reports() -> list[DemoReport]:
    """Every claim of the seed article, in the order the loader files them."""
    return [*_kursk(), *_fronts(), *_ports()]
