"""Alembic environment: runs migrations over SQLAlchemy's asyncpg dialect.

The URL comes from the config's `sqlalchemy.url` (set by `timeline migrate`) or, for plain
`alembic` use, from TIMELINE_OWNER_DATABASE_URL, else TIMELINE_DATABASE_URL: migrations run
as the schema's owner.
"""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from store.migrate import sqlalchemy_url

config = context.config
url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(
    os.environ.get("TIMELINE_OWNER_DATABASE_URL") or os.environ["TIMELINE_DATABASE_URL"]
)


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async_migrations())
