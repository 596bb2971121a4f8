"""When it happened, at the precision the source gave: "shortly before midnight on Friday",
"on Saturday", "in August", "since July last year"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import msgspec
import pytest

from domain.errors import InvalidReport
from domain.occurrence import (
    Day,
    Instant,
    Interval,
    Month,
    Occurrence,
    validate_occurrence,
    validate_reported,
)

MOSCOW_TIME = timezone(timedelta(hours=3))
FRIDAY_NIGHT = Instant(at=datetime(2024, 11, 22, 23, 50, tzinfo=MOSCOW_TIME))
FRIDAY = Day(on=date(2024, 11, 22))
SATURDAY = Day(on=date(2024, 11, 23))
AUGUST_2024 = Month(year=2024, month=8)
SINCE_JULY_2023 = Interval(start=Month(year=2023, month=7))


def test_a_day_spans_from_its_midnight_to_the_next() -> None:
    assert SATURDAY.earliest() == datetime(2024, 11, 23, tzinfo=UTC)
    assert SATURDAY.latest() == datetime(2024, 11, 24, tzinfo=UTC)


def test_a_month_spans_its_own_number_of_days() -> None:
    assert AUGUST_2024.earliest() == datetime(2024, 8, 1, tzinfo=UTC)
    assert AUGUST_2024.latest() == datetime(2024, 9, 1, tzinfo=UTC)
    assert Month(year=2024, month=2).latest() == datetime(2024, 3, 1, tzinfo=UTC)


def test_an_instant_keeps_the_offset_it_was_given() -> None:
    assert (
        FRIDAY_NIGHT.earliest()
        == FRIDAY_NIGHT.latest()
        == datetime(2024, 11, 22, 20, 50, tzinfo=UTC)
    )
    assert FRIDAY_NIGHT.at.utcoffset() == timedelta(hours=3)


def test_since_july_2023_is_open_at_its_end() -> None:
    assert SINCE_JULY_2023.earliest() == datetime(2023, 7, 1, tzinfo=UTC)
    assert SINCE_JULY_2023.latest() is None


def test_each_precision_decodes_from_its_tag() -> None:
    decoded = msgspec.json.decode(
        b'{"precision": "interval", "start": {"precision": "month", "year": 2023, "month": 7},'
        b' "end": {"precision": "day", "on": "2024-11-23"}}',
        type=Occurrence,
    )

    assert decoded == Interval(start=Month(year=2023, month=7), end=SATURDAY)


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(FRIDAY_NIGHT, id="shortly before midnight on Friday"),
        pytest.param(SATURDAY, id="on Saturday"),
        pytest.param(AUGUST_2024, id="in August"),
        pytest.param(SINCE_JULY_2023, id="since July last year"),
        pytest.param(Interval(end=SATURDAY), id="until Saturday"),
        pytest.param(Interval(start=AUGUST_2024, end=SATURDAY), id="August to Saturday"),
        pytest.param(Interval(start=SATURDAY, end=SATURDAY), id="within one day"),
        pytest.param(Interval(start=FRIDAY_NIGHT, end=FRIDAY_NIGHT), id="one instant"),
        pytest.param(Interval(start=FRIDAY_NIGHT, end=FRIDAY), id="from late Friday, that day"),
    ],
)
def test_occurrences_as_sources_give_them_are_valid(when: Occurrence) -> None:
    validate_occurrence(when, "occurred")


@pytest.mark.parametrize(
    ("when", "field"),
    [
        pytest.param(
            Instant(at=datetime(2024, 11, 22, 23, 50)), "occurred.at", id="instant without zone"
        ),
        pytest.param(Month(year=2024, month=13), "occurred.month", id="month 13"),
        pytest.param(Month(year=2024, month=0), "occurred.month", id="month 0"),
        pytest.param(Interval(), "occurred", id="interval without ends"),
        pytest.param(Interval(start=SATURDAY, end=FRIDAY), "occurred.end", id="day before day"),
        pytest.param(
            Interval(start=AUGUST_2024, end=Month(year=2024, month=7)),
            "occurred.end",
            id="month before month",
        ),
        pytest.param(
            Interval(start=SATURDAY, end=FRIDAY_NIGHT), "occurred.end", id="instant before day"
        ),
        pytest.param(
            Interval(start=FRIDAY_NIGHT, end=Instant(at=datetime(2024, 11, 22, 12, tzinfo=UTC))),
            "occurred.end",
            id="instant before instant",
        ),
        pytest.param(
            Interval(start=Month(year=2023, month=13)), "occurred.start.month", id="bad start"
        ),
        pytest.param(
            Interval(end=Instant(at=datetime(2024, 11, 22, 23, 50))),
            "occurred.end.at",
            id="naive end",
        ),
    ],
)
def test_an_impossible_occurrence_is_rejected_naming_its_field(
    when: Occurrence, field: str
) -> None:
    with pytest.raises(InvalidReport) as raised:
        validate_occurrence(when, "occurred")

    assert raised.value.field == field


def test_an_interval_that_ends_before_it_starts_says_so() -> None:
    with pytest.raises(InvalidReport, match="must not end before it starts"):
        validate_occurrence(Interval(start=SATURDAY, end=FRIDAY), "occurred")


@pytest.mark.parametrize("when", [FRIDAY_NIGHT, SATURDAY], ids=["instant", "day"])
def test_a_report_is_made_at_an_instant_or_on_a_day(when: Occurrence) -> None:
    validate_reported(when, "reported")


@pytest.mark.parametrize(
    ("when", "field"),
    [
        pytest.param(AUGUST_2024, "reported", id="month"),
        pytest.param(SINCE_JULY_2023, "reported", id="interval"),
        pytest.param(Instant(at=datetime(2024, 11, 23, 9)), "reported.at", id="no zone"),
    ],
)
def test_a_report_is_never_made_over_a_span_or_at_an_unplaced_moment(
    when: Occurrence, field: str
) -> None:
    with pytest.raises(InvalidReport) as raised:
        validate_reported(when, "reported")

    assert raised.value.field == field
