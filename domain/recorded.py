"""An event as the log holds it: at its position, with the time it was recorded (transaction
time). What the store reads and what every fold takes, so the folds need no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    recorded_at: datetime
    event: DomainEvent


@dataclass(frozen=True, slots=True)
class UnreadableEvent:
    """A stored event this code cannot decode (written by other code, or damaged): it still
    holds its place in the log, so that whoever folds the log can skip it and go on."""

    position: int
    recorded_at: datetime
    topic: str
    error: str


LogEntry = RecordedEvent | UnreadableEvent
