"""The layers stay as drawn: each package of the project imports only the packages beneath it.

    domain  <-  store  <-  projections, application  <-  seed  <-  api  <-  cli  <-  bench

`domain/` is the war's vocabulary and nothing else (no SQL, no HTTP); the store keeps the log
of domain events; the projections fold that log into views and the application turns commands
into events, neither knowing the other; the seed article's reports are filed through the
application (`timeline demo`, the API's examples); the API answers from both; the CLI serves
the API and drives the rest. Migrations stand alone: a migration that imported today's code
would change meaning when the code does. Read from the source with `ast` (every import,
including those inside functions and `TYPE_CHECKING` blocks), so a broken rule is named
before it runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Which of the project's packages each package (or folder of one) may import besides itself;
# a module follows the rule of the deepest folder that has one. Alembic's environment finds
# the database as the store does; a revision imports nothing of the project, as one that
# imported today's code would change meaning when the code does.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "store": frozenset({"domain"}),
    "projections": frozenset({"domain", "store"}),
    "application": frozenset({"domain", "store"}),
    "seed": frozenset({"domain", "store", "application"}),
    "api": frozenset({"domain", "store", "projections", "application", "seed"}),
    "cli": frozenset({"domain", "store", "projections", "application", "seed", "api"}),
    "bench": frozenset({"domain", "store", "projections", "application", "seed", "api", "cli"}),
    "migrations": frozenset({"store"}),
    "migrations/versions": frozenset(),
}
PROJECT = frozenset(folder.split("/")[0] for folder in MAY_IMPORT) | {"tests"}

# What would make the domain more than the war's vocabulary: a database, HTTP, a server.
INFRASTRUCTURE = frozenset(
    {
        "alembic",
        "asyncpg",
        "granian",
        "httpx",
        "litestar",
        "pgserver",
        "prometheus_client",
        "psycopg",
        "sqlalchemy",
        "uvicorn",
    }
)


def _packages() -> list[str]:
    return sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name != "tests" and not path.parent.name.startswith(".")
    )


def _imports(root: Path, path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, with its line, in line order: `from x import y` as x,
    relative imports resolved against `path`'s package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                package = path.relative_to(root).parent.parts
                base = package[: len(package) - node.level + 1]
                module = ".".join((*base, module)) if module else ".".join(base)
            found.append((node.lineno, module))
    return sorted(found)


def _rule_of(where: Path) -> str:
    """The folder whose rule a module at `where` (relative to the root) follows."""
    folders = ["/".join(where.parts[:depth]) for depth in range(len(where.parts) - 1, 0, -1)]
    return next(folder for folder in folders if folder in MAY_IMPORT)


def _broken_rules(
    package: str, *, foreign: frozenset[str] = frozenset(), root: Path = ROOT
) -> list[str]:
    """Each import in `package` that breaks its rule, as "where:line imports what (rule)"."""
    broken = []
    for path in sorted((root / package).rglob("*.py")):
        where = path.relative_to(root)
        folder = _rule_of(where)
        allowed = MAY_IMPORT[folder]
        for line, module in _imports(root, path):
            top = module.split(".")[0]
            if top in foreign:
                broken.append(f"{where}:{line} imports {module} ({folder}/ may not import {top})")
            elif top in PROJECT and top != package and top not in allowed:
                may = ", ".join(sorted(allowed)) or "nothing of the project"
                broken.append(f"{where}:{line} imports {module} ({folder}/ may import {may})")
    return broken


def test_every_package_of_the_project_has_its_place_in_the_layers() -> None:
    # A new package must say what it may import, or it would escape every rule.
    assert [name for name in _packages() if name not in MAY_IMPORT] == []
    assert sorted(folder for folder in MAY_IMPORT if not (ROOT / folder).is_dir()) == []


def test_each_layer_imports_only_the_layers_beneath_it() -> None:
    # A package with no rule yet is the test above's to name.
    ruled = [package for package in _packages() if package in MAY_IMPORT]
    broken = [line for package in ruled for line in _broken_rules(package)]
    message = "\n".join(broken)
    assert not broken, f"imports across the layers the wrong way:\n{message}"


def test_the_domain_imports_no_database_and_no_http() -> None:
    broken = _broken_rules("domain", foreign=INFRASTRUCTURE)
    message = "\n".join(broken)
    assert not broken, f"domain/ is pure (no SQL, no HTTP, no server):\n{message}"


def test_the_rules_name_a_projection_that_imports_the_application(tmp_path: Path) -> None:
    # Given a projection that reaches the application layer, inside a function and by a
    # relative import, and one that imports only the domain and the store
    (tmp_path / "projections").mkdir()
    (tmp_path / "projections" / "wording.py").write_text(
        "from domain.summaries import claim_text\n"
        "from ..application import reports\n"
        "\n"
        "def file_kursk() -> None:\n"
        "    from application.commands import FileReport\n"
    )
    (tmp_path / "projections" / "kursk.py").write_text(
        "from domain.recorded import LogEntry\nfrom store.event_store import MAX_POSITION\n"
    )
    # When the rules read them, then each wrong import is named with its module and line
    rule = "(projections/ may import domain, store)"
    assert _broken_rules("projections", root=tmp_path) == [
        f"projections/wording.py:2 imports application {rule}",
        f"projections/wording.py:5 imports application.commands {rule}",
    ]
