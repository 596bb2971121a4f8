"""The ASGI servers `timeline serve` can run the app on, and how each is started.

granian is the default because it was the faster here (bench/http.py; the README has the
figures): on 2 cores at 64 connections, one worker, a bare litestar app served about 14,000
to 16,000 requests a second on granian, 11,000 on uvicorn with uvloop and httptools and
6,000 on uvicorn's pure-Python defaults, and the service's in-memory reads followed suit.
granian runs the app in worker processes (one by default) under a small supervisor process,
which is the one Ctrl-C stops: it stops the workers, each running the app's shutdown.

Workers are given a loader, not the app: each builds its own app (its own pool and views)
after it has started. The loader is a module-level function or a `functools.partial` of one
with plain arguments, so it also crosses to workers that are spawned rather than forked.
uvicorn serves in this process, one worker only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from litestar.types import ASGIApp

from domain.errors import Unavailable

# Enough for the app's own shutdown (it gives its projection runners 10 s) before a worker
# that hangs is killed.
WORKER_KILL_SECONDS = 30


class AsgiServer(StrEnum):
    GRANIAN = "granian"
    UVICORN = "uvicorn"


DEFAULT_SERVER = AsgiServer.GRANIAN


class ServerFailed(Unavailable):
    """The server stopped on its own: a worker failed to start or died."""


def run(
    load_app: Callable[[], ASGIApp],
    *,
    server: AsgiServer,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    log_config: dict[str, Any] | None = None,
) -> None:
    """Serve the app `load_app` builds until Ctrl-C or SIGTERM; ServerFailed if it stops
    for another reason."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if server is AsgiServer.GRANIAN:
        _run_granian(
            load_app,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            log_config=log_config,
        )
    else:
        if workers != 1:
            raise ValueError("uvicorn serves with one worker here; use granian for more")
        _run_uvicorn(load_app, host=host, port=port, log_level=log_level)


def _run_granian(
    load_app: Callable[[], ASGIApp],
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    log_config: dict[str, Any] | None,
) -> None:
    from granian import Granian  # noqa: PLC0415  (only the chosen server is imported)
    from granian.constants import Interfaces  # noqa: PLC0415
    from granian.log import LogLevels  # noqa: PLC0415

    granian = Granian(
        "timeline",  # a name for logs: the app comes from load_app
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_level=LogLevels(log_level),
        log_dictconfig=log_config,  # its own lines in the service's format
        workers_kill_timeout=WORKER_KILL_SECONDS,
    )
    try:
        granian.serve(target_loader=load_app, wrap_loader=False)
    except SystemExit as exit_:
        # granian exits non-zero when a worker stopped unasked. A worker that shut down on
        # the terminal's own Ctrl-C before the supervisor stopped it counts as one too, so
        # a stop that was asked for is a clean stop whatever the workers did.
        if not granian.interrupt_signal:
            raise ServerFailed(f"granian stopped with status {exit_.code}") from None


def _run_uvicorn(load_app: Callable[[], ASGIApp], *, host: str, port: int, log_level: str) -> None:
    import uvicorn  # noqa: PLC0415  (only the chosen server is imported)

    config = uvicorn.Config(load_app(), host=host, port=port, log_level=log_level, lifespan="on")
    server = uvicorn.Server(config)
    try:
        # uvicorn re-raises the Ctrl-C it handled once it has shut down gracefully.
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    except SystemExit as exit_:  # a failed startup, which uvicorn has logged
        raise ServerFailed(f"uvicorn stopped with status {exit_.code}") from None
    if not server.started:
        raise ServerFailed("uvicorn did not start")
