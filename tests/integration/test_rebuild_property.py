"""The property: whatever the log, and however a runner happened to batch it, a rebuild gives
exactly the rows that incremental processing gave, for every view.

Logs are drawn as stories of a few reports across regions and kinds: filed, then corroborated,
disputed, denied, corrected (a territory claim may move to another region, a date may move)
and retracted, interleaved, as the domain's own rules allow them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from typing import Any

import asyncpg
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.attribution import Attribution, Side
from domain.claims import (
    Claim,
    DamageTally,
    Extent,
    ForceStrength,
    FrontAdvance,
    OccupationShare,
    Place,
    Strike,
    TerritoryControl,
    TroopDeployment,
)
from domain.errors import DomainError
from domain.events import DomainEvent
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from domain.quantities import Quantity, Unit, about, between, exactly
from domain.report import Report, correct, corroborate, deny, dispute, evolve, file_report, retract
from projections.core import Folds, ViewState, apply, fold, render, render_all
from projections.persistence import read_rows, serving_generation, write_batch
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from store.event_store import EventStore, RecordedEvent
from tests.conftest import TABLES
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
KINDS = ("territory", "strike", "tally", "deployment", "strength", "advance", "occupation")


def _claim(kind: str, figure: int, place: int) -> tuple[Claim, Occurrence]:
    """A claim of `kind` like the article's, its figure and place chosen by the draw."""
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
            return DamageTally(
                category=("port infrastructure facilities", "foreign merchant ships")[place % 2],
                count=exactly(300 + figure, Unit.FACILITIES),
                responsible="Russia",
                country="UA",
            ), Interval(start=Month(year=2023, month=7))
        case "deployment":
            return TroopDeployment(
                actor="North Korea",
                theatre="Kursk Oblast",
                country="RU",
                troops=about(11_000 + figure * 100, Unit.TROOPS),
                in_support_of="Russia",
            ), Interval(end=ARTICLE_DAY)
        case "strength":
            return ForceStrength(
                actor="Russia",
                theatre="Ukraine",
                troops=about(575_000 + figure * 1_000, Unit.TROOPS),
                target=about(690_000, Unit.TROOPS),
            ), day
        case "advance":
            return FrontAdvance(
                actor="Russia",
                direction=("Kurakhove", "Pokrovsk")[place % 2],
                region="Donetsk Oblast",
                country="UA",
                rate=between(200, 300 + figure, Unit.METRES_PER_DAY),
            ), day
        case _:
            return OccupationShare(
                occupier="Russia", country="UA", share=Quantity(unit=Unit.PERCENT, value=20)
            ), day


def _step(report: Report, step: str, draw: int) -> DomainEvent:
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
            }.get(report.kind, report.kind)
            claim, occurred = _claim(kind, draw, draw // 3)
            return correct(report, claim=claim, occurred=occurred, reason="the source revised it")
        case _:
            return retract(report, reason="the source withdrew it")


Filing = tuple[str, str, int, int, int]  # "file", kind, figure, place, source
FollowUp = tuple[str, int, int]  # step, which report, draw

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("file"),
            st.sampled_from(KINDS),
            st.integers(0, 30),
            st.integers(0, 5),
            st.integers(0, len(SOURCES) - 1),
        ),
        st.tuples(
            st.sampled_from(("corroborate", "dispute", "deny", "correct", "retract")),
            st.integers(0, 7),
            st.integers(0, 30),
        ),
    ),
    min_size=1,
    max_size=24,
)


def _story(drawn: list[Filing | FollowUp]) -> list[DomainEvent]:
    events: list[DomainEvent] = []
    reports: list[Report] = []
    for action in drawn:
        if action[0] == "file":
            _, kind, figure, place, source = action  # type: ignore[misc]
            claim, occurred = _claim(kind, figure, place)
            event: DomainEvent = file_report(
                claim=claim, attribution=SOURCES[source], occurred=occurred, reported=ARTICLE_DAY
            )
            reports.append(evolve(None, event))  # type: ignore[arg-type]
        elif reports:
            step, which, draw = action  # type: ignore[misc]
            index = which % len(reports)
            try:
                event = _step(reports[index], step, draw)
            except DomainError:
                continue  # a step the rules forbid (a retracted report, a no-op correction)
            reports[index] = evolve(reports[index], event)  # type: ignore[arg-type]
        else:
            continue
        events.append(event)
    return events


async def _append_in_chunks(store: EventStore, events: list[DomainEvent], size: int) -> None:
    # One report's events in one append must start where it stands: chunks keep log order.
    for start in range(0, len(events), size):
        await store.append(events[start : start + size])


async def _process_incrementally(
    pool: asyncpg.Pool, log: list[RecordedEvent], batch_sizes: list[int]
) -> None:
    """Each view as a runner would keep it, in batches of the drawn sizes."""
    for view in VIEWS.values():
        async with pool.acquire() as connection:
            generation = await serving_generation(connection, view.name)
        state, start = ViewState(), 0
        for size in cycle(batch_sizes):
            if start >= len(log):
                break
            touched: dict[str, None] = {}
            for recorded in log[start : start + size]:
                touched.update(dict.fromkeys(apply(view, state, recorded)))
            rows = {key: render(view, state, key) for key in touched}
            generation = await write_batch(pool, generation, state.position, rows)
            start += size


async def _all_rows(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {
        name: {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, name)}
        for name in VIEWS
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=actions,
    append_size=st.integers(1, 10),
    batch_sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4),
)
async def test_a_rebuild_gives_exactly_the_rows_incremental_processing_gave(
    pool: asyncpg.Pool,
    store: EventStore,
    drawn: list[Filing | FollowUp],
    append_size: int,
    batch_sizes: list[int],
) -> None:
    # Given an empty database (the fixture empties it once per test, not per example)
    await pool.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    # and a drawn story recorded in appends of the drawn size
    await _append_in_chunks(store, _story(drawn), append_size)
    log = await store.read_log(limit=10_000)

    # When every view is processed incrementally in the drawn batches, and then rebuilt
    await _process_incrementally(pool, log, batch_sizes)
    incremental = await _all_rows(pool)
    await rebuild_views(pool, list(VIEWS.values()))

    # Then the rebuilt rows are exactly the incremental ones
    assert await _all_rows(pool) == incremental
    # and both are the pure fold's, which the rebuild's one-pass fold gives as well
    folds = Folds(list(VIEWS.values()))
    folds.feed(log)
    for (name, view), state in zip(VIEWS.items(), folds.states, strict=True):
        alone, _ = fold(view, log)
        expected = msgspec.json.decode(msgspec.json.encode(render_all(view, alone)))
        assert incremental[name] == expected, name
        assert render_all(view, state) == render_all(view, alone), name
