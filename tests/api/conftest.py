"""The API over a real PostgreSQL: the whole app (lifespans included: pool, in-memory views,
projection runners) driven in-process by litestar's AsyncTestClient, plus one key per role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import ApiSettings
from store.api_keys import Role, create_key
from store.database import Database

Client = AsyncTestClient[Litestar]


class Keys:
    def __init__(self, reader: str, editor: str, admin: str) -> None:
        self.reader = reader
        self.editor = editor
        self.admin = admin

    @staticmethod
    def header(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def keys(pool: asyncpg.Pool) -> Keys:
    created = [await create_key(pool, f"test {role.value}", role) for role in Role]
    return Keys(*(key.secret for key in created))


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(default_wait_seconds=3.0)


@pytest.fixture
async def client(
    pool: asyncpg.Pool, service_url: str, keys: Keys, api_settings: ApiSettings
) -> AsyncIterator[Client]:
    """A client of the full app logged in as the service role, sending the editor key
    unless a test sends another."""
    app = create_app(Database(url=service_url, embedded=False), settings=api_settings)
    async with AsyncTestClient(app=app, timeout=30) as client:
        client.headers.update(Keys.header(keys.editor))
        yield client
