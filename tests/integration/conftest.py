"""Fixtures of the integration tests beyond the project's (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_proxy import CuttingProxy, running


@pytest.fixture
def proxy(database_url: str, tmp_path: Path) -> Iterator[CuttingProxy]:
    """A proxy to the test database that can cut the connection after an append."""
    with running(CuttingProxy(database_url, tmp_path)) as proxy:
        yield proxy
