"""Pausing Python's cyclic garbage collector while a process builds up hundreds of
thousands of objects none of which is in a cycle (a fold of the log, an import of a large
file): the collector would walk them again and again for nothing. It is process-wide:
other tasks of the process run without cyclic collection meanwhile (reference counting
still frees memory)."""

from __future__ import annotations

import gc


class CollectorPause:
    """No cyclic garbage collection inside. Nests, and restores the collector as it was."""

    def __init__(self) -> None:
        self._depth = 0
        self._enable_after = False

    def __enter__(self) -> None:
        if self._depth == 0:
            self._enable_after = gc.isenabled()
            gc.disable()
        self._depth += 1

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._enable_after:
            gc.enable()


collector_paused = CollectorPause()
