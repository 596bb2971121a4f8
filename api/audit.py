"""Auditors' routes: the chain's head (to publish and compare later) and a full verification.

`GET /v1/audit/verify` rereads and rehashes the log (store/chain.py): about six seconds per
million events on a small machine, so it is bounded by `until_position` when asked, and
answered for readers like any other read.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.answers import POSITION_HEADER
from api.auth import requires_reader
from api.limits import Cost, costs
from api.problems import problem
from store.chain import ChainHead, ChainVerification, chain_head, verify_chain
from store.event_store import MAX_POSITION

_ERRORS = {
    400: problem("A parameter is not valid"),
    401: problem("An API key is needed"),
    403: problem("The key's role does not allow this"),
}


class VerifyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The chain recomputed: `intact` through `position`, or `broken_at` with the reason."""

    verification: ChainVerification
    summary: str


@get(
    "/audit/head",
    operation_id="getAuditHead",
    summary="The log's newest position and chain hash",
    description="Publish this pair (a newsletter, a tweet, a notary): an auditor can later "
    "check with `timeline verify` or GET /v1/audit/verify that the log up to that position "
    "still ends in the same hash, i.e. that history was not rewritten.",
    tags=["audit"],
    guards=[requires_reader],
    responses=_ERRORS,
)
async def head(*, pool: NamedDependency[asyncpg.Pool]) -> Response[ChainHead]:
    answer = await chain_head(pool)
    return Response(
        answer, headers={POSITION_HEADER: str(answer.position), "Cache-Control": "no-cache"}
    )


@get(
    "/audit/verify",
    operation_id="verifyAudit",
    summary="Recompute the chain of hashes over the log",
    description="Either intact up to position N with head hash H, or the first position where "
    "the chain breaks and why (an edited event, a missing one). Reads the whole log, or the "
    "log up to `until_position`.",
    tags=["audit"],
    guards=[requires_reader],
    opt=costs(Cost.LOG),
    responses={**_ERRORS, 503: problem("Too many questions about the past at once")},
)
async def verify(
    *,
    pool: NamedDependency[asyncpg.Pool],
    until_position: Annotated[
        int | None,
        QueryParameter(ge=0, le=MAX_POSITION, description="Verify only up to this position"),
    ] = None,
) -> Response[VerifyAnswer]:
    result = await verify_chain(pool, through=until_position)
    return Response(
        VerifyAnswer(verification=result, summary=result.describe()),
        headers={POSITION_HEADER: str(result.position), "Cache-Control": "no-cache"},
    )


AUDIT_ROUTES = [head, verify]
