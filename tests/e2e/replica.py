"""A PostgreSQL primary and a streaming hot standby of it, made with the binaries the
embedded server runs (the `pgserver` wheel's): the primary is an embedded server of its own,
the standby a `pg_basebackup -R` copy of it started on a socket of its own. As root, the
servers run as pgserver's own system user, as the embedded one does."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from store import migrate, roles
from store.embedded import start_embedded
from store.settings import with_database, with_user
from tests.e2e.topology import free_port

START_SECONDS = 60.0
DATABASE = "timeline"


def _binaries() -> Path:
    with warnings.catch_warnings():  # as store/embedded.py imports it
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH  # noqa: PLC0415

    return Path(POSTGRES_BIN_PATH)


def _stop_embedded(pgdata: Path) -> None:
    """Stop the embedded server `start_embedded` started in this process (its last user)."""
    import pgserver  # noqa: PLC0415

    server: Any = pgserver.get_server(pgdata)  # type: ignore[attr-defined]
    server.cleanup()


def pg_basebackup() -> Path | None:
    """The embedded server's own pg_basebackup, if its wheel ships one."""
    binary = _binaries() / "pg_basebackup"
    return binary if binary.exists() else None


@dataclass(frozen=True)
class Standby:
    """The standby's data, socket and port, and how to start and stop it."""

    data: Path
    sockets: Path
    port: int
    log: Path
    user: str | None

    @property
    def owner_url(self) -> str:
        """As its superuser (to pause its replay)."""
        return f"postgresql://postgres@/{DATABASE}?host={self.sockets}&port={self.port}"

    def start(self) -> None:
        options = f'-h "" -k {self.sockets} -p {self.port}'
        pg_ctl = [str(_binaries() / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.log)]
        _run([*pg_ctl, "-o", options, "start"], self.user)
        _until_standby_answers(self.owner_url)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():  # not stopped already by the test
            pg_ctl = [str(_binaries() / "pg_ctl"), "-D", str(self.data)]
            _run([*pg_ctl, "-m", "fast", "stop"], self.user)


@dataclass(frozen=True)
class Cluster:
    owner_url: str  # the primary, as the schema's owner
    service_url: str  # the primary, as the service role
    standby: Standby

    @property
    def read_url(self) -> str:
        """The standby, as the service role."""
        return with_user(self.standby.owner_url, roles.SERVICE_ROLE)


def _system_user() -> str | None:
    # PostgreSQL refuses to run as root; pgserver then runs it as a user of its own.
    return "pgserver" if os.geteuid() == 0 else None


def _run(command: list[str], user: str | None) -> None:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, user=user
    )
    assert done.returncode == 0, f"{command[0]}: {done.stdout}\n{done.stderr}"


async def _execute(url: str, *statements: str) -> Any:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            result = await connection.fetchval(statement)
    finally:
        await connection.close()
    return result


def _until_standby_answers(url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            assert asyncio.run(_execute(url, "SELECT pg_is_in_recovery()")) is True
        except (OSError, asyncpg.PostgresError):
            assert time.monotonic() < deadline, "the standby did not answer"
            time.sleep(0.2)
        else:
            return


@contextmanager
def primary_and_standby() -> Iterator[Cluster]:
    binary = pg_basebackup()
    assert binary is not None
    user = _system_user()
    # Short paths: a Unix socket's path may not be longer than about 100 bytes.
    base = Path(tempfile.mkdtemp(prefix="tl-replica-"))
    owner_root = start_embedded(base / "primary")
    try:
        # The views' batches commit without waiting for their WAL to be flushed, and a
        # standby is sent only flushed WAL: the WAL writer's pause (200 ms by default) is
        # how long a quiet primary's standby may trail its views (README: read replicas).
        asyncio.run(
            _execute(
                owner_root,
                "ALTER SYSTEM SET wal_writer_delay = '10ms'",
                "SELECT pg_reload_conf()",
                f'CREATE DATABASE "{DATABASE}"',
            )
        )
        owner_url = with_database(owner_root, DATABASE)
        migrate.upgrade(owner_url)
        service_url = with_user(owner_url, roles.SERVICE_ROLE)

        async def make_roles() -> None:
            connection = await asyncpg.connect(owner_url)
            try:
                await roles.make_roles(connection, await roles.plan_roles(connection, service_url))
            finally:
                await connection.close()

        asyncio.run(make_roles())
        standby_data, sockets = base / "standby", base / "sockets"
        sockets.mkdir(mode=0o777)
        sockets.chmod(0o777)  # whatever the umask
        if user is not None:
            os.chown(base, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        primary_socket = owner_root.rpartition("host=")[2]
        _run(
            # A checkpoint now, rather than spread over minutes as a live server's is
            [
                str(binary),
                "-h",
                primary_socket,
                "-U",
                "postgres",
                "-D",
                str(standby_data),
                "-R",
                "--checkpoint=fast",
            ],
            user,
        )
        standby = Standby(standby_data, sockets, free_port(), base / "standby.log", user)
        standby.start()
        try:
            yield Cluster(owner_url=owner_url, service_url=service_url, standby=standby)
        finally:
            standby.stop()
    finally:
        _stop_embedded(base / "primary" / "pgdata")
        shutil.rmtree(base, ignore_errors=True)
