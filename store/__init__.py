"""Infrastructure: PostgreSQL through asyncpg, the event store, the embedded server."""
