"""The API answers each category of error with its status, and the classes that need their
own problem with it, from the one table in api/problems.py (a small app, no database)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

from api.problems import EXCEPTION_HANDLERS, PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    NothingToCorrect,
    ReportIsRetracted,
    ReportNotFound,
    TimelineError,
    Unavailable,
    VersionConflict,
)
from projections.explain_keys import UnknownRow
from projections.replay import InvalidReplayQuestion
from store.database import DatabaseUnavailable
from store.event_store import IdempotencyKeyReused, MalformedAppend, WriteOutcomeUnknown
from store.mapper import UnknownEventType

KURSK_REPORT = UUID("5f0c6a52-7c1e-4a4e-9d3b-1376a0a11e24")


# A new error of each category that api/problems.py does not name: its category answers.
class NoSuchFront(NotFound):
    pass


class FrontAlreadyDrawn(Conflict):
    pass


class AreaNotPositive(Invalid):
    pass


class MapTilesDown(Unavailable):
    pass


class ReadersMayNotRebuild(Forbidden):
    pass


RAISED: dict[str, TimelineError] = {}


@get("/raise/{name:str}", sync_to_thread=False)
def raising(name: FromPath[str]) -> None:
    raise RAISED[name]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    app = Litestar(route_handlers=[raising], exception_handlers=dict(EXCEPTION_HANDLERS))
    with TestClient(app=app) as client:
        yield client


def answer(client: TestClient[Litestar], error: TimelineError) -> tuple[int, dict[str, object]]:
    name = type(error).__name__
    RAISED[name] = error
    response = client.get(f"/raise/{name}")
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == response.status_code
    return response.status_code, body


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (NoSuchFront("no front line is drawn for Kurakhove"), 404, "not-found"),
        (FrontAlreadyDrawn("the Kursk front is drawn for 2024-11-23"), 409, "conflict"),
        (AreaNotPositive("area: must be positive, got -1376"), 422, "invalid-request"),
        (ReadersMayNotRebuild("a reader's key may not rebuild holdings"), 403, "not-allowed"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_an_error_the_table_does_not_name_is_answered_by_its_category(
    client: TestClient[Litestar], error: TimelineError, status: int, slug: str
) -> None:
    code, body = answer(client, error)

    assert code == status
    assert body["type"] == PROBLEM_BASE + slug
    assert body["detail"] == str(error)
    assert body["instance"] == f"/raise/{type(error).__name__}"


def test_an_unavailable_error_is_a_503_to_retry_that_shows_nothing_of_the_database(
    client: TestClient[Litestar],
) -> None:
    for error in (
        MapTilesDown("tile server at 10.0.0.7 refused"),
        DatabaseUnavailable("cannot reach the database at 10.0.0.5:5432: connection refused"),
    ):
        RAISED["down"] = error
        response = client.get("/raise/down")

        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["type"] == PROBLEM_BASE + "database-unavailable"
        assert "10.0.0." not in response.text


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (ReportNotFound(KURSK_REPORT), 404, "report-not-found"),
        (ReportIsRetracted(KURSK_REPORT, "corrected"), 409, "report-retracted"),
        (NothingToCorrect(KURSK_REPORT), 422, "nothing-to-correct"),
        (IdempotencyKeyReused("desk-kursk-2024-11-23"), 422, "idempotency-key-reused"),
        (
            MalformedAppend(f"report {KURSK_REPORT}: versions start at 1, got 0"),
            422,
            "malformed-append",
        ),
        (InvalidReplayQuestion("position 1376 is beyond the head (800)"), 400, "invalid-question"),
        (UnknownRow("no row of holdings matches 'kurks'"), 404, "row-not-found"),
        (WriteOutcomeUnknown(keyed=True), 503, "write-outcome-unknown"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_a_named_error_keeps_its_own_problem_and_status(
    client: TestClient[Litestar], error: TimelineError, status: int, slug: str
) -> None:
    code, body = answer(client, error)

    assert code == status
    assert body["type"] == PROBLEM_BASE + slug
    assert body["detail"] == str(error)


def test_a_stale_version_is_a_412_with_both_versions_and_the_current_etag(
    client: TestClient[Litestar],
) -> None:
    RAISED["stale"] = VersionConflict(KURSK_REPORT, expected=2, actual=3)
    response = client.get("/raise/stale")

    assert response.status_code == 412
    assert response.headers["etag"] == '"3"'
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "stale-version"
    assert (body["expected_version"], body["current_version"]) == (2, 3)


def test_an_event_this_code_cannot_read_is_the_service_s_500_not_the_caller_s_422(
    client: TestClient[Litestar],
) -> None:
    RAISED["unreadable"] = UnknownEventType("no event type is stored as 'front-drawn@v9'")
    response = client.get("/raise/unreadable")

    assert response.status_code == 500
    assert "front-drawn" not in response.text
