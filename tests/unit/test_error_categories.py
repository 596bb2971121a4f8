"""Every error meant for a user has one root and exactly one category, and the command line
answers each category with its message in one line and status 2, never a traceback."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from uuid import UUID

import pytest

import api
import application
import cli
import domain
import projections
import seed
import store
from application.imports.rows import BadFile, FieldError
from cli import commands
from cli.commands import UsageError
from cli.main import main
from cli.servers import ServerFailed
from domain.errors import (
    CATEGORIES,
    Conflict,
    Forbidden,
    Invalid,
    InvalidReport,
    NotFound,
    NothingToCorrect,
    ReportIsRetracted,
    ReportNotFound,
    TimelineError,
    Unavailable,
    VersionConflict,
    category_of,
)
from projections.explain_keys import UnknownRow
from projections.rebuild import RebuildInProgress
from projections.replay import InvalidReplayQuestion
from store.api_keys import UnknownKey
from store.database import DatabaseUnavailable
from store.embedded import EmbeddedDatabaseError
from store.event_store import IdempotencyKeyReused, MalformedAppend, WriteOutcomeUnknown
from store.export import ExportRefused, RestoreRefused
from store.mapper import UnknownEventType
from store.migrate import NotMigrated
from store.roles import RolesNeeded
from store.settings import InvalidSetting

KURSK_REPORT = UUID("5f0c6a52-7c1e-4a4e-9d3b-1376a0a11e24")

USER_FACING: dict[type[TimelineError], type[TimelineError]] = {
    ReportNotFound: NotFound,
    UnknownKey: NotFound,
    VersionConflict: Conflict,
    ReportIsRetracted: Conflict,
    RebuildInProgress: Conflict,
    ExportRefused: Conflict,
    InvalidReport: Invalid,
    NothingToCorrect: Invalid,
    MalformedAppend: Invalid,
    IdempotencyKeyReused: Invalid,
    InvalidReplayQuestion: Invalid,
    UnknownRow: Invalid,  # an unanswerable question; the API answers it 404 (api/problems.py)
    RestoreRefused: Invalid,
    InvalidSetting: Invalid,
    BadFile: Invalid,
    FieldError: Invalid,
    UsageError: Invalid,
    UnknownEventType: Invalid,
    WriteOutcomeUnknown: Unavailable,
    DatabaseUnavailable: Unavailable,
    NotMigrated: Unavailable,
    EmbeddedDatabaseError: Unavailable,
    ServerFailed: Unavailable,
    RolesNeeded: Forbidden,
}

# Control flow inside one module or one process, never shown to a user as they are.
INTERNAL = {
    "TrackingMoved",  # projections/persistence.py: another runner moved the view on
    "LockLost",  # projections/runner.py: the runner's lock went with its connection
    "UnstorableKey",  # projections/row_keys.py: quarantined by the runner
    "CallLost",  # store/group_commit.py: answered as WriteOutcomeUnknown
    "_GroupRefused",  # store/group_commit.py
    "_TextProblem",  # domain/limits.py: raised as InvalidReport naming the field
    "OverLimit",  # api/limit_counters.py: answered as the Refused problem
    "_AnyWillDo",  # api/view_routes.py
    "ApiProblem",  # api/problems.py: already a problem
    "Refused",  # api/limits.py: an ApiProblem
}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in (api, application, cli, domain, projections, seed, store):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            loaded = importlib.import_module(module.name)
            for name, value in vars(loaded).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == loaded.__name__
                ):
                    found[f"{loaded.__name__}.{name}"] = value
    return found


def test_every_error_of_the_project_has_the_root_or_is_internal() -> None:
    classes = _exception_classes()
    assert set(USER_FACING) <= set(classes.values())
    rootless = {
        where
        for where, kind in classes.items()
        if not issubclass(kind, TimelineError) and kind.__name__ not in INTERNAL
    }
    assert rootless == set()


def test_every_error_under_the_root_is_in_exactly_one_category() -> None:
    under_root = [kind for kind in _exception_classes().values() if issubclass(kind, TimelineError)]
    named = [kind for kind in under_root if kind not in CATEGORIES and kind is not TimelineError]
    assert len(named) >= len(USER_FACING)
    for kind in named:
        if kind.__name__ == "DomainError":  # the rules' base: each rule picks its category
            continue
        assert [c for c in CATEGORIES if issubclass(kind, c)] == [category_of(kind)], kind


@pytest.mark.parametrize(("kind", "category"), USER_FACING.items(), ids=lambda k: k.__name__)
def test_each_user_facing_error_is_in_its_category(
    kind: type[TimelineError], category: type[TimelineError]
) -> None:
    assert category_of(kind) is category


def test_callers_that_catch_the_old_bases_still_catch_them() -> None:
    # `except ValueError` around a parse, `pytest.raises(ValueError)` on a bad setting.
    for kind in (InvalidReplayQuestion, MalformedAppend, InvalidSetting, BadFile, UsageError):
        assert issubclass(kind, ValueError), kind


ONE_OF_EACH = [
    ReportNotFound(KURSK_REPORT),
    VersionConflict(KURSK_REPORT, expected=2, actual=3),
    InvalidReport("claim.area.value", "must be positive, got -1376"),
    DatabaseUnavailable("cannot reach the database at 127.0.0.1:5432: connection refused"),
    RolesNeeded("run as a role that may create roles: CREATE ROLE timeline_service NOLOGIN"),
]


@pytest.mark.parametrize("error", ONE_OF_EACH, ids=lambda e: category_of(type(e)).__name__)
def test_the_command_line_prints_any_category_in_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: TimelineError
) -> None:
    def migrate(_: object) -> int:
        raise error

    monkeypatch.setattr(commands, "migrate", migrate)

    assert main(["migrate"]) == 2
    printed = capsys.readouterr()
    assert printed.err == f"timeline migrate: {error}\n"
    assert printed.out == ""


def test_the_command_line_leaves_an_error_of_no_category_as_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def migrate(_: object) -> int:
        raise KeyError("kursk")

    monkeypatch.setattr(commands, "migrate", migrate)

    with pytest.raises(KeyError):
        main(["migrate"])
