"""A report's life: filed as somebody's claim, assessed by others, corrected, retracted.

Given the events of a report, when an editor acts on it, then the rules decide the next event
and the fold decides what the report now says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain.attribution import Attribution, Caveat, Side, Stance, Verification
from domain.claims import (
    DamageTally,
    Extent,
    OccupationShare,
    OffensiveLaunched,
    Place,
    Strike,
    StrikeEffects,
    TerritoryControl,
    TroopDeployment,
)
from domain.errors import InvalidReport, NothingToCorrect, ReportIsRetracted
from domain.events import DomainEvent, ReportEvent
from domain.occurrence import Day, Instant, Interval, Month
from domain.quantities import Qualifier, Quantity, Unit, about, exactly
from domain.report import (
    Report,
    correct,
    corroborate,
    deny,
    dispute,
    evolve,
    file_report,
    project_report,
    retract,
)

SATURDAY = Day(on=date(2024, 11, 23))
FILED_AT = datetime(2024, 11, 23, 10, 15, tzinfo=UTC)
GENERAL_STAFF = Attribution(
    source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
)
ZELENSKIY = Attribution(source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters")
ISW = Attribution(source="Institute for the Study of War", side=Side.THIRD_PARTY)
RUSSIAN_MOD = Attribution(source="Russian Defence Ministry", side=Side.RUSSIA)


def kursk_held(area: Quantity | None = None) -> TerritoryControl:
    return TerritoryControl(
        actor="Ukraine",
        region="Kursk region",
        country="Russia",
        area=area or about(800, Unit.KM2),
    )


def filing(**changes: Any) -> dict[str, Any]:
    """The General Staff source's "now about 800 km² of Kursk region", with `changes`."""
    return {
        "claim": kursk_held(),
        "attribution": GENERAL_STAFF,
        "occurred": SATURDAY,
        "reported": SATURDAY,
        "caveats": (Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),),
    } | changes


def at(event: ReportEvent, minutes: int) -> ReportEvent:
    return msgspec.structs.replace(event, timestamp=FILED_AT + timedelta(minutes=minutes))


def fold(*events: ReportEvent) -> Report:
    report = project_report(None, events)
    assert report is not None
    return report


def kursk_report() -> Report:
    return fold(at(file_report(**filing()), 0))


def retracted_kursk_report() -> Report:
    report = kursk_report()
    return evolve(report, retract(report, reason="the source withdrew the figure"))


# --- filing -------------------------------------------------------------------------------


def test_a_filed_report_is_an_unverified_claim_at_version_one() -> None:
    filed = file_report(**filing())

    report = evolve(None, filed)

    assert filed.originator_version == report.version == 1
    assert report.id == filed.originator_id
    assert report.kind == "territory_control"
    assert report.verification is Verification.UNVERIFIED
    assert isinstance(report.claim, TerritoryControl)
    assert report.claim.area == about(800, Unit.KM2)
    assert report.attribution.outlet == "Reuters"
    assert report.caveats[0].stance is Stance.COULD_NOT_VERIFY
    assert report.corrections == 0
    assert report.created_on == report.modified_on == filed.timestamp


def test_every_seed_claim_can_be_filed() -> None:
    claims = [
        kursk_held(Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.AT_MOST)),
        OffensiveLaunched(
            actor="Ukraine", region="Kursk region", country="Russia", mode="incursion"
        ),
        TroopDeployment(
            actor="North Korea",
            theatre="Kursk region",
            country="Russia",
            troops=about(11_000, Unit.TROOPS),
            in_support_of="Russia",
        ),
        DamageTally(
            category="foreign merchant ships",
            count=exactly(20, Unit.SHIPS),
            responsible="Russia",
            country="Ukraine",
        ),
        OccupationShare(occupier="Russia", country="Ukraine", share=about(20, Unit.PERCENT)),
    ]

    for claim in claims:
        assert evolve(None, file_report(**filing(claim=claim))).claim == claim


def test_a_filing_keeps_the_id_it_is_given_so_a_retry_names_the_same_report() -> None:
    report_id = UUID("0b6f9a2e-4c1d-4e8a-9b7f-3d2c1a0e5f11")

    assert file_report(**filing(), report_id=report_id).originator_id == report_id
    assert file_report(**filing()).originator_id != file_report(**filing()).originator_id


BERDIANSK_STRIKE = Strike(
    attacker="Ukraine",
    target="port of Berdiansk",
    place=Place(name="Berdiansk", region="Zaporizhzhia region", country="Ukraine"),
    weapon="guided missile",
    effects=StrikeEffects(injured=exactly(0, Unit.PEOPLE), operations_affected=False),
)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param(
            {"attribution": Attribution(source="  ", side=Side.UKRAINE)},
            "attribution.source",
            id="blank source",
        ),
        pytest.param(
            {"attribution": Attribution(source="Zelenskiy", side=Side.UKRAINE, outlet="")},
            "attribution.outlet",
            id="blank outlet",
        ),
        pytest.param(
            {"claim": kursk_held(about(800, Unit.TROOPS))},
            "claim.area.unit",
            id="territory in troops",
        ),
        pytest.param(
            {"claim": kursk_held(Quantity(unit=Unit.KM2, value=-800))},
            "claim.area.value",
            id="negative area",
        ),
        pytest.param(
            {"claim": kursk_held(Quantity(unit=Unit.KM2, low=1376, high=800))},
            "claim.area",
            id="area low above high",
        ),
        pytest.param(
            {
                "claim": TerritoryControl(
                    actor="Ukraine",
                    region="Kursk region",
                    country="Russia",
                    area=about(800, Unit.KM2),
                    share_lost_from_peak=about(140, Unit.PERCENT),
                )
            },
            "claim.share_lost_from_peak.value",
            id="share over 100 percent",
        ),
        pytest.param(
            {"claim": msgspec.structs.replace(kursk_held(), region=" ")},
            "claim.region",
            id="blank region",
        ),
        pytest.param(
            {
                "claim": DamageTally(
                    category="port infrastructure facilities",
                    count=exactly(-321, Unit.FACILITIES),
                    responsible="Russia",
                    country="Ukraine",
                )
            },
            "claim.count.value",
            id="negative count",
        ),
        pytest.param(
            {
                "claim": DamageTally(
                    category="port infrastructure facilities",
                    count=exactly(321, Unit.KM2),
                    responsible="Russia",
                    country="Ukraine",
                )
            },
            "claim.count.unit",
            id="tally in km2",
        ),
        pytest.param(
            {
                "claim": TroopDeployment(
                    actor="North Korea",
                    theatre="Kursk region",
                    country="Russia",
                    troops=about(11_000, Unit.PEOPLE),
                )
            },
            "claim.troops.unit",
            id="troops in people",
        ),
        pytest.param(
            {
                "claim": OffensiveLaunched(
                    actor="Ukraine", region="Kursk region", country="Russia", mode="raid"
                )
            },
            "claim.mode",
            id="unknown offensive mode",
        ),
        pytest.param(
            {
                "claim": OccupationShare(
                    occupier="Russia", country="Ukraine", share=about(120_000, Unit.KM2)
                )
            },
            "claim.share.unit",
            id="occupied share in km2",
        ),
        pytest.param(
            {
                "claim": msgspec.structs.replace(
                    BERDIANSK_STRIKE,
                    place=Place(name="Berdiansk", latitude=146.7553, longitude=36.7885),
                )
            },
            "claim.place.latitude",
            id="latitude off the globe",
        ),
        pytest.param(
            {
                "claim": msgspec.structs.replace(
                    BERDIANSK_STRIKE, place=Place(name="Berdiansk", latitude=46.7553)
                )
            },
            "claim.place",
            id="latitude without longitude",
        ),
        pytest.param(
            {
                "claim": msgspec.structs.replace(
                    BERDIANSK_STRIKE, effects=StrikeEffects(injured=exactly(0, Unit.TROOPS))
                )
            },
            "claim.effects.injured.unit",
            id="injured counted in troops",
        ),
        pytest.param(
            {"occurred": Interval(start=SATURDAY, end=Day(on=date(2024, 11, 22)))},
            "occurred.end",
            id="interval ends before it starts",
        ),
        pytest.param({"occurred": Month(year=2024, month=13)}, "occurred.month", id="month 13"),
        pytest.param(
            {"occurred": Instant(at=datetime(2024, 11, 22, 23, 50))},
            "occurred.at",
            id="instant without zone",
        ),
        pytest.param(
            {"occurred": Day(on=date(2024, 11, 24))}, "occurred", id="happened after reported"
        ),
        pytest.param(
            {"reported": Interval(start=Month(year=2023, month=7))},
            "reported",
            id="reported over an interval",
        ),
        pytest.param(
            {"reported": Month(year=2024, month=11)}, "reported", id="reported in a month"
        ),
        pytest.param(
            {"caveats": (Caveat(party=" ", stance=Stance.DID_NOT_RESPOND),)},
            "caveats[0].party",
            id="caveat without party",
        ),
        pytest.param(
            {"verification": Verification.RETRACTED}, "verification", id="filed retracted"
        ),
    ],
)
def test_an_invalid_filing_is_rejected_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidReport) as raised:
        file_report(**filing(**changes))

    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


# --- assessments --------------------------------------------------------------------------


def test_corroboration_marks_the_report_corroborated_and_names_who() -> None:
    report = kursk_report()

    event = corroborate(report, by=ISW, note="geolocated footage is consistent with ~800 km²")
    report = evolve(report, at(event, 60))

    assert report.verification is Verification.CORROBORATED
    assert report.corroborated_by == (ISW,)
    assert report.version == 2
    assert report.modified_on == FILED_AT + timedelta(minutes=60)
    assert report.created_on == FILED_AT


def test_a_dispute_and_a_denial_are_kept_beside_the_corroboration() -> None:
    report = kursk_report()
    report = evolve(report, corroborate(report, by=ISW))
    report = evolve(report, dispute(report, by=RUSSIAN_MOD, reason="says far less is held"))

    assert report.verification is Verification.DISPUTED
    assert report.corroborated_by == (ISW,)
    assert report.disputed_by == (RUSSIAN_MOD,)

    report = evolve(report, deny(report, by=RUSSIAN_MOD, statement="calls the figure invented"))

    assert report.verification is Verification.DENIED
    assert report.denied_by == (RUSSIAN_MOD,)
    assert report.version == 4


@pytest.mark.parametrize(
    ("assess", "field"),
    [
        pytest.param(
            lambda report: corroborate(report, by=Attribution(source="", side=Side.THIRD_PARTY)),
            "by.source",
            id="corroborated by nobody",
        ),
        pytest.param(
            lambda report: dispute(report, by=RUSSIAN_MOD, reason=" "),
            "reason",
            id="dispute without reason",
        ),
        pytest.param(
            lambda report: deny(report, by=RUSSIAN_MOD, statement=""),
            "statement",
            id="denial without statement",
        ),
        pytest.param(
            lambda report: retract(report, reason=""), "reason", id="retraction without reason"
        ),
    ],
)
def test_an_assessment_needs_a_source_and_its_words(
    assess: Callable[[Report], ReportEvent], field: str
) -> None:
    with pytest.raises(InvalidReport) as raised:
        assess(kursk_report())

    assert raised.value.field == field


# --- corrections --------------------------------------------------------------------------


def test_a_correction_supersedes_the_claim_and_counts_in_the_history() -> None:
    report = fold(file_report(**filing(claim=kursk_held(about(1376, Unit.KM2)))))

    corrected = correct(
        report,
        claim=kursk_held(about(800, Unit.KM2)),
        reason="the peak was entered as the current area",
        by=GENERAL_STAFF,
    )
    report = evolve(report, corrected)

    assert report.claim == kursk_held(about(800, Unit.KM2))
    assert report.corrections == 1
    assert report.version == 2
    assert report.attribution == GENERAL_STAFF
    assert report.occurred == SATURDAY
    assert report.verification is Verification.UNVERIFIED


def test_a_second_correction_supersedes_the_first() -> None:
    report = kursk_report()
    report = evolve(report, correct(report, claim=kursk_held(about(850, Unit.KM2)), reason="typo"))
    report = evolve(report, correct(report, claim=kursk_held(about(800, Unit.KM2)), reason="typo"))

    assert report.claim == kursk_held(about(800, Unit.KM2))
    assert report.corrections == 2
    assert report.version == 3


def test_a_running_total_may_go_down_when_its_source_corrects_it() -> None:
    tally = DamageTally(
        category="port infrastructure facilities",
        count=exactly(321, Unit.FACILITIES),
        responsible="Russia",
        country="Ukraine",
    )
    since_july_2023 = Interval(start=Month(year=2023, month=7), end=SATURDAY)
    report = fold(
        file_report(
            **filing(claim=tally, attribution=ZELENSKIY, occurred=since_july_2023, caveats=())
        )
    )

    lower = msgspec.structs.replace(tally, count=exactly(300, Unit.FACILITIES))
    report = evolve(report, correct(report, claim=lower, reason="the office revised its count"))

    assert report.claim == lower
    assert report.occurred == since_july_2023


def test_a_correction_may_move_only_when_it_happened() -> None:
    report = kursk_report()
    friday = Day(on=date(2024, 11, 22))

    report = evolve(
        report, correct(report, claim=report.claim, occurred=friday, reason="said on Friday")
    )

    assert report.occurred == friday
    assert report.claim == kursk_held()


@pytest.mark.parametrize(
    "occurred", [None, SATURDAY], ids=["claim alone", "claim and the same day"]
)
def test_a_correction_must_change_something(occurred: Day | None) -> None:
    report = kursk_report()

    with pytest.raises(NothingToCorrect) as raised:
        correct(report, claim=kursk_held(), occurred=occurred, reason="re-read the article")

    assert raised.value.report_id == report.id


def test_a_correction_cannot_change_the_kind_of_claim() -> None:
    report = kursk_report()
    occupied = OccupationShare(occupier="Russia", country="Ukraine", share=about(20, Unit.PERCENT))

    with pytest.raises(InvalidReport) as raised:
        correct(report, claim=occupied, reason="wrong kind")

    assert raised.value.field == "claim.kind"
    assert "territory_control" in raised.value.message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param(
            {"claim": kursk_held(Quantity(unit=Unit.KM2, value=-800))},
            "claim.area.value",
            id="negative area",
        ),
        pytest.param(
            {"claim": kursk_held(about(800, Unit.TROOPS))}, "claim.area.unit", id="area in troops"
        ),
        pytest.param(
            {"claim": kursk_held(about(700, Unit.KM2)), "reason": "  "}, "reason", id="no reason"
        ),
        pytest.param(
            {"claim": kursk_held(about(700, Unit.KM2)), "occurred": Day(on=date(2024, 12, 1))},
            "occurred",
            id="after it was reported",
        ),
        pytest.param(
            {
                "claim": kursk_held(about(700, Unit.KM2)),
                "by": Attribution(source="", side=Side.UKRAINE),
            },
            "by.source",
            id="corrected by nobody",
        ),
    ],
)
def test_a_correction_follows_the_rules_of_a_filing(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidReport) as raised:
        correct(kursk_report(), **{"reason": "revised"} | changes)

    assert raised.value.field == field


# --- retraction ---------------------------------------------------------------------------


def test_a_retracted_report_keeps_its_claim_and_history() -> None:
    report = kursk_report()
    report = evolve(report, corroborate(report, by=ISW))

    report = evolve(report, retract(report, reason="the source withdrew the figure", by=ISW))

    assert report.is_retracted
    assert report.verification is Verification.RETRACTED
    assert report.claim == kursk_held()
    assert report.corroborated_by == (ISW,)
    assert report.version == 3


@pytest.mark.parametrize(
    ("action", "act"),
    [
        (
            "corrected",
            lambda r: correct(r, claim=kursk_held(about(700, Unit.KM2)), reason="revised"),
        ),
        ("corroborated", lambda r: corroborate(r, by=ISW)),
        ("disputed", lambda r: dispute(r, by=RUSSIAN_MOD, reason="says far less is held")),
        ("denied", lambda r: deny(r, by=RUSSIAN_MOD, statement="calls the figure invented")),
        ("retracted", lambda r: retract(r, reason="again")),
    ],
)
def test_retraction_is_terminal(action: str, act: Callable[[Report], ReportEvent]) -> None:
    report = retracted_kursk_report()

    with pytest.raises(ReportIsRetracted) as raised:
        act(report)

    assert raised.value.report_id == report.id
    assert raised.value.action == action
    assert f"cannot be {action}" in str(raised.value)


# --- the fold -----------------------------------------------------------------------------


def test_versions_count_every_event_of_the_report() -> None:
    report = kursk_report()
    steps: list[Callable[[Report], ReportEvent]] = [
        lambda r: corroborate(r, by=ISW),
        lambda r: dispute(r, by=RUSSIAN_MOD, reason="says far less is held"),
        lambda r: correct(r, claim=kursk_held(about(780, Unit.KM2)), reason="revised"),
        lambda r: deny(r, by=RUSSIAN_MOD, statement="calls the figure invented"),
        lambda r: retract(r, reason="the source withdrew the figure"),
    ]
    events: list[ReportEvent] = []
    for step in steps:
        event = step(report)
        events.append(event)
        report = evolve(report, event)

    assert [event.originator_version for event in events] == [2, 3, 4, 5, 6]
    assert report.version == 6
    assert fold(at(file_report(**filing(), report_id=report.id), 0), *events) == report


def test_no_events_fold_to_no_report() -> None:
    assert project_report(None, []) is None


def test_an_assessment_before_the_filing_is_refused() -> None:
    report = kursk_report()

    with pytest.raises(ValueError, match="before the report was filed"):
        evolve(None, corroborate(report, by=ISW))


def test_a_foreign_event_is_not_folded_into_a_report() -> None:
    class RegionAnnexed(DomainEvent, frozen=True, kw_only=True):
        stored_name = "test-region-annexed"

    foreign = RegionAnnexed(originator_id=kursk_report().id, originator_version=2)

    with pytest.raises(TypeError, match="RegionAnnexed is not an event of a report"):
        project_report(kursk_report(), [foreign])


def test_a_peak_and_a_current_figure_are_separate_reports() -> None:
    peak = fold(
        file_report(
            **filing(
                claim=TerritoryControl(
                    actor="Ukraine",
                    region="Kursk region",
                    country="Russia",
                    area=Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.AT_MOST),
                    extent=Extent.PEAK,
                ),
                occurred=Interval(start=Month(year=2024, month=8), end=SATURDAY),
            )
        )
    )
    now = kursk_report()

    assert peak.id != now.id
    assert isinstance(peak.claim, TerritoryControl)
    assert peak.claim.extent is Extent.PEAK
    assert isinstance(now.claim, TerritoryControl)
    assert now.claim.extent is Extent.CURRENT
