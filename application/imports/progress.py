"""How far an import has come, for whoever shows it (`timeline import` on a terminal):
a stage, how many of its steps are done, out of how many."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]

READING = "reading rows"  # rows read into reports, or found unchanged by their fingerprint
CHECKING = "checking rows"  # each row decided: added, corrected, unchanged or refused
WRITING = "writing events"  # the one append: done all at once
# Told every this many steps (and at the last): a report per row would cost more than the
# row on a large file.
EVERY = 2048


def no_progress(stage: str, done: int, total: int) -> None:
    """Progress shown nowhere."""
