"""Where the database is: URLs from the environment, or the embedded server's.

Two roles reach it (least privilege, migration 0009): the service's role, which reads the
log and appends to it only through `timeline_append`, and the owner of the schema, which
migrates and restores. TIMELINE_DATABASE_URL is the service's: the URL every long-running
process holds keeps the name it always had, so a deployment that sets only it runs as
before. TIMELINE_OWNER_DATABASE_URL is the owner's, named for the role it must be rather
than for one command, since `timeline migrate` and `timeline restore` both use it; unset, it
falls back to TIMELINE_DATABASE_URL (one role does both, and `timeline migrate` warns).
TIMELINE_READ_DATABASE_URL, when set, is a hot standby of that server which the API reads
its views from (api/app.py says which reads); everything else stays on the primary.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from domain.errors import Invalid

DATABASE_URL_VARIABLE = "TIMELINE_DATABASE_URL"
OWNER_DATABASE_URL_VARIABLE = "TIMELINE_OWNER_DATABASE_URL"
READ_DATABASE_URL_VARIABLE = "TIMELINE_READ_DATABASE_URL"
DATA_DIR_VARIABLE = "TIMELINE_DATA_DIR"
DEFAULT_DATA_DIR = Path(".timeline")


def configured_database_url() -> str | None:
    return os.environ.get(DATABASE_URL_VARIABLE) or None


def configured_owner_database_url() -> str | None:
    return os.environ.get(OWNER_DATABASE_URL_VARIABLE) or configured_database_url()


def configured_read_database_url() -> str | None:
    return os.environ.get(READ_DATABASE_URL_VARIABLE) or None


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR).resolve()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{location}"


def with_database(url: str, database: str) -> str:
    """The same server's URL, naming another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_user(url: str, user: str, password: str | None = None) -> str:
    """The same server and database, reached as another role."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    credentials = quote(user, safe="") + (
        "" if password is None else ":" + quote(password, safe="")
    )
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


def user_of(url: str) -> str:
    """The role a URL logs in as, found as libpq and asyncpg find it: in the URL, then its
    `user` parameter, then PGUSER, then the operating system's user."""
    parts = urlsplit(url)
    if parts.username:
        return unquote(parts.username)
    named = parse_qs(parts.query).get("user")
    return (named[0] if named else None) or os.environ.get("PGUSER") or getpass.getuser()


def password_of(url: str) -> str | None:
    password = urlsplit(url).password
    return unquote(password) if password else None


APPEND_GROUP_MAX_VARIABLE = "TIMELINE_APPEND_GROUP_MAX"
# PostgreSQL caches up to 64 subtransactions per transaction (PGPROC_MAX_CACHED_SUBXIDS);
# past that, every other session's snapshot must look them up on disk while the group is
# open. Each append of a group that writes is one subtransaction (migration 0016).
DEFAULT_APPEND_GROUP_MAX = 64


class InvalidSetting(Invalid, ValueError):
    """An environment variable's value this service cannot use."""


def append_group_max() -> int:
    """The most appends that one transaction of the log holds (store/group_commit.py)."""
    text = os.environ.get(APPEND_GROUP_MAX_VARIABLE, "").strip()
    if not text:
        return DEFAULT_APPEND_GROUP_MAX
    if not text.isdigit() or int(text) < 1:
        raise InvalidSetting(
            f"{APPEND_GROUP_MAX_VARIABLE} must be a whole number from 1, not {text!r}"
        )
    return int(text)
