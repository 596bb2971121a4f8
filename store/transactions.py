"""A transaction whose statements run in the background of its block (an import's parts,
its fingerprints): committed when the block ends if what it did is to be kept, rolled back
when it raises or is not, each time once the statement under way has ended (asyncpg sends
nothing else on a connection while one is)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def committed_if(
    connection: asyncpg.Connection, kept: Callable[[], bool], settle: Callable[[], Awaitable[None]]
) -> AsyncIterator[None]:
    """A transaction on `connection` around the block: committed at its end if `kept()`,
    else, or when it raises, rolled back once `settle()` has returned."""
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield
    except BaseException:
        await settle()
        await transaction.rollback()
        raise
    if kept():
        await transaction.commit()
    else:
        await settle()
        await transaction.rollback()
