"""The batches of a process's stateless runners, read and written together.

Each view's runner (projections/runner.py) keeps its own lock, generation and pace; when it
asks for its next batch, the group waits a moment for the process's other runners to ask too,
and answers all of those standing at the same position with one read of the log and one
transaction (`versioned_batches.next_batches`), instead of one each. On a busy server a round
trip costs more than the work it carries: at 500 appends a second over a log of 10^6 events,
nine runners asking on their own spent a third of the worker's time in their sockets
(py-spy), and PostgreSQL the matching share of its own. A runner whose view stands elsewhere
(behind, or just rebuilt) is answered on its own, as before; so is every runner when the
group's write fails (`next_batches` says how).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg

from projections.core import View
from projections.row_stores import Generation
from projections.versioned_batches import next_batch, next_batches

# The longest a runner's request waits for the others of its process to ask too. They ask
# together after a round (each sleeps the same interval from the same start), so a round
# usually starts as soon as the last of them asks.
GATHER_SECONDS = 0.005

Answer = tuple[Generation, int] | None


@dataclass(slots=True)
class _Request:
    view: View
    generation: Generation
    limit: int
    answer: asyncio.Future[Answer]


class BatchGroup:
    """The stateless runners of one process (`joined`), and their batches (`step`)."""

    def __init__(self, pool: asyncpg.Pool, *, gather_seconds: float = GATHER_SECONDS) -> None:
        self._pool = pool
        self._gather_seconds = gather_seconds
        self._members: set[str] = set()
        self._pending: dict[str, _Request] = {}
        self._all_asked = asyncio.Event()
        self._round: asyncio.Task[None] | None = None
        # How many runners' batches were written in one transaction with others, and how
        # many on their own.
        self.together = 0
        self.alone = 0

    @contextlib.contextmanager
    def joined(self, view: View) -> Iterator[None]:
        """While the block runs, the group waits for `view`'s runner before a round."""
        self._members.add(view.name)
        try:
            yield
        finally:
            self._members.discard(view.name)
            self._check_all_asked()

    async def step(self, view: View, generation: Generation, limit: int) -> Answer:
        """`versioned_batches.next_batch(pool, view, generation, limit)`, in a round with
        the other runners of the process that ask meanwhile."""
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[view.name] = _Request(view, generation, limit, answer)
        self._check_all_asked()
        if self._round is None or self._round.done():
            self._round = asyncio.ensure_future(self._next_round())
        return await answer

    def _check_all_asked(self) -> None:
        if self._pending and self._members <= set(self._pending):
            self._all_asked.set()

    async def _next_round(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_asked.wait(), self._gather_seconds)
            self._all_asked.clear()
            asked, self._pending = self._pending, {}
            waiting = [request for request in asked.values() if not request.answer.done()]
            try:
                await self._answer(waiting)
            except Exception as error:  # no runner may wait for ever on a round that broke
                for request in waiting:
                    _settle(request.answer, error)

    async def _answer(self, asked: list[_Request]) -> None:
        if not asked:
            return
        # The largest group standing at one position goes together; any other alone.
        positions = [request.generation.position for request in asked]
        common = max(set(positions), key=positions.count)
        together = [request for request in asked if request.generation.position == common]
        alone = [request for request in asked if request.generation.position != common]
        await asyncio.gather(self._together(together), *(self._alone(request) for request in alone))

    async def _together(self, asked: list[_Request]) -> None:
        if len(asked) == 1:
            await self._alone(asked[0])
            return
        limit = min(request.limit for request in asked)
        answers: list[Answer | BaseException]
        try:
            answers, together = await next_batches(
                self._pool, [(request.view, request.generation) for request in asked], limit
            )
        except Exception as error:  # the read failed: every runner hears of it
            answers, together = [error] * len(asked), False
        for request, answer in zip(asked, answers, strict=True):
            _settle(request.answer, answer)
        if together:
            self.together += len(asked)
        else:
            self.alone += len(asked)

    async def _alone(self, request: _Request) -> None:
        try:
            answer: Answer | BaseException = await next_batch(
                self._pool, request.view, request.generation, request.limit
            )
        except Exception as error:
            answer = error
        _settle(request.answer, answer)
        self.alone += 1


def _settle(future: asyncio.Future[Answer], answer: Answer | BaseException) -> None:
    if future.done():  # its runner stopped waiting (cancelled)
        return
    if isinstance(answer, BaseException):
        future.set_exception(answer)
    else:
        future.set_result(answer)
