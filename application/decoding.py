"""Commands from JSON bytes, with errors that name the offending field.

msgspec decodes the tagged unions in one pass and reports the path of the first problem
(`$.claim.area.value`); we turn that into the same InvalidReport the domain rules raise, so a
caller sees one kind of error whichever layer caught the mistake.
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from application.commands import (
    CorrectReport,
    CorroborateReport,
    DenyReport,
    DisputeReport,
    FileReport,
    RetractReport,
)
from domain.claims import CLAIM_KINDS
from domain.errors import InvalidReport

Command = TypeVar(
    "Command",
    FileReport,
    CorroborateReport,
    DisputeReport,
    DenyReport,
    CorrectReport,
    RetractReport,
)

_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")
_DECODERS: dict[type, msgspec.json.Decoder[object]] = {}


def _decoder(command_type: type[Command]) -> msgspec.json.Decoder[Command]:
    decoder = _DECODERS.get(command_type)
    if decoder is None:
        decoder = _DECODERS[command_type] = msgspec.json.Decoder(command_type)
    return decoder  # type: ignore[return-value]


def field_of(message: str) -> tuple[str, str]:
    """('claim.area.value', 'Expected `float`, got `str`') from msgspec's message."""
    path = ""
    match = _PATH.search(message)
    if match:
        path = match.group("path")
        message = message[: match.start()]
    for pattern in (_UNKNOWN_FIELD, _MISSING_FIELD):
        named = pattern.match(message)
        if named:
            path = f"{path}.{named.group('name')}" if path else named.group("name")
    path = path.replace("[", ".[").lstrip(".").replace(".[", "[")
    return path or "body", message


def decode_command(command_type: type[Command], body: bytes) -> Command:
    """Decode and type-check a command; InvalidReport names the field that is wrong."""
    try:
        return _decoder(command_type).decode(body)
    except msgspec.ValidationError as error:
        field, message = field_of(str(error))
        if field.endswith("kind") and message.startswith("Invalid value"):
            message = f"{message}; expected one of: {', '.join(CLAIM_KINDS)}"
        raise InvalidReport(field, message) from None
    except msgspec.DecodeError as error:
        raise InvalidReport("body", f"malformed JSON: {error}") from None
