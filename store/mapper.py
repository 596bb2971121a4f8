"""Domain events <-> stored rows (topic, state bytes), with msgspec.

The topic stored is the event's stable name (`report-filed`, or `report-filed@v2` once a
class moves to version 2), never its module path, so modules can be renamed freely. The
class is also an eventsourcing `Mapper`, so the library's own `Application` reads and writes
our events when configured with it, and topics are registered with the library so its
`resolve_topic` finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import register_topic, resolve_topic

from domain.errors import Invalid
from domain.events import EVENT_TYPES, DomainEvent

_encoder = msgspec.json.Encoder()


class UnknownEventType(Invalid):
    """A stored topic that names no event type this version knows (or no report event)."""


def stored_topic(event_type: type[DomainEvent], version: int | None = None) -> str:
    version = event_type.class_version if version is None else version
    return event_type.stored_name if version == 1 else f"{event_type.stored_name}@v{version}"


class _Codec:
    """Decoding for one (event type, stored version) pair, built once."""

    __slots__ = ("decode", "event_type", "version")

    def __init__(self, event_type: type[DomainEvent], version: int) -> None:
        self.event_type = event_type
        self.version = version
        self.decode: Callable[[bytes], DomainEvent]
        if version == event_type.class_version:
            self.decode = msgspec.json.Decoder(event_type).decode
        else:
            self.decode = self._upcast

    def _upcast(self, state: bytes) -> DomainEvent:
        raw: dict[str, Any] = msgspec.json.decode(state)
        for version in range(self.version, self.event_type.class_version):
            getattr(self.event_type, f"upcast_v{version}_v{version + 1}")(raw)
        return msgspec.convert(raw, self.event_type)


def _build_codecs() -> dict[str, _Codec]:
    codecs: dict[str, _Codec] = {}
    for event_type in EVENT_TYPES:
        for version in range(1, event_type.class_version + 1):
            topic = stored_topic(event_type, version)
            codecs[topic] = _Codec(event_type, version)
            register_topic(topic, event_type)
    return codecs


_CODECS = _build_codecs()


def encode_event(event: DomainEvent) -> tuple[str, bytes]:
    return stored_topic(type(event)), _encoder.encode(event)


def decode_event(topic: str, state: bytes) -> DomainEvent:
    try:
        codec = _CODECS[topic]
    except KeyError:
        # A module path written by the library's default mapper, or a topic we never knew.
        try:
            event_type = resolve_topic(topic)
        except Exception as error:
            raise UnknownEventType(f"no event type is stored as {topic!r}") from error
        # Only our own event types: a module path may name any class, even DomainEvent.
        if event_type not in EVENT_TYPES:
            raise UnknownEventType(f"{topic!r} does not name a report event") from None
        codec = _CODECS[stored_topic(event_type, 1)]
    return codec.decode(state)


class MsgspecMapper(Mapper[UUID]):
    """The eventsourcing library's extension point, used by its Application in tests and
    by anyone who reads our log with the library."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        topic, state = encode_event(domain_event)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(stored_event.topic, stored_event.state)
