"""Where the database is: a URL from the environment, or the embedded server's."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DATABASE_URL_VARIABLE = "TIMELINE_DATABASE_URL"
DATA_DIR_VARIABLE = "TIMELINE_DATA_DIR"
DEFAULT_DATA_DIR = Path(".timeline")


def configured_database_url() -> str | None:
    return os.environ.get(DATABASE_URL_VARIABLE) or None


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
