"""The password `timeline migrate` gives the service's login role is the one in its URL,
though the statement carries only a SCRAM verifier (never the password, which the server
could log). Checked on a server of its own whose pg_hba asks that role for a password."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from store.embedded import start_embedded
from store.roles import make_roles, plan_roles
from store.settings import with_user

SERVICE = "kursk_service"
PASSWORD = "Kursk 1,376 km2, 'at most'"


async def test_the_service_logs_in_with_the_password_in_its_url(tmp_path: Path) -> None:
    owner_url = start_embedded(tmp_path)
    hba = tmp_path / "pgdata" / "pg_hba.conf"
    hba.write_text(f"local all {SERVICE} scram-sha-256\n" + hba.read_text())
    owner = await asyncpg.connect(owner_url)
    try:
        await owner.execute("SELECT pg_reload_conf()")
        await owner.execute("CREATE ROLE timeline_service NOLOGIN")
        service_url = with_user(owner_url, SERVICE, PASSWORD)

        # When migrate makes the service's login role from its URL
        await make_roles(owner, await plan_roles(owner, service_url))

        # Then what the server keeps is a verifier, and the URL's password opens it
        stored = await owner.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", SERVICE
        )
        assert stored.startswith("SCRAM-SHA-256$4096:")
        service = await asyncpg.connect(service_url)
        assert await service.fetchval("SELECT pg_has_role('timeline_service', 'USAGE')")
        await service.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(with_user(owner_url, SERVICE, "800 km2"))
    finally:
        await owner.close()
