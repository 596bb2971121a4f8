"""What handlers are given, by name and typed (litestar's `Provide`): the process's services
(api/services.py), the read's question (`asked`, api/questions.py) and the caller's report
service (`report_service`). A handler names what it needs as a parameter; none reads
`state`. The settings come with the services (`services.settings`): litestar checks an
injected value against its type, and the settings' address networks are a union it cannot
check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from api.answers import ReadSide
from api.auth import KeyCache
from api.limits import Limits
from api.log_tailer import LogTailer
from api.metrics import ServiceMetrics
from api.questions import asked
from api.services import Services, state_services
from application.reports import ReportService
from store.api_keys import ApiKey
from store.event_store import EventStore


def _services(state: State) -> Services:
    return state_services(state)


def _reads(state: State) -> ReadSide:
    return state_services(state).reads


def _pool(state: State) -> asyncpg.Pool:
    return state_services(state).pool


def _store(state: State) -> EventStore:
    return state_services(state).store


def _api_keys(state: State) -> KeyCache:
    return state_services(state).api_keys


def _tailer(state: State) -> LogTailer:
    return state_services(state).tailer


def _limits(state: State) -> Limits:
    return cast(Limits, state.limits)


def _service_metrics(state: State) -> ServiceMetrics:
    return cast(ServiceMetrics, state.metrics)


def _callers_reports(request: Request[Any, Any, Any]) -> ReportService:
    """The report service for the caller: idempotency keys are scoped to its API key."""
    key: ApiKey = request.state.api_key
    return ReportService(state_services(request.app.state).store, idempotency_scope=str(key.id))


_PROVIDERS: dict[str, Callable[..., Any]] = {
    "services": _services,
    "reads": _reads,
    "pool": _pool,
    "store": _store,
    "api_keys": _api_keys,
    "tailer": _tailer,
    "limits": _limits,
    "service_metrics": _service_metrics,
    "asked": asked,
    "report_service": _callers_reports,
}
DEPENDENCIES = {
    name: Provide(provider, sync_to_thread=False) for name, provider in _PROVIDERS.items()
}
