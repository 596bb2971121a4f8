"""Operators' routes: view status (readers), rebuilds and API keys (admins)."""

from __future__ import annotations

import time
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth import KeyCache, requires_admin, requires_reader
from api.bodies import requires_declared_body
from api.problems import ApiProblem, Documented, problem
from api.services import Services
from domain.errors import InvalidReport
from domain.limits import Name
from projections.rebuild_processes import rebuild_in_processes
from projections.registry import VIEWS
from projections.status import ViewStatus, view_statuses
from store.api_keys import (
    ApiKey,
    Role,
    create_key,
    key_name,
    list_keys,
    revoke_key,
)

PROBLEM = "application/problem+json"


def _problems(*statuses: int) -> dict[int, Documented]:
    described = {
        400: "The request is not valid",
        401: "An API key is needed",
        403: "The key's role does not allow this",
        404: "Not found",
        409: "A rebuild of one of the views is already running",
        415: "The body is not application/json",
        422: "The body is not valid",
    }
    return {status: problem(described[status]) for status in statuses}


class StatusAnswer(msgspec.Struct, frozen=True, kw_only=True):
    views: tuple[ViewStatus, ...]


@get(
    "/status",
    operation_id="getStatus",
    summary="Each view's generation, position, lag behind the log, and state",
    tags=["service"],
    guards=[requires_reader],
    responses=_problems(401, 403),
)
async def status(*, pool: NamedDependency[asyncpg.Pool]) -> StatusAnswer:
    return StatusAnswer(views=tuple(await view_statuses(pool, list(VIEWS))))


class RebuildRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    views: tuple[str, ...]


class Rebuilt(msgspec.Struct, frozen=True, kw_only=True):
    view: str
    generation: int
    position: int


class RebuildAnswer(msgspec.Struct, frozen=True, kw_only=True):
    rebuilt: tuple[Rebuilt, ...]
    seconds: float


@post(
    "/admin/rebuilds",
    operation_id="rebuildViews",
    summary="Rebuild views from the whole log under a new generation, then switch",
    description="Folds the whole log anew into a new generation of each named view while the "
    "current one keeps serving, then switches to it in one transaction. Answers when done "
    "(for very long logs, `timeline rebuild` on the command line).",
    tags=["service"],
    guards=[requires_admin, requires_declared_body],
    status_code=HTTP_200_OK,
    responses=_problems(400, 401, 403, 409, 415, 422),
)
async def rebuild(
    *,
    services: NamedDependency[Services],
    data: Annotated[
        RebuildRequest,
        Body(description='The views to rebuild, e.g. {"views": ["holdings"]}'),
    ],
) -> RebuildAnswer:
    unknown = [name for name in data.views if name not in VIEWS]
    if unknown or not data.views or len(set(data.views)) != len(data.views):
        raise ApiProblem(
            422,
            "invalid-request",
            "The request is not valid",
            f"views: name each view once, from {', '.join(VIEWS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            field="views",
        )
    started = time.perf_counter()
    # A rebuild already running is a 409 (api/problems.py).
    # In processes of its own on a big log, so this one's event loop goes on answering.
    views = [VIEWS[name] for name in data.views]
    generations = await rebuild_in_processes(services.pool, services.database_url, views)
    return RebuildAnswer(
        rebuilt=tuple(
            Rebuilt(view=g.view, generation=g.generation, position=g.position) for g in generations
        ),
        seconds=round(time.perf_counter() - started, 3),
    )


class NewKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    role: Role


class CreatedKeyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    secret: str  # shown once


class KeysAnswer(msgspec.Struct, frozen=True, kw_only=True):
    keys: tuple[ApiKey, ...]


@post(
    "/admin/keys",
    operation_id="createKey",
    summary="Create an API key (the secret is in this answer only)",
    tags=["service"],
    guards=[requires_admin, requires_declared_body],
    status_code=HTTP_201_CREATED,
    responses=_problems(400, 401, 403, 415, 422),
)
async def create(
    *, pool: NamedDependency[asyncpg.Pool], data: JSONBody[NewKey]
) -> CreatedKeyAnswer:
    try:
        name = key_name(data.name)
    except InvalidReport as error:
        raise ApiProblem(
            422, "invalid-request", "The request is not valid", str(error), field=error.field
        ) from None
    created = await create_key(pool, name, data.role)
    return CreatedKeyAnswer(key=created.key, secret=created.secret)


@get(
    "/admin/keys",
    operation_id="listKeys",
    summary="Every API key (never the secrets)",
    tags=["service"],
    guards=[requires_admin],
    responses=_problems(401, 403),
)
async def keys(*, pool: NamedDependency[asyncpg.Pool]) -> KeysAnswer:
    return KeysAnswer(keys=tuple(await list_keys(pool)))


@post(
    "/admin/keys/{key_id:uuid}/revocation",
    operation_id="revokeKey",
    summary="Revoke an API key; it stops working at once in every API process",
    tags=["service"],
    guards=[requires_admin],
    status_code=HTTP_200_OK,
    responses=_problems(400, 401, 403, 404),
)
async def revoke(
    *,
    pool: NamedDependency[asyncpg.Pool],
    api_keys: NamedDependency[KeyCache],
    key_id: FromPath[UUID],
) -> KeysAnswer:
    revoked = await revoke_key(pool, str(key_id))  # an unknown key is a 404 (api/problems.py)
    api_keys.clear()
    return KeysAnswer(keys=tuple(revoked))


ADMIN_ROUTES = [status, rebuild, create, keys, revoke]
