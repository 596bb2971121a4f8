"""An API process moves what it holds for its whole life out of the cyclic collector's reach
once its views have loaded (api/heap.py), so a full collection under a write load walks
only what the requests made since."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from api.heap import freeze_once_loaded


@pytest.fixture(autouse=True)
def nothing_frozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as it did


class HeldForLife:
    """Something a process keeps until it stops, as its routes and views are: in a cycle,
    so the collector would walk it in every full collection."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.itself = self


async def test_what_the_process_holds_once_its_views_have_loaded_is_frozen() -> None:
    # Given the Kursk holdings row a process keeps, and views still loading
    kursk = HeldForLife("Kursk Oblast")
    loaded, stop = asyncio.Event(), asyncio.Event()
    freezing = asyncio.ensure_future(freeze_once_loaded(loaded, stop))
    for _ in range(5):
        await asyncio.sleep(0)

    # Then nothing is frozen while they load
    assert not freezing.done()
    assert gc.get_freeze_count() == 0

    # When they have loaded
    loaded.set()

    # Then what the process holds is out of the collector's reach
    assert await freezing is True
    assert gc.get_freeze_count() > 0
    assert not any(held is kursk for held in gc.get_objects())


async def test_startup_garbage_is_collected_before_the_freeze_not_kept_for_ever() -> None:
    # Given a cycle nobody holds any more (what startup leaves behind)
    berdiansk = HeldForLife("Berdiansk")
    left_behind = weakref.ref(berdiansk)
    del berdiansk
    loaded = asyncio.Event()
    loaded.set()

    # When the views have loaded
    assert await freeze_once_loaded(loaded, asyncio.Event()) is True

    # Then it was collected first, not frozen alive for the rest of the process's life
    assert left_behind() is None


async def test_a_process_stopped_before_its_views_loaded_freezes_nothing() -> None:
    stop = asyncio.Event()
    stop.set()

    assert await freeze_once_loaded(asyncio.Event(), stop) is False
    assert gc.get_freeze_count() == 0
