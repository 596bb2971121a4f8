"""The log is a forever schema: every golden encoded event still decodes with today's code.

The files in `tests/golden/events/` were written once by `tests/golden/make_golden.py`, exactly
as the code then encoded them, and are never regenerated. A test failing here means the code
can no longer read events already in somebody's log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from domain.claims import CLAIM_KINDS
from domain.events import EVENT_TYPES
from store.mapper import decode_event, encode_event, stored_topic

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "events"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))


class Golden(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    topic: str
    state: dict[str, Any]
    expected: dict[str, Any]


def _read(path: Path) -> Golden:
    return msgspec.json.decode(path.read_bytes(), type=Golden)


def _value_at(state: Any, path: str) -> Any:
    for step in path.split("."):
        state = state[int(step)] if isinstance(state, list | tuple) else state[step]
    return state


def _without_nulls(value: Any) -> Any:
    """An optional field stored as null and one left out mean the same thing."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _every_stored_topic() -> set[str]:
    return {
        stored_topic(event_type, version)
        for event_type in EVENT_TYPES
        for version in range(1, event_type.class_version + 1)
    }


def test_there_are_golden_events_to_check() -> None:
    assert len(GOLDEN_FILES) >= len(EVENT_TYPES)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.name)
def test_a_golden_event_decodes_with_the_current_code(path: Path) -> None:
    golden = _read(path)

    event = decode_event(golden.topic, msgspec.json.encode(golden.state))

    assert type(event).stored_name == golden.topic.partition("@")[0]
    decoded = msgspec.to_builtins(event)
    for field, expected in golden.expected.items():
        assert _value_at(decoded, field) == expected, field


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.name)
def test_a_golden_file_is_named_after_its_stored_topic(path: Path) -> None:
    golden = _read(path)

    assert path.name == f"{golden.topic}.json" or path.name.startswith(f"{golden.topic}.")
    assert golden.expected, "a golden file checks at least one decoded value"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.name)
def test_decoding_a_golden_event_of_the_current_version_loses_nothing(path: Path) -> None:
    """msgspec ignores fields a class no longer has: a dropped or renamed field would still
    decode, silently losing what the log holds. Writing the event back shows it did not."""
    golden = _read(path)
    event = decode_event(golden.topic, msgspec.json.encode(golden.state))
    topic, state = encode_event(event)
    if topic != golden.topic:
        pytest.skip(f"{golden.topic} is an older version, upcast to {topic}")

    assert _without_nulls(json.loads(state)) == _without_nulls(golden.state)


def test_every_stored_topic_has_a_golden_event() -> None:
    covered = {_read(path).topic for path in GOLDEN_FILES}

    missing = _every_stored_topic() - covered

    assert not missing, f"run tests/golden/make_golden.py to write goldens for {sorted(missing)}"


def test_every_claim_kind_has_a_golden_event() -> None:
    kinds = {
        golden.state["claim"]["kind"]
        for golden in map(_read, GOLDEN_FILES)
        if "claim" in golden.state
    }

    missing = set(CLAIM_KINDS) - kinds

    assert not missing, f"add samples to tests/golden/make_golden.py for {sorted(missing)}"
