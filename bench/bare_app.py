"""The yardstick for bench/http.py: a bare litestar app whose one route returns a fixed list of
20 msgspec Structs, encoded on every request, with no database, no auth and no middleware.

It is what litestar and the ASGI server cost on their own; the service's reads are measured
against it, served by the same server with the same settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in bench/http.py: with this file's folder first on sys.path, bench/http.py would stand
# in for the standard library's `http` package, which the server imports.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
from datetime import date

import msgspec
from litestar import Litestar, get

from cli import servers

REGIONS = (
    ("Kursk Oblast", "RU"),
    ("Belgorod Oblast", "RU"),
    ("Donetsk Oblast", "UA"),
    ("Zaporizhzhia Oblast", "UA"),
    ("Kharkiv Oblast", "UA"),
)


class Holding(msgspec.Struct, frozen=True, kw_only=True):
    region: str
    country: str
    actor: str
    area_km2: float
    qualifier: str
    source: str
    outlet: str | None
    reported: date


HOLDINGS = [
    Holding(
        region=region,
        country=country,
        actor=("Ukraine", "Russia")[index % 2],
        area_km2=1_376.0 - 29 * index,
        qualifier="about",
        source="Ukrainian General Staff source",
        outlet="Reuters",
        reported=date(2024, 11, 23),
    )
    for index, (region, country) in enumerate(REGIONS * 4)
]


@get("/holdings", sync_to_thread=False)
def holdings() -> list[Holding]:
    return HOLDINGS


app = Litestar(route_handlers=[holdings], debug=False)


def load() -> Litestar:
    """The app, for a server's worker to load."""
    return app


def main() -> None:
    """`python -m bench.bare_app [--server S] [--workers N] [--port P]`: served as
    `timeline serve` serves the service (cli/servers.py)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--server", default=servers.DEFAULT_SERVER.value)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    servers.run(
        load,
        server=servers.AsgiServer(args.server),
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
