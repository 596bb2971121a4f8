"""The back-off every reconnect loop shares: doubling waits with jitter, capped, starting
again after a success, and one log line per change of state."""

from __future__ import annotations

import asyncio
import logging

import pytest

from store.backoff import Backoff, stopped

log = logging.getLogger("test.backoff")


def test_each_failure_in_a_row_doubles_the_wait_up_to_the_cap() -> None:
    backoff = Backoff("stream", log, first=0.1, cap=30.0, jitter=lambda: 1.0)
    waits = [backoff.failed(OSError("refused")) for _ in range(12)]
    assert waits[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert waits[-1] == 30.0


def test_jitter_draws_each_wait_between_half_and_all_of_it() -> None:
    low = Backoff("stream", log, first=1.0, jitter=lambda: 0.0)
    high = Backoff("stream", log, first=1.0, jitter=lambda: 1.0)
    assert [low.failed(OSError()) for _ in range(3)] == [0.5, 1.0, 2.0]
    assert [high.failed(OSError()) for _ in range(3)] == [1.0, 2.0, 4.0]


def test_a_success_starts_again_from_the_first_wait() -> None:
    backoff = Backoff("stream", log, first=0.1, jitter=lambda: 1.0)
    for _ in range(6):
        backoff.failed(OSError())
    backoff.succeeded()
    assert backoff.failed(OSError()) == pytest.approx(0.1)
    assert backoff.attempts == 7


def test_an_outage_is_logged_once_when_lost_and_once_when_restored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = Backoff("stream: following the log", log)
    with caplog.at_level(logging.WARNING, logger="test.backoff"):
        for _ in range(50):
            backoff.failed(ConnectionRefusedError("connection refused"))
        backoff.succeeded()
        backoff.succeeded()
    assert [record.getMessage() for record in caplog.records] == [
        "stream: following the log: lost (connection refused); retrying with back-off "
        "(at most every 30 s)",
        "stream: following the log: restored after 50 failed attempts",
    ]


async def test_a_loop_stuck_connecting_is_cancelled_at_shutdown_and_shutdown_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a loop told to stop while stuck in a connection attempt that never answers
    never = asyncio.Event()
    stuck = asyncio.create_task(never.wait())

    # When the service stops it, giving it a moment
    with caplog.at_level(logging.WARNING):
        await stopped(stuck, 0.05, "the log tailer")

    # Then it is cancelled, shutdown goes on without an error, and the log says so
    assert stuck.cancelled()
    assert "the log tailer did not stop within 0.05 s; cancelled" in caplog.text


async def test_a_loop_that_stops_in_time_is_waited_for() -> None:
    stop = asyncio.Event()

    async def loop() -> None:
        await stop.wait()

    task = asyncio.create_task(loop())
    stop.set()
    await stopped(task, 5, "the live views")
    assert task.done()
    assert not task.cancelled()
