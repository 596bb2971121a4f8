"""Running alembic from the code, and checking that a database is at head."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from domain.errors import Unavailable

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class NotMigrated(Unavailable):
    """The schema is not at the newest migration: `timeline migrate` brings it there."""


def sqlalchemy_url(url: str) -> str:
    """The same database as an SQLAlchemy URL over asyncpg (the one driver we use)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgres", "postgresql"):
        raise ValueError(f"expected a postgresql:// URL, got {scheme or url!r}")
    return f"postgresql+asyncpg://{rest}"


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolation would eat a literal '%' in a password.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql://unused/")).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def check_at_head(connection: asyncpg.Connection) -> None:
    """Raise NotMigrated with a one-line explanation unless the schema is at head."""
    head = head_revision()
    has_table = await connection.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
    current = (
        await connection.fetchval("SELECT version_num FROM alembic_version") if has_table else None
    )
    if current != head:
        found = "no migrations applied" if current is None else f"revision {current}"
        raise NotMigrated(
            f"the database is not migrated ({found}, code needs {head}); run `timeline migrate`"
        )
