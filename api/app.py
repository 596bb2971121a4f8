"""The composition root of the web service: `create_app()` wires the pool, the in-memory
views, the API keys and the routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from api.admin import ADMIN_ROUTES
from api.answer_cache import AnswerCache
from api.answers import ReadSide
from api.audit import AUDIT_ROUTES
from api.auth import KeyCache
from api.dependencies import DEPENDENCIES
from api.edge import TimelineApp
from api.health import HealthController
from api.heap import freeze_once_loaded
from api.import_routes import IMPORT_ROUTES
from api.key_changes import follow_key_changes
from api.limits import Limits, limit_requests
from api.live_views import LiveViews
from api.log_tailer import LogTailer, tail_log
from api.metrics import MeteredEventStore, ServiceMetrics, metrics
from api.openapi_structs import DomainRulesPlugin, UninspectableStructPlugin
from api.problems import EXCEPTION_HANDLERS
from api.report_routes import REPORT_ROUTES
from api.services import Services, initial_state, services_of, start_services
from api.settings import ApiSettings
from api.stream import STREAM_ROUTES
from api.strike_routes import STRIKE_ROUTES
from api.timeline_routes import TIMELINE_ROUTES
from api.view_routes import VIEW_ROUTES
from api.web import WEB_ROUTES, OfflineSwaggerRenderPlugin
from projections.registry import VIEWS
from projections.workers import run_views
from store.backoff import stopped
from store.database import Database, create_pool

PROJECTIONS_SHUTDOWN_SECONDS = 10.0
API_VERSION = "1.0.0"

DESCRIPTION = """\
Every reported development in a war, recorded as an immutable event with its source, its
qualifiers and its three times (when it happened, when it was reported, when it was recorded).
Views (holdings, damage, forces, front, strikes, the timeline, the histories of holdings,
forces and front, one row per key and day, the tallies of losses and their history by month,
and the incidents added up) are folded from the log and can be asked *as known at* a time or
log position, *as of* a date, and *reported by* a date (what the sources had published then).

Authenticate with `Authorization: Bearer <key>` (or `X-API-Key: <key>`); create keys with
`timeline keys create --role reader|editor|admin --name NAME`. Every error is an RFC 9457
`application/problem+json` document. Every read carries `X-Timeline-Position`, the log position
it reflects; pass `?min_position=N` to wait until the views include your own write.

Every read that answers a table (the views, the histories and their `/points`,
`/v1/strikes/by-date`, the timeline, sources and regions) also answers CSV (RFC 4180, UTF-8,
a header row) for `Accept: text/csv`, or with `.csv` after its path for tools that cannot send
headers (`/v1/holdings.csv?as_of=2024-09-01`): the same parameters and pages, a column per
value named by its path in the JSON, the next page in a `Link: <...>; rel="next"` header. An
`Accept` that a route cannot answer is a 406 problem.

Every `/v1` route may answer 429 (too many requests from one key or address) with `Retry-After`
and the `RateLimit` and `RateLimit-Policy` fields (draft-ietf-httpapi-ratelimit-headers-11),
which every answer within the limit carries too.
"""


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Conflict Timeline API",
        version=API_VERSION,
        description=DESCRIPTION,
        path="/schema",
        render_plugins=[JsonRenderPlugin(), OfflineSwaggerRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="An API key as a bearer token"
                ),
                "apiKey": SecurityScheme(
                    type="apiKey", name="X-API-Key", security_scheme_in="header"
                ),
            }
        ),
        security=[{"bearer": []}, {"apiKey": []}],
        tags=[
            Tag(name="views", description="Current-state views folded from the log"),
            Tag(name="reports", description="Filing and assessing reports"),
            Tag(name="imports", description="Datasets' files loaded as reports, row by row"),
            Tag(name="audit", description="Provenance and tamper evidence"),
            Tag(name="stream", description="New events as they are recorded (Server-Sent Events)"),
            Tag(name="service", description="Health and status"),
        ],
    )


@asynccontextmanager
async def pools(database: Database) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """The primary's pool and the pool for reads: the one place that says where reads go.

    The read pool (TIMELINE_READ_DATABASE_URL's standby, else the primary's pool itself)
    serves what may lag the log a little: the views' rows and positions, timeline pages,
    past-tense answers, explain, all behind `min_position`, which waits for the views as read
    there. Writes, the log itself (reports, the stream, audits), keys, status, health and
    LISTEN stay on the primary."""
    pool = await create_pool(database)
    try:
        if database.read_url is None:
            yield pool, pool
            return
        read_pool = await create_pool(database.for_reads())
        try:
            yield pool, read_pool
        finally:
            await read_pool.close()
    finally:
        await pool.close()


Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def running(what: str, run: Callable[[Litestar, asyncio.Event], Awaitable[object]]) -> Lifespan:
    """A lifespan that runs `run` as a task while the app serves, and stops it after."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.ensure_future(run(app, stop))
        try:
            yield
        finally:
            stop.set()
            await stopped(task, PROJECTIONS_SHUTDOWN_SECONDS, what)

    return lifespan


def create_app(
    database: Database,
    *,
    run_projections: bool = True,
    settings: ApiSettings | None = None,
    freeze_heap: bool = False,
) -> Litestar:
    """The app for `database`; nothing connects until the app starts. With
    `run_projections`, the views are kept up to date inside this process (one runner per
    view across all processes, whichever takes each view first). With `freeze_heap`, what
    the process holds once its views have loaded is frozen (api/heap.py): for a process that
    serves this one app for its whole life, as `timeline serve`'s workers do, not for one
    that makes app after app (the tests: each freeze would walk, and keep, all before it)."""
    settings = settings or ApiSettings.from_environment()

    limits = Limits(settings.limits)
    service_metrics = ServiceMetrics()

    @asynccontextmanager
    async def start(app: Litestar) -> AsyncIterator[None]:
        async with pools(database) as (pool, read_pool):
            store = MeteredEventStore(pool, service_metrics)
            # Rows from the read pool; notifications from the primary (a standby cannot LISTEN).
            views = LiveViews(read_pool, database.url, AnswerCache(settings.answer_cache_bytes))
            start_services(
                app,
                Services(
                    pool=pool,
                    reads=ReadSide(views, read_pool, store, settings.default_wait_seconds),
                    api_keys=KeyCache(pool),
                    tailer=LogTailer(store, database.url),
                    settings=settings,
                    database_url=database.url,
                ),
            )
            yield

    lifespan: list[Lifespan] = [
        start,
        running(
            "the key listener",
            lambda app, stop: follow_key_changes(database.url, services_of(app).api_keys, stop),
        ),
        running("the live views", lambda app, stop: services_of(app).views.run(stop)),
        tail_log,
    ]
    if freeze_heap:
        lifespan.append(
            running(
                "the heap",
                lambda app, stop: freeze_once_loaded(services_of(app).views.ready, stop),
            )
        )
    if run_projections:
        lifespan.append(
            running(
                "the projection runners",
                lambda app, stop: run_views(
                    list(VIEWS.values()), services_of(app).pool, database.url, stop
                ),
            )
        )
    cors = (
        CORSConfig(
            allow_origins=list(settings.cors_origins),
            # The methods the API has: advertising others would invite requests it refuses.
            allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "Last-Event-ID",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Timeline-Position",
                "Retry-After",
                "Idempotent-Replayed",
                "RateLimit",
                "RateLimit-Policy",
                "X-Request-ID",
                "Link",
            ],
        )
        if settings.cors_origins
        else None
    )
    v1 = Router(
        path="/v1",
        route_handlers=[
            *ADMIN_ROUTES,
            *AUDIT_ROUTES,
            VIEW_ROUTES,
            TIMELINE_ROUTES,
            STRIKE_ROUTES,
            REPORT_ROUTES,
            IMPORT_ROUTES,
            *STREAM_ROUTES,
        ],
        # Every /v1 route meets the limits; /health and /schema stay free for the operator.
        middleware=[limit_requests],
    )
    app = TimelineApp(
        route_handlers=[HealthController, metrics, v1, *WEB_ROUTES],
        lifespan=lifespan,
        state=initial_state(limits, service_metrics),
        dependencies=DEPENDENCIES,
        exception_handlers=dict(EXCEPTION_HANDLERS),
        openapi_config=_openapi(),
        plugins=[UninspectableStructPlugin(), DomainRulesPlugin()],
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    app.max_header_bytes = settings.max_header_bytes
    return app
