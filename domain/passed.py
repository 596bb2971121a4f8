"""Values that passed a check, so that the same value passes again without being walked.

A batch of reports (an import of a dataset) repeats its parts row after row: the same place,
the same category, the same day, the same sources. Every rule on such a part is a rule on its
value alone (the field it sits in only names it in an error), and every part is immutable
(frozen structs of texts, figures, dates and more of the same), so a part equal to one that
passed passes too. A reader that builds each distinct part once shares one object between
the rows that have it: that object is found by its identity, without hashing what it holds;
an equal object built anew (decoded from a request) is found by equality.

Only successes are kept, and a bounded number of them: when full, all are forgotten at once
and the checks run again, as they would have without this.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

_MAX_PASSED = 65_536


class Passed:
    """A bounded set of values that passed one check."""

    __slots__ = ("_by_identity", "_by_value", "_size")

    def __init__(self, size: int = _MAX_PASSED) -> None:
        # By id, the object itself: held here, it cannot be freed and its id reused.
        self._by_identity: dict[int, Any] = {}
        self._by_value: set[Any] = set()
        self._size = size

    def __contains__(self, value: object) -> bool:
        if self._by_identity.get(id(value)) is value:
            return True
        try:
            return value in self._by_value
        except TypeError:  # unhashable: a struct that is not frozen, or holds a list
            return False

    def holds_object(self, value: object) -> bool:
        """Whether this very object passed (the cheap half of `in`)."""
        return self._by_identity.get(id(value)) is value

    @property
    def objects(self) -> Mapping[int, Any]:
        """The objects that passed by their `id()`, for a walk that looks one up in place:
        `objects.get(id(value)) is value`."""
        return self._by_identity

    def add(self, value: object) -> None:
        """Remember `value`, unless it cannot be hashed (then it might change, and an
        object's identity would not say it is the value that passed)."""
        if len(self._by_identity) >= self._size:
            self._by_identity.clear()
            self._by_value.clear()
        try:
            self._by_value.add(value)
        except TypeError:
            return
        self._by_identity[id(value)] = value

    def __len__(self) -> int:
        return len(self._by_identity)


V = TypeVar("V")


def once_per_value(check: Callable[[V, str], None]) -> Callable[[V, str], None]:
    """`check(value, field)` (a function, or a struct's `validate` method), run once per
    value: a value equal to one that passed returns at once. `check` must judge the value
    alone (`field` only names it in the error it raises)."""
    passed = Passed()
    objects = passed.objects

    @functools.wraps(check)
    def check_once(value: V, field: str) -> None:
        if objects.get(id(value)) is value or value in passed:  # the first: without a call
            return
        check(value, field)
        passed.add(value)

    return check_once
