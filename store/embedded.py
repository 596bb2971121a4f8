"""The private PostgreSQL the service and the tests start when no URL is given.

It runs from the `pgserver` wheel, keeps its data under the data directory and listens on a
Unix socket only. pgserver stops it when the last process that asked for it exits, so
Ctrl-C on `timeline serve` leaves the data intact for the next start.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from domain.errors import Unavailable


class EmbeddedDatabaseError(Unavailable):
    """The embedded PostgreSQL could not be started in its data folder."""


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded server whose data lives in `data_dir`; return its URL."""
    # pgserver finds its lock and socket folders through platformdirs, which warns when the
    # runtime directory is unset; the fallback it takes is fine for us.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime_dir(data_dir)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # noqa: PLC0415  (heavy import, only when the embedded server is used)

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata = data_dir / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            pgdata, cleanup_mode="stop"
        )
    except Exception as error:
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {pgdata}: {error}"
        ) from error
    return str(server.get_uri())


def _runtime_dir(data_dir: Path) -> Path:
    runtime = data_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    return runtime
