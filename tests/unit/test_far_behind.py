"""When a starting runner rebuilds its view rather than following the log event by event."""

from __future__ import annotations

from projections.catch_up import FAR_BEHIND, FarBehind


def test_a_view_never_built_on_a_big_log_is_far_behind() -> None:
    assert FAR_BEHIND(0, 1_000_000)
    assert FAR_BEHIND(0, 10_000)


def test_a_small_log_is_always_followed_event_by_event() -> None:
    assert not FAR_BEHIND(0, 9_999)


def test_a_view_a_twentieth_of_the_log_behind_is_far_behind_and_less_is_not() -> None:
    assert FAR_BEHIND(950_000, 1_000_000)
    assert not FAR_BEHIND(950_001, 1_000_000)


def test_a_view_at_the_head_or_just_behind_it_is_followed() -> None:
    assert not FAR_BEHIND(1_000_000, 1_000_000)
    assert not FAR_BEHIND(990_000, 1_000_000)
    assert not FarBehind(events=1_000, share_of_log=0.1)(2_500, 3_002)
