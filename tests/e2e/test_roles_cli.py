"""`timeline migrate` and the two roles: it creates the service's login role when the owner
may, and otherwise prints the statements for somebody who may, migrating nothing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from store.roles import SERVICE_ROLE
from store.settings import with_database, with_user
from tests.e2e.conftest import RunTimeline, service_env

PASSWORD = "Kherson-11-November"  # trust auth (the embedded server) ignores it


@dataclass(frozen=True)
class Deployment:
    owner: str  # the owner's role name
    service: str  # the service's login role name
    owner_url: str
    service_url: str


@pytest.fixture
async def deployment(server_url: str, database_url: str) -> AsyncIterator[Deployment]:
    """A database owned by a role that may not create roles, and the name of a service login
    that does not exist yet (the session database has made `timeline_service`)."""
    suffix = secrets.token_hex(3)
    owner, service, name = f"kursk_owner_{suffix}", f"berdiansk_{suffix}", f"timeline_{suffix}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f"CREATE ROLE {owner} LOGIN NOCREATEROLE")
    await admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
    url = with_database(server_url, name)
    try:
        yield Deployment(owner, service, with_user(url, owner), with_user(url, service, PASSWORD))
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.execute(f"DROP ROLE IF EXISTS {service}")
        await admin.execute(f"DROP ROLE {owner}")
        await admin.close()


async def test_an_owner_that_cannot_create_roles_gets_the_statements_and_nothing_is_migrated(
    run_timeline: RunTimeline, deployment: Deployment, server_url: str
) -> None:
    env = service_env(deployment.service_url, deployment.owner_url)

    # When the owner, who may not create roles, migrates
    refused = await asyncio.to_thread(run_timeline, "migrate", env=env)

    # Then it is told what to run, exactly, with the password named and not shown
    assert refused.returncode == 2
    assert f"the role {deployment.owner} cannot create roles" in refused.stderr
    statements = [line.strip() for line in refused.stderr.splitlines() if line.startswith("  ")]
    assert statements == [
        f'CREATE ROLE "{deployment.service}" LOGIN PASSWORD '
        "'<the password in TIMELINE_DATABASE_URL>';",
        f'GRANT {SERVICE_ROLE} TO "{deployment.service}";',
    ]
    assert PASSWORD not in refused.stdout + refused.stderr
    # and nothing was migrated
    owner = await asyncpg.connect(deployment.owner_url)
    try:
        assert await owner.fetchval("SELECT to_regclass('alembic_version')") is None
    finally:
        await owner.close()

    # When a superuser runs them, the owner's next migrate goes through
    admin = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await admin.execute(
                statement.replace("<the password in TIMELINE_DATABASE_URL>", PASSWORD)
            )
    finally:
        await admin.close()
    migrated = await asyncio.to_thread(run_timeline, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stderr == ""

    # And the service, logged in as its own role, records and reads the demo
    demo = await asyncio.to_thread(run_timeline, "demo", env=env)
    assert demo.returncode == 0, demo.stderr
    log = await asyncio.to_thread(run_timeline, "log", "--json", env=env)
    assert len(log.stdout.splitlines()) == 16


async def test_one_url_for_both_roles_migrates_with_a_warning(
    run_timeline: RunTimeline, deployment: Deployment
) -> None:
    result = await asyncio.to_thread(
        run_timeline, "migrate", env={"TIMELINE_DATABASE_URL": deployment.owner_url}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        f"timeline migrate: warning: the service logs in as {deployment.owner}, the role that "
        "migrates and owns the tables"
    )


def test_restore_as_the_service_role_is_refused_in_one_line(
    run_timeline: RunTimeline, service_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "kursk.ndjson"
    export.write_text("")
    result = run_timeline("restore", str(export), env={"TIMELINE_DATABASE_URL": service_url})
    assert result.returncode == 2
    assert result.stderr == (
        "timeline restore: only the schema's owner may restore (it writes events with their "
        "recorded positions and chain hashes): set TIMELINE_OWNER_DATABASE_URL to the owner's "
        "URL\n"
    )
