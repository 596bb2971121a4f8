"""The forces view: Russia's 575,000 troops aiming for 690,000, and who was sent to Kursk.

Given the seed article's reports and what happened to them later, when the forces view folds
them, then each actor and theatre shows its latest standing strength, target and deployment,
with the caveats it was reported under; and the forces-history view beside it lists every
standing report of each day for the chart and every deployment in full, never summed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Side, Stance, Verification
from domain.claims import ForceStrength, TroopDeployment
from domain.events import DomainEvent
from domain.occurrence import Day
from domain.quantities import Unit, about
from domain.report import Report, correct, corroborate, dispute, file_report, project_report
from domain.report import retract as retract_report
from projections.core import fold, render_all
from projections.views.forces import (
    ForcesHistory,
    ForcesHistoryView,
    ForcesRow,
    ForcesView,
    Measure,
)
from seed.kursk_article import demo_report_id
from tests.projection_support import demo_events, recorded
from tests.seed_values import GENERAL_STAFF_VIA_REUTERS, RUSSIAN_DEFENCE_MINISTRY

VIEW = ForcesView()
HISTORY = ForcesHistoryView()
RUSSIA_IN_KURSK = "russia/kursk-oblast"
NORTH_KOREA_IN_KURSK = "north-korea/kursk-oblast"
RUSSIA_IN_UKRAINE = "russia/ukraine"
RUSSIAN_DEPLOYMENT = demo_report_id("kursk-russian-deployment")
NORTH_KOREAN_TROOPS = demo_report_id("kursk-north-korean-troops")
FORCE_STRENGTH = demo_report_id("russian-force-strength")
SOUTH_KOREAN_INTELLIGENCE = Attribution(
    source="South Korea's National Intelligence Service", side=Side.THIRD_PARTY
)
ZELENSKIY_VIA_REUTERS = Attribution(
    source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"
)
NEITHER_CONFIRMED_NOR_DENIED = Caveat(
    party="Russian authorities", stance=Stance.NEITHER_CONFIRMED_NOR_DENIED
)
# Fixed, so that two folds of "the same events" really are the same events.
DECEMBER_STRENGTH = UUID("e4b7c2a9-3d6f-4b1e-8a05-7f9c1d2e6b48")
ZELENSKIY_ON_KURSK = UUID("1f5a9d3c-8b2e-4f6a-9c47-5e0b3a7d1c26")


def report_after(events: list[DomainEvent], report_id: UUID) -> Report:
    report = project_report(None, [e for e in events if e.originator_id == report_id])
    assert report is not None
    return report


def forces(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, ForcesRow]:
    state, _ = fold(VIEW, recorded(events))
    rows = render_all(VIEW, state, as_of)
    assert all(isinstance(row, ForcesRow) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, ForcesRow)}


def history(events: list[DomainEvent], as_of: datetime | None = None) -> dict[str, ForcesHistory]:
    state, _ = fold(HISTORY, recorded(events))
    rows = render_all(HISTORY, state, as_of)
    assert all(isinstance(row, ForcesHistory) for row in rows.values())
    return {key: row for key, row in rows.items() if isinstance(row, ForcesHistory)}


def days_of(rows: dict[str, ForcesHistory], force: str) -> dict[str, ForcesHistory]:
    """The day rows of one actor and theatre ("russia/kursk-oblast"), by key in order."""
    return {key: row for key, row in rows.items() if key.rsplit("/", 1)[0] == force}


def retract(events: list[DomainEvent], report_id: UUID) -> DomainEvent:
    return retract_report(report_after(events, report_id), reason="the source withdrew the figure")


def december_strength() -> DomainEvent:
    """A later count from the same source: about 580,000, still aiming for 690,000."""
    december_15 = Day(on=date(2024, 12, 15))
    return file_report(
        claim=ForceStrength(
            actor="Russia",
            theatre="Ukraine",
            troops=about(580_000, Unit.TROOPS),
            target=about(690_000, Unit.TROOPS),
        ),
        attribution=GENERAL_STAFF_VIA_REUTERS,
        occurred=december_15,
        reported=december_15,
        report_id=DECEMBER_STRENGTH,
    )


def zelenskiy_on_kursk() -> DomainEvent:
    """Zelenskiy's "about 50,000" Russian troops massed in Kursk, on 11 November 2024."""
    november_11 = Day(on=date(2024, 11, 11))
    return file_report(
        claim=TroopDeployment(
            actor="Russia", theatre="Kursk Oblast", country="RU", troops=about(50_000, Unit.TROOPS)
        ),
        attribution=ZELENSKIY_VIA_REUTERS,
        occurred=november_11,
        reported=november_11,
        report_id=ZELENSKIY_ON_KURSK,
    )


def test_the_demo_shows_russias_strength_and_the_troops_sent_to_kursk() -> None:
    rows = forces(demo_events())

    assert list(rows) == [NORTH_KOREA_IN_KURSK, RUSSIA_IN_KURSK, RUSSIA_IN_UKRAINE]
    overall = rows[RUSSIA_IN_UKRAINE]
    assert overall.strength is not None
    assert overall.strength.troops == about(575_000, Unit.TROOPS)
    assert overall.strength.verification is Verification.UNVERIFIED
    assert overall.strength.source.report_id == FORCE_STRENGTH
    assert overall.target is not None
    assert overall.target.troops == about(690_000, Unit.TROOPS)
    assert overall.deployment is None
    assert overall.country is None  # only deployments name one

    russians = rows[RUSSIA_IN_KURSK].deployment
    assert russians is not None
    assert russians.troops == about(59_000, Unit.TROOPS)
    assert russians.since == "2024-08-01"
    assert russians.attribution == GENERAL_STAFF_VIA_REUTERS
    assert russians.source.report_id == RUSSIAN_DEPLOYMENT
    assert rows[RUSSIA_IN_KURSK].strength is None
    assert rows[RUSSIA_IN_KURSK].country == "RU"

    north_koreans = rows[NORTH_KOREA_IN_KURSK].deployment
    assert north_koreans is not None
    assert north_koreans.troops == about(11_000, Unit.TROOPS)
    assert north_koreans.in_support_of == "Russia"
    assert north_koreans.status == "arrived; the bulk still finalising training"
    assert north_koreans.since is None  # "had arrived": the source gave no start
    assert NEITHER_CONFIRMED_NOR_DENIED in north_koreans.caveats
    assert north_koreans.verification is Verification.UNVERIFIED


def test_the_demo_history_charts_each_report_on_the_day_it_held() -> None:
    rows = history(demo_events())

    # The deployment to Kursk began in August; the strength and the North Koreans' arrival
    # are the source's "now", 23 November.
    assert list(rows) == [
        f"{NORTH_KOREA_IN_KURSK}/2024-11-23",
        f"{RUSSIA_IN_KURSK}/2024-08-01",
        f"{RUSSIA_IN_UKRAINE}/2024-11-23",
    ]
    overall = rows[f"{RUSSIA_IN_UKRAINE}/2024-11-23"]
    assert (overall.actor, overall.theatre, overall.day) == ("Russia", "Ukraine", "2024-11-23")
    assert [(p.measure, p.troops.value, p.target, p.report_id) for p in overall.points] == [
        (Measure.STRENGTH, 575_000, about(690_000, Unit.TROOPS), FORCE_STRENGTH)
    ]
    assert overall.deployments == ()
    assert overall.retracted == ()

    kursk = rows[f"{RUSSIA_IN_KURSK}/2024-08-01"]
    assert (kursk.actor, kursk.theatre, kursk.day) == ("Russia", "Kursk Oblast", "2024-08-01")
    assert [(p.measure, p.troops.value, p.target) for p in kursk.points] == [
        (Measure.DEPLOYMENT, 59_000, None)
    ]
    # The day's deployment in full, as the summary shows it.
    assert kursk.deployments == (forces(demo_events())[RUSSIA_IN_KURSK].deployment,)


def test_deployments_are_listed_one_by_one_and_never_summed() -> None:
    # Given the General Staff's 59,000 and Zelenskiy's 50,000 Russians in Kursk,
    events = [*demo_events(), zelenskiy_on_kursk()]
    row = forces(events)[RUSSIA_IN_KURSK]
    days = days_of(history(events), RUSSIA_IN_KURSK)

    # then the summary shows the latest account as it was given, not a total,
    assert row.deployment is not None
    assert row.deployment.troops == about(50_000, Unit.TROOPS)
    assert row.deployment.source.report_id == ZELENSKIY_ON_KURSK
    # and the history lists both, each on its day and in order of when they held,
    # and nothing adds them up.
    assert [
        (day.day, d.attribution.source, d.troops.value)
        for day in days.values()
        for d in day.deployments
    ] == [
        ("2024-08-01", "Ukrainian General Staff source", 59_000),
        ("2024-11-11", "President Volodymyr Zelenskiy", 50_000),
    ]
    assert [p.troops.value for day in days.values() for p in day.points] == [
        59_000,
        50_000,
    ]


def test_a_corrected_figure_replaces_the_old_one() -> None:
    events = demo_events()
    north_koreans = report_after(events, NORTH_KOREAN_TROOPS)
    assert isinstance(north_koreans.claim, TroopDeployment)
    events.append(
        correct(
            north_koreans,
            claim=msgspec.structs.replace(north_koreans.claim, troops=about(12_000, Unit.TROOPS)),
            reason="the source revised the figure",
        )
    )

    row = forces(events)[NORTH_KOREA_IN_KURSK]
    month = history(events)[f"{NORTH_KOREA_IN_KURSK}/2024-11-23"]

    assert row.deployment is not None
    assert row.deployment.troops == about(12_000, Unit.TROOPS)
    assert row.deployment.source.last_changed_at_position == len(events)
    # The history replaces it too, without a second point or deployment.
    assert [p.troops.value for p in month.points] == [12_000]
    assert month.deployments == (row.deployment,)


def test_retracting_the_latest_strength_falls_back_to_the_previous_one() -> None:
    # Given a December count of 580,000, when it is retracted,
    events = [*demo_events(), december_strength()]
    before = forces(events)[RUSSIA_IN_UKRAINE]
    december_before = history(events)[f"{RUSSIA_IN_UKRAINE}/2024-12-15"]
    events.append(retract(events, DECEMBER_STRENGTH))
    after = forces(events)[RUSSIA_IN_UKRAINE]
    months_after = days_of(history(events), RUSSIA_IN_UKRAINE)

    # then November's 575,000 is the strength again, and the withdrawn count is only listed.
    assert before.strength is not None
    assert before.strength.troops == about(580_000, Unit.TROOPS)
    assert [p.report_id for p in december_before.points] == [DECEMBER_STRENGTH]
    assert after.strength is not None
    assert after.strength.troops == about(575_000, Unit.TROOPS)
    assert after.strength.source.report_id == FORCE_STRENGTH
    assert [p.report_id for month in months_after.values() for p in month.points] == [
        FORCE_STRENGTH
    ]
    assert [source.report_id for month in months_after.values() for source in month.retracted] == [
        DECEMBER_STRENGTH
    ]


def test_retracting_the_only_report_removes_the_row() -> None:
    events = demo_events()
    events.append(retract(events, NORTH_KOREAN_TROOPS))

    assert NORTH_KOREA_IN_KURSK not in forces(events)
    # Its day of history only lists it as withdrawn: nothing to chart, no deployment.
    month = history(events)[f"{NORTH_KOREA_IN_KURSK}/2024-11-23"]
    assert (month.points, month.deployments) == ((), ())
    assert [source.report_id for source in month.retracted] == [NORTH_KOREAN_TROOPS]


def test_corroboration_then_dispute_changes_the_verification_shown() -> None:
    events = demo_events()
    events.append(
        corroborate(report_after(events, NORTH_KOREAN_TROOPS), by=SOUTH_KOREAN_INTELLIGENCE)
    )
    corroborated = forces(events)[NORTH_KOREA_IN_KURSK]
    corroborated_month = history(events)[f"{NORTH_KOREA_IN_KURSK}/2024-11-23"]
    events.append(
        dispute(
            report_after(events, NORTH_KOREAN_TROOPS),
            by=RUSSIAN_DEFENCE_MINISTRY,
            reason="calls the reports of North Korean troops a provocation",
        )
    )
    disputed = forces(events)[NORTH_KOREA_IN_KURSK]
    disputed_month = history(events)[f"{NORTH_KOREA_IN_KURSK}/2024-11-23"]

    assert corroborated.deployment is not None
    assert corroborated.deployment.verification is Verification.CORROBORATED
    assert corroborated_month.points[0].verification is Verification.CORROBORATED
    assert corroborated_month.deployments[0].verification is Verification.CORROBORATED
    assert disputed.deployment is not None
    assert disputed.deployment.verification is Verification.DISPUTED
    assert disputed_month.points[0].verification is Verification.DISPUTED
    # The caveats it was reported under stay with it.
    assert NEITHER_CONFIRMED_NOR_DENIED in disputed.deployment.caveats
    assert NEITHER_CONFIRMED_NOR_DENIED in disputed_month.deployments[0].caveats


def test_the_same_events_render_the_same_bytes() -> None:
    def story() -> list[DomainEvent]:
        return [*demo_events(), december_strength(), zelenskiy_on_kursk()]

    assert msgspec.json.encode(forces(story())) == msgspec.json.encode(forces(story()))
    assert msgspec.json.encode(history(story())) == msgspec.json.encode(history(story()))


def test_as_of_early_september_only_the_kursk_deployment_had_begun() -> None:
    rows = forces(demo_events(), as_of=datetime(2024, 9, 1, tzinfo=UTC))

    assert list(rows) == [RUSSIA_IN_KURSK]
    deployment = rows[RUSSIA_IN_KURSK].deployment
    assert deployment is not None
    assert deployment.troops == about(59_000, Unit.TROOPS)
    months = history(demo_events(), as_of=datetime(2024, 9, 1, tzinfo=UTC))
    assert list(months) == [f"{RUSSIA_IN_KURSK}/2024-08-01"]
    assert months[f"{RUSSIA_IN_KURSK}/2024-08-01"].deployments == (deployment,)


def test_as_of_a_date_the_strength_is_the_one_counted_by_then() -> None:
    events = [*demo_events(), december_strength()]

    row = forces(events, as_of=datetime(2024, 12, 1, tzinfo=UTC))[RUSSIA_IN_UKRAINE]

    assert row.strength is not None
    assert row.strength.troops == about(575_000, Unit.TROOPS)


def test_the_history_is_split_by_day_and_a_withdrawn_report_stays_in_its_day() -> None:
    # Given November's 575,000 and December's 580,000, and Zelenskiy's November 50,000 in
    # Kursk beside the General Staff's 59,000 since August,
    events = [*demo_events(), december_strength(), zelenskiy_on_kursk()]
    before = history(events)
    # when Zelenskiy's figure is retracted,
    events.append(retract(events, ZELENSKIY_ON_KURSK))
    after = history(events)

    # then each day of a force is a row of its own, keyed and named by its day,
    overall = days_of(after, RUSSIA_IN_UKRAINE)
    assert list(overall) == [f"{RUSSIA_IN_UKRAINE}/2024-11-23", f"{RUSSIA_IN_UKRAINE}/2024-12-15"]
    assert [day.day for day in overall.values()] == ["2024-11-23", "2024-12-15"]
    assert [[p.report_id for p in month.points] for month in overall.values()] == [
        [FORCE_STRENGTH],
        [DECEMBER_STRENGTH],
    ]
    assert [[p.troops.value for p in month.points] for month in overall.values()] == [
        [575_000],
        [580_000],
    ]

    # and the withdrawn report leaves its day's points and deployments for its `retracted`,
    kursk = days_of(after, RUSSIA_IN_KURSK)
    assert list(kursk) == [f"{RUSSIA_IN_KURSK}/2024-08-01", f"{RUSSIA_IN_KURSK}/2024-11-11"]
    november_before = before[f"{RUSSIA_IN_KURSK}/2024-11-11"]
    november = kursk[f"{RUSSIA_IN_KURSK}/2024-11-11"]
    assert [p.report_id for p in november_before.points] == [ZELENSKIY_ON_KURSK]
    assert november_before.retracted == ()
    assert (november.points, november.deployments) == ((), ())
    assert [source.report_id for source in november.retracted] == [ZELENSKIY_ON_KURSK]
    # while August's is untouched, and the summary falls back to August's deployment.
    assert kursk[f"{RUSSIA_IN_KURSK}/2024-08-01"] == before[f"{RUSSIA_IN_KURSK}/2024-08-01"]
    assert kursk[f"{RUSSIA_IN_KURSK}/2024-08-01"].retracted == ()
    deployment = forces(events)[RUSSIA_IN_KURSK].deployment
    assert deployment is not None
    assert deployment.source.report_id == RUSSIAN_DEPLOYMENT
