"""The limits' arithmetic on a clock the test turns by hand: buckets refill at their rate, and
an address that keeps sending wrong keys waits twice as long each time, up to a cap."""

from __future__ import annotations

import pytest

from api.limit_counters import FailedKeys, TokenBuckets
from api.settings import ApiSettings, LimitSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=4, clock=clock)
    kursk_desk = ("key", "kursk-desk")
    taken = [buckets.take(kursk_desk) for _ in range(5)]
    assert [quota.remaining for quota in taken] == [3, 2, 1, 0, 0]
    assert taken[-1].retry_after == 1
    assert all(quota.retry_after is None for quota in taken[:4])
    assert buckets.window == 2

    clock.now += 1.0  # two tokens back
    assert [buckets.take(kursk_desk).retry_after for _ in range(3)] == [None, None, 1]
    clock.now += 3_600.0  # an hour idle: a full bucket, not 7,200 tokens
    assert buckets.take(kursk_desk).remaining == 3


def test_wrong_keys_make_an_address_wait_longer_each_time_up_to_the_cap() -> None:
    clock = Clock()
    failed = FailedKeys(allowed=3, max_wait=8.0, clock=clock)
    address = "203.0.113.7"
    for _ in range(3):
        failed.failed(address)
    assert failed.wait(address) == 0.0

    waits = []
    for _ in range(6):
        failed.failed(address)
        waits.append(failed.wait(address))
        clock.now += waits[-1]
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert failed.wait("198.51.100.20") == 0.0

    failed.succeeded(address)
    failed.failed(address)
    assert failed.wait(address) == 0.0


def test_wrong_keys_are_forgotten_after_a_quiet_quarter_hour() -> None:
    clock = Clock()
    failed = FailedKeys(allowed=1, max_wait=300.0, clock=clock)
    failed.failed("203.0.113.7")
    failed.failed("203.0.113.7")
    assert failed.wait("203.0.113.7") == 1.0
    clock.now += 901.0
    failed.failed("203.0.113.7")
    assert failed.wait("203.0.113.7") == 0.0


def test_limits_are_read_from_the_environment_and_zero_turns_one_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIMELINE_RATE_LIMIT", "0")
    monkeypatch.setenv("TIMELINE_STREAMS_PER_KEY", "3")
    monkeypatch.setenv("TIMELINE_PAST_QUESTIONS_WAITING", "20")
    limits = ApiSettings.from_environment().limits
    assert limits.requests_per_second == 0
    assert limits.streams_per_key == 3
    assert limits.past_waiting == 20
    assert limits.burst == LimitSettings().burst
