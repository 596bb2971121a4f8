"""Progress on stderr for the commands that run long (`timeline export`, `timeline import`):
a bar redrawn in place, on a terminal only, so that a pipe or a log file never fills with
carriage returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

REDRAW_SECONDS = 0.2
BAR_WIDTH = 30


def bar(share: float) -> str:
    """`[#####.....]`, `share` of it filled."""
    filled = round(min(max(share, 0.0), 1.0) * BAR_WIDTH)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def import_line(stage: str, done: int, total: int) -> str:
    """One stage of an import as its bar shows it: `checking rows [###...]  50%  1,000/2,000`."""
    share = done / total if total else 1.0
    return f"{stage} {bar(share)} {share:4.0%}  {done:,}/{total:,}"


class ImportProgress:
    """An import's stages (reading, checking, writing), each a bar redrawn in place on
    `stream` at most every REDRAW_SECONDS and left on its own line once done. Called from
    the thread that reads rows as well as from the event loop, hence the lock."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._stage: str | None = None
        self._width = 0
        self._drawn_at = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            now = self._clock()
            finished = done >= total
            if stage == self._stage and not finished and now - self._drawn_at < REDRAW_SECONDS:
                return
            if self._stage is not None and stage != self._stage:
                self.stream.write("\n")
            line = import_line(stage, done, total)
            self.stream.write("\r" + line.ljust(self._width if stage == self._stage else 0))
            self.stream.flush()
            self._stage, self._width, self._drawn_at = stage, len(line), now

    def close(self) -> None:
        with self._lock:
            if self._stage is not None:
                self.stream.write("\n")
                self.stream.flush()
                self._stage = None
