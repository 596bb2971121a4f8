"""How a rebuild's views are split over processes: each view once, the work about even,
each group in the order asked; and how many processes the setting allows."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from projections.core import View
from projections.rebuild_processes import (
    PROCESSES_VARIABLE,
    UNMEASURED_WORK,
    WORK,
    configured_processes,
    groups_of,
)
from projections.registry import VIEWS

EVERY_VIEW = list(VIEWS.values())


def _work(group: Sequence[View]) -> int:
    return sum(WORK.get(view.name, UNMEASURED_WORK) for view in group)


@pytest.mark.parametrize("processes", [1, 2, 3, 4])
def test_every_view_goes_to_one_group_and_no_group_carries_much_more_than_another(
    processes: int,
) -> None:
    groups = groups_of(EVERY_VIEW, processes)
    assert len(groups) == processes
    assert sorted(view.name for group in groups for view in group) == sorted(VIEWS)
    # the heaviest view (the timeline) alone may outweigh a fair share; else within it
    loads = sorted(_work(group) for group in groups)
    assert loads[-1] - loads[0] <= max(WORK.values())
    # each group lists its views in the order they were asked for
    order = list(VIEWS)
    for group in groups:
        names = [view.name for view in group]
        assert names == sorted(names, key=order.index)


def test_two_processes_put_the_timeline_apart_from_the_histories() -> None:
    # the two heaviest kinds of work land in different processes
    (first, second) = groups_of(EVERY_VIEW, 2)
    with_timeline = first if any(v.name == "timeline" for v in first) else second
    assert not {"forces-history", "front-series"} <= {v.name for v in with_timeline}
    assert abs(_work(first) - _work(second)) <= 3


def test_more_processes_than_views_make_a_group_per_view() -> None:
    groups = groups_of([VIEWS["holdings"], VIEWS["timeline"]], 8)
    assert [[view.name for view in group] for group in groups] == [["timeline"], ["holdings"]]


def test_the_setting_names_the_processes_and_refuses_nonsense(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PROCESSES_VARIABLE, "3")
    assert configured_processes() == 3
    monkeypatch.delenv(PROCESSES_VARIABLE)
    assert configured_processes() >= 1
    for nonsense in ("0", "-2", "two"):
        monkeypatch.setenv(PROCESSES_VARIABLE, nonsense)
        with pytest.raises(ValueError, match=PROCESSES_VARIABLE):
            configured_processes()
