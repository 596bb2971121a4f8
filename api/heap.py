"""What an API process holds for its whole life, moved out of the cyclic garbage collector's
reach once the process has loaded it.

By the time the views are loaded, an API process holds some hundred thousand objects it keeps
until it stops: the app, its routes and their OpenAPI schemas, the modules, the views. A full
collection walks all of them, and under a write load full collections come every second or
so, because a request's objects live through the tens of milliseconds a write waits for its
group (store/group_commit.py) and are promoted on the way. Under `POST /v1/reports` at 64
connections (bench/http.py's load, timed with `gc.callbacks` on the 2-core machine it shares
with wrk and PostgreSQL) those collections held the event loop for 100 to 220 ms each, and
every request in flight waited for them: they were much of the latency's tail; frozen, they
took 10 to 40 ms. Frozen (`gc.freeze`), those objects are no longer walked; what the
process makes afterwards is collected as before, and reference counting still frees every
object that dies, frozen or not.
"""

from __future__ import annotations

import asyncio
import gc


async def freeze_once_loaded(loaded: asyncio.Event, stop: asyncio.Event) -> bool:
    """Once `loaded` is set (the live views' `ready`), or never if `stop` comes first:
    collect what startup left behind, then freeze what remains. True when it froze."""
    waits = (asyncio.ensure_future(loaded.wait()), asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    if not loaded.is_set():
        return False
    gc.collect()  # garbage frozen now would never be collected
    gc.freeze()
    return True
