"""The two roles: the schema's owner migrates, the service role reads and appends.

Migration 0009 grants the service's privileges to `timeline_service`, a role with a fixed
name so that the migration can name it. The service logs in as that role, or as any role
that is a member of it (PostgreSQL passes a member its group's privileges). Roles belong to
the whole server, not to one database, so they are made here, by `timeline migrate`,
before the migrations run: it creates what is missing when the migrating role may create
roles (a superuser, or CREATEROLE), and otherwise stops with the exact statements for
somebody who may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import asyncpg

from domain.errors import Forbidden
from store.settings import DATABASE_URL_VARIABLE, password_of, user_of

# The name migration 0009 grants to (it cannot import it: migrations are frozen text).
SERVICE_ROLE = "timeline_service"
SCRAM_ITERATIONS = 4096

ROLES = """
SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = ANY($1::text[])
"""
MIGRATING_ROLE = """
SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user
"""


class RolesNeeded(Forbidden):
    """Roles are missing and the migrating role may not create them."""


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str  # what runs: a password goes as a SCRAM verifier, never in clear text
    shown: str  # what is printed: the password is named, not shown


@dataclass(frozen=True, slots=True)
class RolePlan:
    migrating_role: str
    may_create_roles: bool
    statements: tuple[Statement, ...]
    warnings: tuple[str, ...]


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scram_verifier(password: str) -> str:
    """What PostgreSQL stores for `password` under SCRAM-SHA-256 (RFC 5802, as psql's
    \\password computes it), so that CREATE ROLE never carries the password itself into the
    server's statement log. SASLprep leaves printable ASCII as it is; other passwords go in
    clear text, for the server to prepare and hash."""
    if not (password.isascii() and password.isprintable()):
        return password
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    stored_key = hashlib.sha256(client_key).digest()
    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _login(role: str, password: str | None, verb: str) -> Statement:
    sql = shown = f"{verb} ROLE {quoted(role)} LOGIN"
    if password is not None:
        sql += " PASSWORD '" + scram_verifier(password).replace("'", "''") + "'"
        shown += f" PASSWORD '<the password in {DATABASE_URL_VARIABLE}>'"
    return Statement(sql, shown)


async def plan_roles(connection: asyncpg.Connection, service_url: str) -> RolePlan:
    """What must change for the service to log in with `service_url` as a member of the
    service role; `connection` is the migrating role's."""
    me, may_create = await connection.fetchrow(MIGRATING_ROLE)
    user, password = user_of(service_url), password_of(service_url)
    found = {row[0]: row for row in await connection.fetch(ROLES, [SERVICE_ROLE, user])}
    statements: list[Statement] = []
    warnings: list[str] = []
    service_logs_in = user == SERVICE_ROLE
    if SERVICE_ROLE not in found:
        if service_logs_in:
            statements.append(_login(SERVICE_ROLE, password, "CREATE"))
        else:
            statements.append(Statement(*[f"CREATE ROLE {SERVICE_ROLE} NOLOGIN"] * 2))
    elif service_logs_in and not found[SERVICE_ROLE]["rolcanlogin"]:
        statements.append(_login(SERVICE_ROLE, password, "ALTER"))
    if user == me:
        warnings.append(
            f"the service logs in as {user}, the role that migrates and owns the tables, so "
            "nothing stops it from rewriting the log: point TIMELINE_OWNER_DATABASE_URL at "
            f"the owner and {DATABASE_URL_VARIABLE} at {SERVICE_ROLE} (or a member of it)"
        )
    elif not service_logs_in:
        if user not in found:
            statements.append(_login(user, password, "CREATE"))
        if user not in found or SERVICE_ROLE not in found or not await _is_member(connection, user):
            grant = f"GRANT {SERVICE_ROLE} TO {quoted(user)}"
            statements.append(Statement(grant, grant))
    if user in found and found[user]["rolsuper"] and user != me:
        warnings.append(
            f"the service logs in as {user}, a superuser: nothing stops it from rewriting the "
            f"log; log in as {SERVICE_ROLE} instead"
        )
    return RolePlan(me, bool(may_create), tuple(statements), tuple(warnings))


async def _is_member(connection: asyncpg.Connection, user: str) -> bool:
    return bool(
        await connection.fetchval("SELECT pg_has_role($1, $2, 'USAGE')", user, SERVICE_ROLE)
    )


async def make_roles(connection: asyncpg.Connection, plan: RolePlan) -> None:
    """Run the plan's statements; RolesNeeded, listing them, if the role may not."""
    if not plan.statements:
        return
    if not plan.may_create_roles:
        why = f"the role {plan.migrating_role} cannot create roles"
        raise RolesNeeded(_instructions(plan.statements, why))
    for done, statement in enumerate(plan.statements):
        try:
            await connection.execute(statement.sql)
        except asyncpg.InsufficientPrivilegeError as error:
            # e.g. GRANT of a role somebody else created, without its ADMIN OPTION.
            why = f"{plan.migrating_role} may not: {error}"
            raise RolesNeeded(_instructions(plan.statements[done:], why)) from None


def _instructions(statements: tuple[Statement, ...], why: str) -> str:
    lines = "\n".join(f"  {statement.shown};" for statement in statements)
    return (
        f"{why}; run these statements as a superuser or a role with CREATEROLE, then "
        f"`timeline migrate` again (the schema was not migrated):\n{lines}"
    )
