"""What a report's fields may hold: every limit in one place, and the text rules.

Every text a report carries is either a name (an actor, a region, a source: one line, at most
`MAX_NAME_CHARS`), a URL (one line, at most `MAX_URL_CHARS`) or free text (notes,
descriptions, reasons, statements: several lines, at most `MAX_FREE_TEXT_CHARS`). None may
hold a control character (NUL, escape, carriage return, the C1 range...), which PostgreSQL
text cannot hold (NUL) or a reader cannot see; free text alone may hold line feeds and tabs.
Text is stored in Unicode NFC, so "Kursk" typed with a composed or a decomposed accent is
one name. Lists (objectives, damage, caveats) hold at most `MAX_LIST_ITEMS` entries.

The rules are declared on the fields (`region: Name`) and checked by one walk over the event
a use case is about to record (`checked`); the API documents them from the same markers
(`maxLength`, `pattern`, `maxItems`). They are not msgspec constraints on purpose: stored
events are a forever schema, and an event recorded before a limit existed must still decode.

Figures and times are checked by their own structs' `validate` with the bounds named here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec

from domain.errors import InvalidReport

MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2_000
MAX_FREE_TEXT_CHARS = 10_000
MAX_LIST_ITEMS = 50
# The largest figure a quantity may state: more than any area in km² (the Earth's surface is
# 510 million), troop count or tally a report could honestly give; a percentage stops at 100.
MAX_FIGURE = 1_000_000_000
FIRST_YEAR = 1
LAST_YEAR = 9999

# C0 and C1 controls, DEL, and lone surrogates (which no UTF-8 text can hold).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class TextRule:
    """How long a text may be, and whether it may break lines (free text)."""

    what: str
    max_chars: int
    multiline: bool

    @property
    def pattern(self) -> str:
        """The rule as a JSON Schema (ECMA 262) pattern, for the API's document."""
        if self.multiline:
            return "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$"
        return "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"

    def check(self, value: str, field: str) -> str:
        """`value` in NFC, or InvalidReport naming `field`."""
        forbidden = (_CONTROL_BUT_LINES if self.multiline else _CONTROL).search(value)
        if forbidden is not None:
            allowed = "; line feeds and tabs are allowed" if self.multiline else ""
            raise InvalidReport(
                field,
                f"must not contain control characters{allowed}: found "
                f"U+{ord(forbidden.group()):04X} at character {forbidden.start() + 1}",
            )
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        if len(value) > self.max_chars:
            raise InvalidReport(
                field,
                f"at most {self.max_chars:,} characters for {self.what}, got {len(value):,}",
            )
        return value


@dataclass(frozen=True, slots=True)
class ListRule:
    max_items: int


@dataclass(frozen=True, slots=True)
class Range:
    """A number's documented bounds (the struct's `validate` enforces them)."""

    minimum: float
    maximum: float


NAME = TextRule("a name", MAX_NAME_CHARS, multiline=False)
URL = TextRule("a URL", MAX_URL_CHARS, multiline=False)
FREE_TEXT = TextRule("free text", MAX_FREE_TEXT_CHARS, multiline=True)
FEW = ListRule(MAX_LIST_ITEMS)
FIGURE = Range(0, MAX_FIGURE)
YEAR = Range(FIRST_YEAR, LAST_YEAR)

Name = Annotated[str, NAME]
Url = Annotated[str, URL]
FreeText = Annotated[str, FREE_TEXT]
Figure = Annotated[float, FIGURE]

S = TypeVar("S", bound=msgspec.Struct)


def rule_of(annotation: Any) -> TextRule | ListRule | Range | None:
    """The rule an annotation carries (`Name`, `FreeText | None`, ...), if any."""
    if get_origin(annotation) in (Union, UnionType):
        rules = [rule_of(member) for member in get_args(annotation)]
        return next((rule for rule in rules if rule is not None), None)
    metadata = getattr(annotation, "__metadata__", ())
    return next((m for m in metadata if isinstance(m, TextRule | ListRule | Range)), None)


def _item_annotation(annotation: Any) -> Any:
    """`Name` from `Annotated[tuple[Name, ...], FEW]` (or its Optional)."""
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _item_annotation(members[0]) if len(members) == 1 else None
    inner = getattr(annotation, "__origin__", annotation)  # Annotated's own type
    args = get_args(inner)
    return args[0] if get_origin(inner) is tuple and args else None


@dataclass(frozen=True, slots=True)
class _FieldRules:
    name: str
    rule: TextRule | ListRule | Range | None
    item_rule: TextRule | ListRule | Range | None  # for a tuple's entries


@functools.cache
def _plan(struct_type: type[msgspec.Struct]) -> tuple[_FieldRules, ...]:
    # Worked out once per type: type hints are slow to read, and a batch checks thousands.
    hints = get_type_hints(struct_type, include_extras=True)
    return tuple(
        _FieldRules(
            field.name, rule_of(hints[field.name]), rule_of(_item_annotation(hints[field.name]))
        )
        for field in msgspec.structs.fields(struct_type)
    )


def _checked_value(value: Any, rules: _FieldRules, field: str, *, item: bool = False) -> Any:
    rule = rules.item_rule if item else rules.rule
    if value is None or isinstance(value, Enum | bool | int | float):
        return value
    if isinstance(value, str):
        return (rule if isinstance(rule, TextRule) else NAME).check(value, field)
    if isinstance(value, msgspec.Struct):
        return checked(value, field)
    if isinstance(value, tuple) and not item:
        limit = rule.max_items if isinstance(rule, ListRule) else MAX_LIST_ITEMS
        if len(value) > limit:
            raise InvalidReport(field, f"at most {limit} entries, got {len(value):,}")
        items = tuple(
            _checked_value(entry, rules, f"{field}[{index}]", item=True)
            for index, entry in enumerate(value)
        )
        return value if items == value else items
    return value


def checked(value: S, prefix: str = "") -> S:
    """`value` with every text in NFC, after checking every text and list against its rule;
    InvalidReport names the first field that breaks one (`claim.region`, `caveats[1].party`).

    A text without a rule is held to the rule of names, the strictest.
    """
    changes: dict[str, Any] = {}
    for rules in _plan(type(value)):
        current = getattr(value, rules.name)
        new = _checked_value(current, rules, f"{prefix}.{rules.name}" if prefix else rules.name)
        if new is not current:
            changes[rules.name] = new
    return msgspec.structs.replace(value, **changes) if changes else value
