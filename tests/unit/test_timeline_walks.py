"""Which span classes a timeline page walks in order rather than gathering by its tags: the
planner's guess for two tags of one class is off by the class's share (each tag names its
class), so the choice is made from the same statistics, taken within the class."""

from __future__ import annotations

from datetime import UTC, datetime

from projections.timeline_query import TimelineFilter
from projections.timeline_walks import NO_STATISTICS, TagStatistics, walks

ROWS = 1_000_000.0
SOURCE_AND_STATE = TimelineFilter(
    source="Ukrainian General Staff source", verification="unverified"
)


def statistics(source_share: float, state_share: float) -> TagStatistics:
    """Class 3 holds a fifth of the rows; the source's and the state's tags in it hold the
    given shares of the whole table."""
    return TagStatistics(
        rows=ROWS,
        tags={
            "source:ukrainian general staff source@3": source_share,
            "verification:unverified@3": state_share,
        },
        spans={3: 0.2},
        least=0.0001,
    )


def test_a_pair_common_in_its_class_is_walked() -> None:
    # Given the source in a sixth of class 3 and the state in two thirds of it: a seventh
    # of the class's 200,000 rows match, a page's 21 lie within about 150 rows of a walk
    assert walks(statistics(0.033, 0.133), SOURCE_AND_STATE, 21) == frozenset({3})


def test_a_pair_rare_in_its_class_is_gathered() -> None:
    # Given the source in one row of 2,000 of class 3 and the state in one of 200: about
    # 1 match in 400,000, fewer than a walk would have to read
    assert walks(statistics(0.0001, 0.001), SOURCE_AND_STATE, 21) == frozenset()


def test_one_tag_is_left_to_the_planner_and_no_statistics_walk_nothing() -> None:
    assert walks(statistics(0.033, 0.133), TimelineFilter(source="x"), 21) == frozenset()
    assert walks(NO_STATISTICS, SOURCE_AND_STATE, 21) == frozenset()


def test_a_reporting_range_is_left_to_its_own_index() -> None:
    # Given a common pair, asked over a week of reporting: the week's index narrows the
    # matches far below what a walk in the order of occurrence would read
    week = TimelineFilter(
        source="Ukrainian General Staff source",
        verification="unverified",
        reported_from=datetime(2024, 8, 1, tzinfo=UTC),
        reported_to=datetime(2024, 8, 8, tzinfo=UTC),
    )
    assert walks(statistics(0.033, 0.133), week, 21) == frozenset()
