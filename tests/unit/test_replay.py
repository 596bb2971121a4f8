"""As-of answers from the pure fold: given the seed article's reports as the log recorded them,
when an auditor asks what a view showed at some point, then the same folds answer, in one
canonical byte form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from domain.claims import TerritoryControl
from domain.events import DomainEvent
from domain.quantities import Unit, about
from domain.recorded import RecordedEvent
from domain.report import correct, project_report
from domain.report import retract as retract_report
from projections.registry import VIEWS
from projections.replay import InvalidReplayQuestion, ReplayAnswer, answer, encode_answer
from seed.kursk_article import demo_report_id
from tests.projection_support import RECORDED_FROM, demo_events, recorded
from tests.seed_values import berdiansk_strike, filed

KURSK = "kursk-oblast/ukraine"
CURRENT_HOLDING = demo_report_id("kursk-current-holding")
PEAK_HOLDING = demo_report_id("kursk-peak-holding")
DEMO_LENGTH = len(demo_events())
# The demo is recorded one event a second from the evening of 23 November 2024; the
# follow-ups below come the next morning.
NEXT_MORNING = datetime(2024, 11, 24, 9, 0, tzinfo=UTC)


def _corrected_then_retracted() -> list[RecordedEvent]:
    """The demo, then next morning the 800 km² corrected to 700, then the peak retracted."""
    events = demo_events()
    current = project_report(None, [e for e in events if e.originator_id == CURRENT_HOLDING])
    peak = project_report(None, [e for e in events if e.originator_id == PEAK_HOLDING])
    assert current is not None
    assert peak is not None
    follow_ups: list[DomainEvent] = [
        correct(
            current,
            claim=TerritoryControl(
                actor="Ukraine", region="Kursk Oblast", country="RU", area=about(700, Unit.KM2)
            ),
            reason="the source revised the figure",
        ),
        retract_report(peak, reason="the source withdrew the figure"),
    ]
    return [
        *recorded(events),
        *recorded(follow_ups, first_position=DEMO_LENGTH + 1, start=NEXT_MORNING),
    ]


def _rows(reply: ReplayAnswer) -> dict[str, Any]:
    decoded = msgspec.json.decode(encode_answer(reply))
    return {row["key"]: row["row"] for row in decoded["rows"]}


def test_the_same_question_gives_the_same_bytes_for_every_view() -> None:
    for name in VIEWS:
        first = encode_answer(answer(name, recorded(demo_events()), as_of=date(2024, 11, 23)))
        second = encode_answer(answer(name, recorded(demo_events()), as_of=date(2024, 11, 23)))

        assert first == second, name


def test_the_answer_carries_its_question_with_every_key_sorted() -> None:
    known_at = datetime(2024, 11, 24, 1, 0, tzinfo=timezone(timedelta(hours=1)))

    encoded = encode_answer(
        answer("forces", _corrected_then_retracted(), known_at=known_at, as_of=date(2024, 11, 1))
    )

    decoded = msgspec.json.decode(encoded)
    assert list(decoded) == ["as_of", "known_at", "position", "rows", "view"]
    assert decoded["view"] == "forces"
    assert decoded["known_at"] == "2024-11-24T00:00:00Z"  # the same instant, in UTC
    assert decoded["as_of"] == "2024-11-01"
    assert decoded["position"] == DEMO_LENGTH
    keys = [row["key"] for row in decoded["rows"]]
    assert keys == sorted(keys)
    assert all(list(row["row"]) == sorted(row["row"]) for row in decoded["rows"])
    assert b" " not in encoded.split(b'"rows"')[0]  # compact: no spaces between tokens


def test_holdings_as_of_early_september_show_the_peak_era_only() -> None:
    log = recorded(demo_events())
    holdings = _rows(answer("holdings", log, as_of=date(2024, 9, 1)))
    series = _rows(answer("holdings-series", log, as_of=date(2024, 9, 1)))

    kursk = holdings[KURSK]
    assert kursk["current"] is None
    assert kursk["peak"]["area"]["value"] == 1376
    # November's day row is not there yet: only August's, with the peak claim.
    assert list(series) == [f"{KURSK}/2024-08-01"]
    assert [point["area"]["value"] for point in series[f"{KURSK}/2024-08-01"]["points"]] == [1376]


def test_before_the_incursion_there_is_nothing_to_show() -> None:
    reply = answer("holdings", recorded(demo_events()), as_of=date(2024, 7, 31))

    assert reply.rows == ()
    assert reply.position == DEMO_LENGTH


def test_a_date_means_the_whole_day() -> None:
    # Given the demo's strike on Friday 22 November (a day) and the governor's account of
    # one at 20:50 UTC that evening (an instant)
    log = recorded([*demo_events(), filed(berdiansk_strike())])

    on_friday = answer("strikes", log, as_of=date(2024, 11, 22))
    at_friday_noon = answer("strikes", log, as_of=datetime(2024, 11, 22, 12, tzinfo=UTC))
    on_thursday = answer("strikes", log, as_of=date(2024, 11, 21))

    assert (len(on_friday.rows), len(at_friday_noon.rows), len(on_thursday.rows)) == (2, 1, 0)


def test_known_before_the_correction_the_old_figure_stands_and_after_it_the_new() -> None:
    log = _corrected_then_retracted()

    that_evening = _rows(answer("holdings", log, known_at=NEXT_MORNING - timedelta(seconds=1)))
    next_morning = _rows(answer("holdings", log, known_at=NEXT_MORNING))
    today = _rows(answer("holdings", log))

    assert that_evening[KURSK]["current"]["area"]["value"] == 800
    assert that_evening[KURSK]["peak"]["area"]["value"] == 1376
    assert next_morning[KURSK]["current"]["area"]["value"] == 700
    assert next_morning[KURSK]["peak"]["area"]["value"] == 1376
    # Once the peak claim is withdrawn, the highest figure on record stands for the peak.
    assert today[KURSK]["peak"]["area"]["value"] == 700
    assert today[KURSK]["peak_basis"] == "highest_current"


def test_a_position_cut_and_a_time_cut_at_the_same_point_agree() -> None:
    log = _corrected_then_retracted()
    moment = RECORDED_FROM + timedelta(seconds=5)  # the sixth event's recorded_at

    by_time = answer("timeline", log, known_at=moment)
    by_position = answer("timeline", log, position=6)

    # Then only the question differs, not the answer
    assert by_time.position == by_position.position == 6
    assert encode_answer(msgspec.structs.replace(by_time, known_at=None)) == encode_answer(
        by_position
    )
    assert len(by_time.rows) == 5  # the sixth event filed the fifth report


def test_with_both_cuts_the_earlier_one_wins() -> None:
    log = _corrected_then_retracted()

    reply = answer("holdings", log, known_at=NEXT_MORNING, position=3)

    assert reply.position == 3


def test_position_zero_is_the_empty_log() -> None:
    reply = answer("damage", recorded(demo_events()), position=0)

    assert (reply.position, reply.rows) == (0, ())


@pytest.mark.parametrize(
    ("question", "message"),
    [
        (
            {"view_name": "territory"},
            "no view is named 'territory'; the views are: damage, forces, forces-history, "
            "front, front-series, holdings, holdings-series, incidents, strikes, tallies, "
            "tallies-series, timeline",
        ),
        ({"position": -1}, "position must not be negative, got -1"),
        (
            {"known_at": datetime(2024, 11, 24)},
            "known_at needs a time zone (as in 2024-11-24T00:00:00Z), got 2024-11-24T00:00:00",
        ),
        (
            {"as_of": datetime(2024, 9, 1, 12)},
            "as_of needs a time zone (as in 2024-11-24T00:00:00Z), got 2024-09-01T12:00:00",
        ),
    ],
)
def test_a_question_that_cannot_be_answered_says_why(
    question: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"view_name": "holdings", **question}

    with pytest.raises(InvalidReplayQuestion) as raised:
        answer(log=recorded(demo_events()), **arguments)  # type: ignore[arg-type]

    assert str(raised.value) == message
