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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import msgspec

from domain.errors import InvalidReport
from domain.passed import Passed

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
        try:
            return self.normalized(value)
        except _TextProblem as problem:
            raise InvalidReport(field, str(problem)) from None

    def normalized(self, value: str) -> str:
        """`value` in NFC, or _TextProblem saying why it breaks the rule."""
        if value.isascii() and value.isprintable():
            # Most text, and already NFC: no control character is printable (so free text
            # that breaks lines takes the walk below).
            if len(value) > self.max_chars:
                raise _TextProblem(self._too_long(value))
            return value
        forbidden = (_CONTROL_BUT_LINES if self.multiline else _CONTROL).search(value)
        if forbidden is not None:
            allowed = "; line feeds and tabs are allowed" if self.multiline else ""
            raise _TextProblem(
                f"must not contain control characters{allowed}: found "
                f"U+{ord(forbidden.group()):04X} at character {forbidden.start() + 1}"
            )
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        if len(value) > self.max_chars:
            raise _TextProblem(self._too_long(value))
        return value

    def _too_long(self, value: str) -> str:
        return f"at most {self.max_chars:,} characters for {self.what}, got {len(value):,}"


class _TextProblem(Exception):
    """Why a text breaks its rule, before the walk names the field (only then, as the
    name costs more to build than the check)."""


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
    text: TextRule  # the rule of a text in the field (names' when none is declared)
    item_text: TextRule  # the same for a tuple's entries


# Values of these types hold no text: the walk need not look at fields declared as them.
_NO_TEXT: frozenset[Any] = frozenset({int, float, bool, type(None), UUID, datetime, date})


def _may_hold_text(annotation: Any) -> bool:
    """False when the field's declared type holds no text, struct or tuple (`int`,
    `datetime | None`...); True whenever in doubt."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _may_hold_text(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return any(_may_hold_text(member) for member in get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return False  # one of its members: names fixed in code
    return annotation not in _NO_TEXT


def _text_rule(rule: TextRule | ListRule | Range | None) -> TextRule:
    return rule if isinstance(rule, TextRule) else NAME


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to check a struct type's fields: `texts`, the fields declared as text (a name,
    free text), which the walk checks in place when they are short printable ASCII; `rest`,
    every other field that may hold text (structs, tuples...)."""

    texts: tuple[_FieldRules, ...]
    rest: tuple[_FieldRules, ...]


def _is_text(annotation: Any) -> bool:
    """True for `str`, `Name`, `Url | None`...: a field that holds a text or nothing."""
    if get_origin(annotation) is Annotated:
        return _is_text(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        return len(members) == 1 and _is_text(members[0])
    return annotation is str


@functools.cache
def _plan(struct_type: type[msgspec.Struct]) -> _Plan:
    # Worked out once per type: type hints are slow to read, and a batch checks thousands.
    hints = get_type_hints(struct_type, include_extras=True)
    texts: list[_FieldRules] = []
    rest: list[_FieldRules] = []
    for field in msgspec.structs.fields(struct_type):
        if not _may_hold_text(hints[field.name]):
            continue
        rule = rule_of(hints[field.name])
        item_rule = rule_of(_item_annotation(hints[field.name]))
        rules = _FieldRules(field.name, rule, item_rule, _text_rule(rule), _text_rule(item_rule))
        (texts if _is_text(hints[field.name]) else rest).append(rules)
    return _Plan(tuple(texts), tuple(rest))


@functools.cache
def _may_repeat(struct_type: type[msgspec.Struct]) -> bool:
    """False for a struct that belongs to one report, so that it never equals one that
    passed before and looking it up would hash everything it holds for nothing: one with an
    id of its own (an event), one marked `OF_ONE_REPORT` (a provenance: the dataset row a
    report was read from), and one with a field that may hold either."""
    if getattr(struct_type, "OF_ONE_REPORT", False):
        return False
    hints = get_type_hints(struct_type)
    return not any(
        member is UUID or (_is_struct(member) and not _may_repeat(member))
        for field in msgspec.structs.fields(struct_type)
        for member in _members(hints[field.name])
    )


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types a field declared as `annotation` may hold (`Place | None`: Place, None)."""
    if get_origin(annotation) in (Union, UnionType):
        return get_args(annotation)
    return (annotation,)


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


# What a field may hold besides text, structs and tuples (a tuple, not a union: isinstance
# takes it faster, and a union written in place is built anew at every call).
_HOLDS_NO_TEXT = (Enum, bool, int, float)
_NOTHING = ()  # a list field's default, and what msgspec decodes an empty array into


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _checked_value(value: Any, rules: _FieldRules, prefix: str) -> Any:
    """`value`, the field `rules.name` of a struct at `prefix`, checked (see `checked`);
    the field's path is built only to name it in an error or a struct's fields."""
    kind = type(value)
    if kind is str:
        try:
            return rules.text.normalized(value)
        except _TextProblem as problem:
            raise InvalidReport(_path(prefix, rules.name), str(problem)) from None
    if isinstance(value, msgspec.Struct):
        return checked(value, _path(prefix, rules.name))
    if kind is tuple:
        rule = rules.rule
        limit = rule.max_items if isinstance(rule, ListRule) else MAX_LIST_ITEMS
        if len(value) > limit:
            raise InvalidReport(
                _path(prefix, rules.name), f"at most {limit} entries, got {len(value):,}"
            )
        items: list[Any] | None = None
        for index, entry in enumerate(value):
            new = _checked_item(entry, rules, prefix, index)
            if new is not entry:
                items = list(value) if items is None else items
                items[index] = new
        return value if items is None else tuple(items)
    if value is None or isinstance(value, _HOLDS_NO_TEXT):
        return value
    if isinstance(value, str):
        return rules.text.check(value, _path(prefix, rules.name))
    return value


def _checked_item(value: Any, rules: _FieldRules, prefix: str, index: int) -> Any:
    """An entry of a tuple: a text, a struct, or anything else as it is."""
    if isinstance(value, msgspec.Struct):
        if _PASSED.holds_object(value):
            return value
        return checked(value, f"{_path(prefix, rules.name)}[{index}]")
    if isinstance(value, str):
        try:
            return rules.item_text.normalized(value)
        except _TextProblem as problem:
            field = f"{_path(prefix, rules.name)}[{index}]"
            raise InvalidReport(field, str(problem)) from None
    return value


# Structs that passed unchanged (domain/passed.py): a batch whose rows share places,
# actors and categories checks each once.
_PASSED = Passed()


def checked(value: S, prefix: str = "") -> S:
    """`value` with every text in NFC, after checking every text and list against its rule;
    InvalidReport names the first field that breaks one (`claim.region`, `caveats[1].party`).

    A text without a rule is held to the rule of names, the strictest.
    """
    may_repeat = _may_repeat(type(value))
    if may_repeat and value in _PASSED:
        return value
    changes = _walk(type(value))(value, prefix)
    if changes:
        return msgspec.structs.replace(value, **changes)
    if may_repeat:
        _PASSED.add(value)
    return value


# What passes without a call: a short printable ASCII text (hence NFC, and with no control
# character) whatever its rule; nothing, or a part shared by many rows that passed before
# (found by its identity).
_PASSES_AS_TEXT = (
    "current is None or (type(current) is str and current.isascii()"
    " and current.isprintable() and len(current) <= %d)"
)
_PASSES_AS_PART = (
    "current is None or current is _NOTHING or _passed_objects.get(id(current)) is current"
)


@functools.cache
def _walk(struct_type: type[msgspec.Struct]) -> Callable[[Any, str], dict[str, Any] | None]:
    """The walk of `struct_type`'s fields, written out once as a function of its own: it
    answers the changed fields (texts put in NFC), if any. A batch checks millions of
    fields, and a loop over the plan spent more on looking up each field's rules than on
    the checks. Most texts are short printable ASCII, hence NFC: a one-line text field is
    passed in place; every other value takes `_checked_value`."""
    plan = _plan(struct_type)
    namespace: dict[str, Any] = {
        "_checked_value": _checked_value,
        "_NOTHING": _NOTHING,
        "_passed_objects": _PASSED.objects,
    }
    body = ["def walk(value, prefix):", "    changes = None"]
    fields = [(rules, _PASSES_AS_TEXT % rules.text.max_chars) for rules in plan.texts]
    fields += [(rules, _PASSES_AS_PART) for rules in plan.rest]
    for index, (rules, passes) in enumerate(fields):
        namespace[f"rules_{index}"] = rules
        body += [
            f"    current = value.{rules.name}",
            f"    if not ({passes}):",
            f"        new = _checked_value(current, rules_{index}, prefix)",
            "        if new is not current:",
            "            changes = {} if changes is None else changes",
            f"            changes[{rules.name!r}] = new",
        ]
    body.append("    return changes")
    exec("\n".join(body), namespace)  # noqa: S102  (code written here, from field names)
    walk: Callable[[Any, str], dict[str, Any] | None] = namespace["walk"]
    return walk
