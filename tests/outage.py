"""A database outage on demand: a TCP proxy in front of the test database whose `down()`
cuts every connection through it and refuses new ones until `up()`."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlsplit, urlunsplit


class Outage:
    def __init__(self, database_url: str) -> None:
        self._target = urlsplit(database_url)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.is_down = False
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        query = "&".join(
            f"{k}={v[0]}" for k, v in parse_qs(self._target.query).items() if k != "host"
        )
        user = self._target.netloc.rsplit("@", 1)[0] if "@" in self._target.netloc else ""
        netloc = f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
        self.url = urlunsplit(("postgresql", netloc, self._target.path, query, ""))

    async def close(self) -> None:
        self.down()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def down(self) -> None:
        self.is_down = True
        for writer in list(self._open):
            writer.close()

    def up(self) -> None:
        self.is_down = False

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = parse_qs(self._target.query).get("host", [None])[0]
        port = self._target.port or 5432
        if socket_dir is not None and socket_dir.startswith("/"):
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(self._target.hostname or "localhost", port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_down:
            writer.close()
            return
        up_reader, up_writer = await self._upstream()
        self._open.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._open.difference_update((writer, up_writer))
