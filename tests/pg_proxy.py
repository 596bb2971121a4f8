"""A PostgreSQL wire-protocol proxy that can cut a connection just after the server commits.

It forwards bytes both ways on a Unix socket of its own and reads the messages as they pass:
the client's Parse and Bind tell it when a call of `timeline_append` is under way, and the
server's ReadyForQuery after that call means the call's transaction has committed (an
implicit transaction commits at Sync, before ReadyForQuery is sent). Armed, it drops that
answer and closes both sides: the client has sent everything and lost the connection, and
the events are in the log — the outage the issue saw, made deterministic.

It runs on an event loop of its own, in a thread (`running`): litestar's test client waits
for the app's startup by blocking the test's loop, and the app connects through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

T = TypeVar("T")

APPEND_CALL = b"timeline_append"
READY_FOR_QUERY = ord("Z")


class Messages:
    """Splits one direction's bytes into (type, body) messages; the client's first message
    (the startup packet) has no type byte."""

    def __init__(self, *, untyped_first: bool) -> None:
        self.buffer = b""
        self.untyped = untyped_first

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buffer += data
        messages: list[tuple[int, bytes]] = []
        while True:
            header = 4 if self.untyped else 5
            if len(self.buffer) < header:
                return messages
            (length,) = struct.unpack("!i", self.buffer[header - 4 : header])
            end = header - 4 + length
            if len(self.buffer) < end:
                return messages
            kind = 0 if self.untyped else self.buffer[0]
            messages.append((kind, self.buffer[header:end]))
            self.buffer = self.buffer[end:]
            self.untyped = False


class CuttingProxy:
    def __init__(self, target_url: str, directory: Path) -> None:
        parts = urlsplit(target_url)
        query = parse_qs(parts.query)
        self.port = parts.port or int(query.get("port", ["5432"])[0])
        host = query.get("host", [parts.hostname or "localhost"])[0]
        self.target = (
            str(Path(host) / f".s.PGSQL.{self.port}") if host.startswith("/") else (host, self.port)
        )
        self.directory = directory
        netloc = parts.netloc.rpartition("@")[0]
        query["host"] = [str(directory)]
        query["port"] = [str(self.port)]
        self.url = urlunsplit(
            parts._replace(netloc=f"{netloc}@", query=urlencode(query, doseq=True))
        )
        self.cut_next_append = False
        self.cuts = 0
        self.open: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the proxy's loop and wait for it (from any other thread)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)

    async def start(self) -> None:
        path = self.directory / f".s.PGSQL.{self.port}"
        self.server = await asyncio.start_unix_server(self._serve, path=str(path))

    async def stop_accepting_and_drop_all(self) -> None:
        """The database is gone, as far as the clients can tell."""
        if self.server is not None:
            self.server.close()
        for writer in list(self.open):
            writer.close()

    async def close(self) -> None:
        await self.stop_accepting_and_drop_all()
        if self.server is not None:
            await self.server.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(self.target, str):
            return await asyncio.open_unix_connection(self.target)
        return await asyncio.open_connection(*self.target)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await self._connect()
        self.open.update((client_out, server_out))
        statements: dict[bytes, bytes] = {}
        in_flight = asyncio.Event()  # a call of timeline_append was sent, not yet answered

        async def from_client() -> None:
            messages = Messages(untyped_first=True)
            while data := await client_in.read(65536):
                for kind, body in messages.feed(data):
                    if kind == ord("P"):
                        name, query = body.split(b"\0")[:2]
                        statements[name] = query
                    elif kind == ord("B"):
                        statement = body.split(b"\0")[1]
                        if APPEND_CALL in statements.get(statement, b""):
                            in_flight.set()
                    elif kind == ord("Q") and APPEND_CALL in body:
                        in_flight.set()
                server_out.write(data)
                await server_out.drain()

        async def from_server() -> None:
            messages = Messages(untyped_first=False)
            while data := await server_in.read(65536):
                committed = (
                    any(kind == READY_FOR_QUERY for kind, _ in messages.feed(data))
                    and in_flight.is_set()
                )
                if committed:
                    in_flight.clear()
                    if self.cut_next_append:
                        self.cut_next_append = False
                        self.cuts += 1
                        return  # the answer is dropped; the finally below closes both sides
                client_out.write(data)
                await client_out.drain()

        tasks = [asyncio.ensure_future(from_client()), asyncio.ensure_future(from_server())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for writer in (client_out, server_out):
                self.open.discard(writer)
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()


@contextlib.contextmanager
def running(proxy: CuttingProxy) -> Iterator[CuttingProxy]:
    """The proxy serving from a thread of its own until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    proxy.loop = loop
    try:
        proxy.call(proxy.start())
        yield proxy
    finally:
        proxy.call(proxy.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
