"""The rule past answers are read by: the few reports `relevant_ids` picks from a view's
versions render exactly the rows the whole log renders, at any position and valid time.

Given a log, folded while its versions are recorded (`HistoryLog`), when a past answer at
position N and valid time D folds only the reports the rule picks (their events up to N),
then its rows are, byte for byte, the rows of the fold of every event up to N. Every view
`projections.history.indexed` finds in the registry is held to it, so a view newly indexed
is checked without a change here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from application.reports import decide_filing
from domain.attribution import Attribution
from domain.claims import Claim, DamageTally, Extent, ForceStrength, TerritoryControl
from domain.events import DomainEvent, ReportCorrected, ReportFiled
from domain.occurrence import Day, Interval, Month, Occurrence
from domain.quantities import Qualifier, Quantity, Unit, about, exactly
from domain.recorded import RecordedEvent
from domain.report import Report, evolve, file_report, retract
from projections.core import ViewState, fold, render_all
from projections.history import Indexed, Pieced, indexed, piece_decoder, pieced
from projections.history_recording import HistoryLog, Version, relevant_ids
from projections.registry import VIEWS
from projections.replay import valid_time
from projections.views.damage import DamageRow, DamageView
from projections.views.forces import ForcesView
from projections.views.holdings import Holding, HoldingsView
from tests.log_drawing import KINDS, SHAPES, Filing, FollowUp, actions, claim, story
from tests.projection_support import recorded
from tests.seed_values import (
    ARTICLE_DAY,
    GENERAL_STAFF_VIA_REUTERS,
    PRESIDENT_ZELENSKIY,
    kursk_at_peak,
    kursk_held_now,
)

INDEXED: list[Indexed] = [v for v in map(indexed, VIEWS.values()) if v is not None]
ONE_MICROSECOND = timedelta(microseconds=1)
HOLDINGS = HoldingsView()
FORCES = ForcesView()
DAMAGE = DamageView()
KURSK = "kursk-oblast/ukraine"
PORTS = "ua/port-infrastructure-facilities/russia"


def versions_of(view: Indexed, log: Sequence[RecordedEvent]) -> list[Version]:
    """Every version of every report the view follows, as the fold records them."""
    history = HistoryLog(view, view.relevance)
    state = ViewState()
    state.history = history
    fold(view, log, state)
    batch = history.take()
    assert not batch.closed  # nothing was written before: every version comes complete
    return batch.versions


def rows(view: Indexed, log: Sequence[RecordedEvent], as_of: datetime | None) -> bytes:
    state, _ = fold(view, log)
    return msgspec.json.encode(render_all(view, state, as_of))


def up_to(log: Sequence[RecordedEvent], position: int) -> list[RecordedEvent]:
    return [recorded for recorded in log if recorded.position <= position]


def picked(log: Sequence[RecordedEvent], ids: set[UUID]) -> list[RecordedEvent]:
    return [recorded for recorded in log if recorded.event.originator_id in ids]


def past_answer(
    view: Indexed,
    log: Sequence[RecordedEvent],
    versions: Sequence[Version],
    position: int,
    as_of: datetime | None,
) -> bytes:
    """The rows a past answer gives: only the picked reports' events, folded and rendered."""
    ids = relevant_ids(view, versions, position, as_of)
    return rows(view, picked(up_to(log, position), ids), as_of)


def boundaries(log: Sequence[RecordedEvent], versions: Sequence[Version]) -> list[datetime]:
    """Where answers may turn: the reports' own times (the bounds of when they happened and
    were said, as filed or corrected) and where the view says each version counts from;
    each, a moment before it, and the ends of its day and of the day before (a date asked
    for stands for its last instant)."""
    times: list[datetime] = [version.counts_from for version in versions]
    for entry in log:
        event = entry.event
        if isinstance(event, ReportFiled):
            times.extend((*_bounds(event.occurred), *_bounds(event.reported)))
        elif isinstance(event, ReportCorrected) and event.occurred is not None:
            times.extend(_bounds(event.occurred))
    moments: set[datetime] = set()
    for moment in times:
        day = moment.astimezone(UTC).date()
        moments.update(
            (moment, moment - ONE_MICROSECOND, _end_of(day), _end_of(day - timedelta(days=1)))
        )
    return sorted(moments)


def _bounds(when: Occurrence) -> Iterator[datetime]:
    if isinstance(when, Interval):
        for bound in (when.start, when.end):
            if bound is not None:
                yield from _bounds(bound)
    else:
        yield from (when.earliest(), when.latest())


def _end_of(day: date) -> datetime:
    end = valid_time(day)
    assert end is not None
    return end


def drawn_log(view: Indexed, data: st.DataObject) -> tuple[list[RecordedEvent], list[Version]]:
    """A drawn story of the reports `view` follows (and a few strikes, which it does not),
    in two places, recorded; and the versions it makes."""
    kinds = (*kinds_followed(view), "strike")
    story_drawn: list[Filing | FollowUp] = data.draw(
        actions(shapes=SHAPES, kinds=kinds, places=2, sources=2, min_size=16, max_size=48),
        label="story",
    )
    log = recorded(story(story_drawn))
    versions = versions_of(view, log)
    assume(versions)
    return log, versions


def kinds_followed(view: Indexed) -> tuple[str, ...]:
    return tuple(kind for kind in KINDS if view.follows(claim(kind, 0, 0)[0]))


@pytest.mark.parametrize("view", INDEXED, ids=lambda view: view.name)
def test_every_indexed_view_is_fed_by_the_drawn_logs(view: Indexed) -> None:
    # A view indexed later needs its claims in tests/log_drawing.py, or the property below
    # would check it on empty logs only.
    assert kinds_followed(view)


def test_the_drawn_reports_take_the_shapes_past_answers_turn_on() -> None:
    # What the property can only find if the drawing makes it: a tally counted up to the
    # end of its period or, open, up to the day it was said (its `as_of_day` then differs
    # from when it began), strengths with and without a target in the row
    # deployments feed, and equal areas.
    tallies = [claim("tally", figure, 0, shape)[1] for figure in range(6) for shape in (1, 2, 3)]
    assert any(isinstance(t, Interval) and t.end is not None for t in tallies)
    assert any(isinstance(t, Interval) and t.end is None for t in tallies)
    assert any(not isinstance(t, Interval) for t in tallies)
    strengths = [claim("strength", figure, 1, 1)[0] for figure in range(2)]
    assert {s.target is None for s in strengths if isinstance(s, ForceStrength)} == {True, False}
    deployment = claim("deployment", 0, 0, 1)[0]
    assert {FORCES.keys(_filed_now(s)) for s in strengths} == {FORCES.keys(_filed_now(deployment))}
    areas = [claim("territory", figure, 0, 1)[0] for figure in (1, 7)]
    assert len({a.area.value for a in areas if isinstance(a, TerritoryControl)}) == 1


def test_the_aggregate_views_are_indexed() -> None:
    assert {view.name for view in INDEXED} >= {"holdings", "damage", "forces", "front"}


@pytest.mark.parametrize("view", INDEXED, ids=lambda view: view.name)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_past_answer_from_the_picked_versions_gives_exactly_the_rows_of_the_whole_log(
    view: Indexed, data: st.DataObject
) -> None:
    # Given a drawn story of the reports this view follows (and a few it does not), in
    # two places, so that rows are fed by several reports
    log, versions = drawn_log(view, data)
    last = log[-1].position
    # When a past answer is asked at some positions, the head always among them,
    cuts = data.draw(st.lists(st.integers(0, last), max_size=4), label="positions")
    # and at some valid times: none, the ends of drawn days before, inside and after the
    # story's, and instants where the reports' own times and the view's counting begin
    on_days = data.draw(
        st.lists(st.dates(date(2022, 1, 1), date(2025, 1, 31)), max_size=2), label="days"
    )
    at_edges = data.draw(
        st.lists(st.sampled_from(boundaries(log, versions)), min_size=1, max_size=8),
        label="instants",
    )
    moments = [None, *map(valid_time, on_days), *at_edges]

    for position in sorted({*cuts, last}):
        whole = up_to(log, position)
        for as_of in moments:
            # Then the picked reports render exactly the rows of every report
            assert past_answer(view, log, versions, position, as_of) == rows(view, whole, as_of), (
                f"at position {position}, as of {as_of}"
            )


PIECED: list[Pieced] = [v for v in map(pieced, VIEWS.values()) if v is not None]


def assembled(
    view: Pieced, versions: Sequence[Version], position: int, as_of: datetime | None
) -> bytes:
    """The rows put together from the pieces kept with the versions holding at `position`
    (that had occurred and count by `as_of`), in the fold's order, as a runner's batch and
    projections/past_pieces.py do."""
    by_key: dict[str, list[Version]] = {}
    for version in versions:
        holds = version.from_position <= position < version.to_position
        if holds and (
            as_of is None or (version.occurred_at <= as_of and version.counts_from <= as_of)
        ):
            by_key.setdefault(version.key, []).append(version)
    decode = piece_decoder(view.piece_type).decode
    rows = {}
    for key in sorted(by_key):
        ordered = sorted(
            by_key[key], key=lambda v: (v.occurred_at, v.reported_at, v.filed_position)
        )
        assert all(version.piece is not None for version in ordered)
        rows[key] = view.assemble(key, [decode(version.piece or b"") for version in ordered])
    return msgspec.json.encode(rows)


def test_the_histories_are_put_together_from_pieces() -> None:
    assert {view.name for view in PIECED} == {
        "holdings-series",
        "forces-history",
        "front-series",
        "incidents",
        "tallies-series",
    }


@pytest.mark.parametrize("view", PIECED, ids=lambda view: view.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_row_put_together_from_its_versions_pieces_is_the_row_of_the_whole_log(
    view: Pieced, data: st.DataObject
) -> None:
    # Given a drawn story of the reports this view follows (and a few it does not), in
    # two places
    log, versions = drawn_log(view, data)
    last = log[-1].position
    cuts = data.draw(st.lists(st.integers(0, last), max_size=4), label="positions")
    days = data.draw(
        st.lists(st.dates(date(2022, 1, 1), date(2025, 1, 31)), max_size=2), label="days"
    )
    for position in sorted({*cuts, last}):
        for as_of in (None, *map(valid_time, days)):
            # When each row is put together from the pieces kept with its versions, then it
            # is, byte for byte, the row the fold renders from every report
            assert assembled(view, versions, position, as_of) == rows(
                view, up_to(log, position), as_of
            ), f"at position {position}, as of {as_of}"


# --- examples ---------------------------------------------------------------------------


def kursk_held(area: float, on: date) -> DomainEvent:
    """Ukraine's General Staff: about `area` km² of Kursk held on `on`, said the next day."""
    return file_report(
        claim=TerritoryControl(
            actor="Ukraine", region="Kursk Oblast", country="RU", area=about(area, Unit.KM2)
        ),
        attribution=GENERAL_STAFF_VIA_REUTERS,
        occurred=Day(on=on),
        reported=Day(on=on + timedelta(days=1)),
    )


def holding(log: Sequence[RecordedEvent], as_of: datetime | None) -> Holding:
    state, _ = fold(HOLDINGS, log)
    row = render_all(HOLDINGS, state, as_of)[KURSK]
    assert isinstance(row, Holding)
    return row


def ids_of(events: Sequence[DomainEvent]) -> list[UUID]:
    return [event.originator_id for event in events]


def test_a_holding_as_of_a_date_needs_only_its_latest_current_its_peak_and_its_highest() -> None:
    # Given Kursk's claims through the autumn: the peak of about 1,376 km² (at most, in
    # August), and current figures rising to 1,200 km² on 1 September, then falling to 800
    peak = decide_filing(kursk_at_peak())
    currents = [
        kursk_held(area, on)
        for area, on in (
            (700, date(2024, 8, 10)),
            (1_000, date(2024, 8, 20)),
            (1_200, date(2024, 9, 1)),
            (1_100, date(2024, 9, 15)),
            (900, date(2024, 10, 20)),
        )
    ]
    now = decide_filing(kursk_held_now())  # about 800 km², on the article's day
    log = recorded([peak, *currents, now])
    versions = versions_of(HOLDINGS, log)
    head = log[-1].position
    seven_hundred, _, twelve_hundred, eleven_hundred, _ = ids_of(currents)

    # When asked as of the article's day, then only 800 (current), 1,376 (the peak) and
    # 1,200 (the highest current figure) are read
    assert relevant_ids(HOLDINGS, versions, head, _end_of(ARTICLE_DAY.on)) == {
        now.originator_id,
        peak.originator_id,
        twelve_hundred,
    }
    # as of 16 September, 1,100 is the current figure and 1,200 still the highest
    assert relevant_ids(HOLDINGS, versions, head, _end_of(date(2024, 9, 16))) == {
        eleven_hundred,
        peak.originator_id,
        twelve_hundred,
    }
    # and as of 10 August, in the log's first days, only what had been filed by then
    assert relevant_ids(HOLDINGS, versions, 2, _end_of(date(2024, 8, 10))) == {
        seven_hundred,
        peak.originator_id,
    }
    for position, as_of in ((head, _end_of(ARTICLE_DAY.on)), (head, _end_of(date(2024, 9, 16)))):
        answer = past_answer(HOLDINGS, log, versions, position, as_of)
        assert answer == rows(HOLDINGS, log, as_of)
    row = holding(log, _end_of(date(2024, 9, 16)))
    assert row.current is not None
    assert row.current.area.value == 1_100
    assert row.peak is not None
    assert row.peak.area == Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.AT_MOST)


def test_among_equal_current_figures_the_most_recent_is_the_highest() -> None:
    # Given two claims of about 1,200 km² and a later, smaller one, with no claimed peak
    first, second, later = (
        kursk_held(1_200, date(2024, 8, 20)),
        kursk_held(1_200, date(2024, 9, 1)),
        kursk_held(900, date(2024, 10, 20)),
    )
    log = recorded([second, first, later])  # the earlier day filed last
    versions = versions_of(HOLDINGS, log)

    # Then the one of 1 September stands for the peak, and is the one read
    ids = relevant_ids(HOLDINGS, versions, log[-1].position, None)
    assert ids == {second.originator_id, later.originator_id}
    peak = holding(log, None).peak
    assert peak is not None
    assert peak.source.report_id == second.originator_id
    assert past_answer(HOLDINGS, log, versions, log[-1].position, None) == rows(HOLDINGS, log, None)


def test_a_past_answer_reads_at_most_three_claims_of_a_holding_however_many_it_has() -> None:
    # Given 500 current claims about Kursk over 100 days, a peak claim every 25, and every
    # seventh claim withdrawn later
    events: list[DomainEvent] = []
    for n in range(500):
        on = date(2024, 8, 6) + timedelta(days=n % 100)
        events.append(kursk_held(600 + (n * 37) % 800, on))
        if n % 25 == 0:
            events.append(
                file_report(
                    claim=TerritoryControl(
                        actor="Ukraine",
                        region="Kursk Oblast",
                        country="RU",
                        area=about(1_300 + n % 7, Unit.KM2),
                        extent=Extent.PEAK,
                    ),
                    attribution=GENERAL_STAFF_VIA_REUTERS,
                    occurred=Month(year=2024, month=8),
                    reported=ARTICLE_DAY,
                )
            )
    withdrawn = [
        retract(_filed(event), reason="the General Staff withdrew the figure")
        for event in events[::7]
    ]
    log = recorded([*events, *withdrawn])
    versions = versions_of(HOLDINGS, log)
    assert len({version.report_id for version in versions}) == len(events)

    # When asked at several positions and dates, then three claims at most are read (the
    # latest current, the latest peak, the highest current), and they give the same row
    for position in (1, 40, 260, len(events), log[-1].position):
        for as_of in (None, _end_of(date(2024, 8, 20)), _end_of(date(2024, 11, 1))):
            ids = relevant_ids(HOLDINGS, versions, position, as_of)
            assert 1 <= len(ids) <= 3
            assert rows(HOLDINGS, picked(up_to(log, position), ids), as_of) == rows(
                HOLDINGS, up_to(log, position), as_of
            )


def _filed_now(claimed: Claim) -> Report:
    return _filed(
        file_report(
            claim=claimed,
            attribution=GENERAL_STAFF_VIA_REUTERS,
            occurred=ARTICLE_DAY,
            reported=ARTICLE_DAY,
        )
    )


def _filed(event: DomainEvent) -> Report:
    report = evolve(None, event)  # type: ignore[arg-type]
    assert report is not None
    return report


def port_total(count: float, *, occurred: Occurrence, said_on: date) -> DomainEvent:
    """Zelenskiy's running total of damaged port facilities."""
    return file_report(
        claim=DamageTally(
            category="port infrastructure facilities",
            count=exactly(count, Unit.FACILITIES),
            responsible="Russia",
            country="UA",
        ),
        attribution=PRESIDENT_ZELENSKIY,
        occurred=occurred,
        reported=Day(on=said_on),
    )


def totals(log: Sequence[RecordedEvent], as_of: datetime | None) -> list[tuple[str, float | None]]:
    state, _ = fold(DAMAGE, log)
    row = render_all(DAMAGE, state, as_of).get(PORTS)
    if row is None:
        return []
    assert isinstance(row, DamageRow)
    return [(total.as_of, total.count.value) for total in row.totals_by_source]


def test_a_total_counts_only_from_the_day_it_counts_up_to() -> None:
    # Given "300 since February 2022", said on 22 August 2024, and "321 since July 2023",
    # said on the article's day: the later total's period began first
    since_invasion = port_total(
        300, occurred=Interval(start=Month(year=2022, month=2)), said_on=date(2024, 8, 22)
    )
    since_july = port_total(
        321, occurred=Interval(start=Month(year=2023, month=7)), said_on=ARTICLE_DAY.on
    )
    log = recorded([since_invasion, since_july])
    versions = versions_of(DAMAGE, log)
    head = log[-1].position
    midnight = datetime.combine(ARTICLE_DAY.on, datetime.min.time(), UTC)

    def ids(as_of: datetime) -> set[UUID]:
        return relevant_ids(DAMAGE, versions, head, as_of)

    # Then before 22 August no total counts, although both periods had begun
    assert ids(_end_of(date(2024, 8, 21))) == set()
    assert totals(log, _end_of(date(2024, 8, 21))) == []
    # until the last moment before the article's day, 300 is the total
    assert ids(midnight - ONE_MICROSECOND) == {since_invasion.originator_id}
    assert totals(log, midnight - ONE_MICROSECOND) == [("2024-08-22", 300)]
    # and from its first moment, 321 replaces it
    assert ids(midnight) == {since_july.originator_id}
    assert totals(log, midnight) == [("2024-11-23", 321)]
    for as_of in (_end_of(date(2024, 8, 21)), midnight - ONE_MICROSECOND, midnight):
        assert past_answer(DAMAGE, log, versions, head, as_of) == rows(DAMAGE, log, as_of)


def test_a_total_of_another_source_is_read_beside_each_sources_latest() -> None:
    # Given two of Zelenskiy's totals and one of the Sea Ports Authority's, and a withdrawn one
    authority = Attribution(source="Ukrainian Sea Ports Authority", side=PRESIDENT_ZELENSKIY.side)
    earlier = port_total(
        300, occurred=Interval(start=Month(year=2022, month=2)), said_on=date(2024, 8, 22)
    )
    later = port_total(
        321, occurred=Interval(start=Month(year=2023, month=7)), said_on=ARTICLE_DAY.on
    )
    theirs = file_report(
        claim=DamageTally(
            category="port infrastructure facilities",
            count=exactly(290, Unit.FACILITIES),
            responsible="Russia",
            country="UA",
        ),
        attribution=authority,
        occurred=Interval(start=Month(year=2022, month=2), end=Day(on=date(2024, 10, 31))),
        reported=Day(on=date(2024, 11, 5)),
    )
    wrong = port_total(
        330, occurred=Interval(start=Month(year=2023, month=7)), said_on=date(2024, 11, 30)
    )
    withdrawn = retract(_filed(wrong), reason="a miscount")
    log = recorded([earlier, later, theirs, wrong, withdrawn])
    versions = versions_of(DAMAGE, log)

    # Then the head's answer reads each source's latest total and the withdrawn one
    ids = relevant_ids(DAMAGE, versions, log[-1].position, None)
    assert ids == {later.originator_id, theirs.originator_id, wrong.originator_id}
    assert past_answer(DAMAGE, log, versions, log[-1].position, None) == rows(DAMAGE, log, None)
    # and before the withdrawal, 330 was Zelenskiy's latest
    before = log[-2].position
    assert relevant_ids(DAMAGE, versions, before, None) == {
        wrong.originator_id,
        theirs.originator_id,
    }
