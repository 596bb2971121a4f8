"""This process's services, made once when the app starts, and the one place that knows what
the app's `state` holds: `limits` and `metrics` from the app's creation (the edge and the
limits' middleware count every request, api/edge.py), `services` once the app has started
(api/app.py's lifespan). Handlers are given what they need by name (api/dependencies.py);
guards and middleware ask here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.datastructures import State

if TYPE_CHECKING:  # the services' own modules reach this one through their guards
    import asyncpg
    from litestar import Litestar

    from api.answers import ReadSide
    from api.auth import KeyCache
    from api.limits import Limits
    from api.live_views import LiveViews
    from api.log_tailer import LogTailer
    from api.metrics import ServiceMetrics
    from api.settings import ApiSettings
    from store.event_store import EventStore


class Services:
    """What the handlers of this process share.

    A plain class, not a dataclass: litestar checks each value it injects against its type,
    and a plain class is checked by `isinstance` alone (a dataclass's fields would be
    inspected, and the settings' networks are a union msgspec cannot check)."""

    __slots__ = ("api_keys", "database_url", "pool", "reads", "settings", "tailer")

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        reads: ReadSide,
        api_keys: KeyCache,
        tailer: LogTailer,
        settings: ApiSettings,
        database_url: str,
    ) -> None:
        self.pool = pool  # the primary's: writes, the log, keys, status, LISTEN
        self.database_url = database_url  # the primary's, for the processes of a rebuild
        self.reads = reads  # the views, the pool reads go to, the log
        self.api_keys = api_keys
        self.tailer = tailer
        self.settings = settings

    @property
    def read_pool(self) -> asyncpg.Pool:
        """A standby's pool (TIMELINE_READ_DATABASE_URL), else `pool` itself."""
        return self.reads.pool

    @property
    def store(self) -> EventStore:
        """The log on the primary, its appends metered."""
        return self.reads.store

    @property
    def views(self) -> LiveViews:
        return self.reads.views


def initial_state(limits: Limits, metrics: ServiceMetrics) -> State:
    return State({"limits": limits, "metrics": metrics})


def start_services(app: Litestar, services: Services) -> None:
    app.state.services = services


def services_of(app: Litestar) -> Services:
    return cast(Services, app.state.services)


def limits_of(app: Litestar) -> Limits:
    return cast("Limits", app.state.limits)


def metrics_of(app: Litestar) -> ServiceMetrics:
    return cast("ServiceMetrics", app.state.metrics)


def state_services(state: State | Any) -> Services:
    """The services from a handler's `state` (what api/dependencies.py provides from)."""
    return cast(Services, state.services)
