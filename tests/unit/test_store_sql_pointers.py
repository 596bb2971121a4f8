"""The store's appends call PL/pgSQL functions that exist only inside migrations, so the
store's docstrings say which migration holds each one. These tests keep those pointers true:
a migration that replaces `timeline_append` or `timeline_append_group` and a docstring still
naming the older definition fail here, before a reader is sent to the wrong file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
MIGRATIONS = ROOT / "migrations" / "versions"
# The modules whose docstrings point at the SQL: the store (at all of it), and the modules
# that call it (at what each calls).
STORE = "store/event_store.py"
POINTING = (STORE, "store/group_commit.py", "store/append_parts.py")

CREATED = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(\w+)\s*\(")
CALLED = re.compile(r"\bFROM\s+(timeline_\w+)\s*\(")
POINTER = re.compile(r"`(\w+)`\s*\(\s*migrations/versions/(\w+)\.py")
NAMED_MIGRATION = re.compile(r"\b(\d{4}_\w+)\.py")


def _module(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"))


def _docstring(path: str) -> str:
    return ast.get_docstring(_module(path)) or ""


def _statements(path: str) -> list[str]:
    """The module's SQL: every string it assigns at the top level."""
    return [
        node.value.value
        for node in _module(path).body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def _every_call() -> dict[str, list[str]]:
    """Each function the store calls, with every statement that calls it."""
    calls: dict[str, list[str]] = {}
    for path in sorted((ROOT / "store").glob("*.py")):
        for statement in _statements(str(path.relative_to(ROOT))):
            for name in CALLED.findall(statement):
                calls.setdefault(name, []).append(statement)
    return calls


def _calls_in(path: str) -> set[str]:
    """The functions the module at `path` calls."""
    return {name for statement in _statements(path) for name in CALLED.findall(statement)}


def _calls() -> dict[str, str]:
    """Each function the store calls, with a statement that calls it."""
    return {name: statements[0] for name, statements in _every_call().items()}


def _latest_definitions() -> dict[str, str]:
    """Each function, with the last migration (in revision order) that writes its body."""
    latest: dict[str, str] = {}
    for migration in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py")):
        for name in CREATED.findall(migration.read_text(encoding="utf-8")):
            latest[name] = migration.stem
    return latest


def _inside_parentheses(text: str, start: int) -> list[str]:
    """The comma-separated parts of `text` from `start` (just after an opening parenthesis)
    to its closing one."""
    depth, end = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        end += 1
    parts, depth, last = [], 0, start
    for index in range(start, end - 1):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if text[index] == "," and depth == 0:
            parts.append(text[last:index].strip())
            last = index + 1
    parts.append(text[last : end - 1].strip())
    return [part for part in parts if part]


def _parameters_taken(name: str, migration: str) -> tuple[int, int]:
    """How many arguments the function's definition in `migration` needs and takes (OUT
    ones aside; one with a DEFAULT may be left out)."""
    text = (MIGRATIONS / f"{migration}.py").read_text(encoding="utf-8")
    definitions = [match for match in CREATED.finditer(text) if match.group(1) == name]
    parameters = [
        part
        for part in _inside_parentheses(text, definitions[0].end())
        if not part.upper().startswith("OUT ")
    ]
    needed = sum(1 for part in parameters if " DEFAULT " not in part.upper())
    return needed, len(parameters)


def _arguments_passed(name: str, statement: str) -> int:
    call = next(match for match in CALLED.finditer(statement) if match.group(1) == name)
    return len(_inside_parentheses(statement, call.end()))


def test_the_store_calls_the_append_functions_the_migrations_define() -> None:
    calls = _calls()
    assert {"timeline_append", "timeline_append_group"} <= set(calls)
    assert set(calls) <= set(_latest_definitions())


@pytest.mark.parametrize("path", POINTING)
def test_the_docstring_names_the_latest_migration_of_each_function_the_store_calls(
    path: str,
) -> None:
    pointers = dict(POINTER.findall(_docstring(path)))
    latest = _latest_definitions()
    called = set(_calls()) if path == STORE else _calls_in(path)
    assert called
    assert called <= set(pointers), f"{path} does not say where each function lives"
    for name, migration in pointers.items():
        assert (MIGRATIONS / f"{migration}.py").is_file(), f"{path}: no {migration}.py"
        assert latest.get(name) == migration, (
            f"{path} sends readers to {migration}.py for `{name}`, "
            f"last defined in {latest.get(name)}.py"
        )


@pytest.mark.parametrize("path", POINTING)
def test_every_migration_the_docstring_names_exists(path: str) -> None:
    named = set(NAMED_MIGRATION.findall(_docstring(path)))
    assert named
    assert {name for name in named if not (MIGRATIONS / f"{name}.py").is_file()} == set()


def test_each_call_passes_as_many_arguments_as_the_pointed_definition_takes() -> None:
    latest = _latest_definitions()
    for name, statements in _every_call().items():
        needed, taken = _parameters_taken(name, latest[name])
        for statement in statements:
            assert needed <= _arguments_passed(name, statement) <= taken, (name, statement)
