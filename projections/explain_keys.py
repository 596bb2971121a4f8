"""Which rows an explanation is asked about: those a KEY picks, those on a `Page`.

A KEY picks rows as a reader would type it: written as a row key (lower case, spaces as
hyphens: "Kursk Oblast" -> "kursk-oblast"), it picks the row of exactly that key; failing
that, every row in whose key its '/'-separated parts begin consecutive parts: "kursk" picks
"kursk-oblast/ukraine" (and, in forces, both "russia/kursk-oblast" and
"north-korea/kursk-oblast"), "kursk/ukr" picks "kursk-oblast/ukraine", and a report id's first
characters pick that report's row. A KEY that picks nothing is an `UnknownRow` naming the
nearest keys.

The rows come in key order; `explain.explain_page` gives those of one `Page` (up to `limit`
after a key), each explained exactly as `explain.explain` explains it, and renders only those.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import difflib
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import msgspec

from projections.core import View, ViewState, feeding
from projections.replay import InvalidReplayQuestion

NEAREST = 5


class UnknownRow(InvalidReplayQuestion):
    """The KEY picks no row of the view; the message names the nearest keys."""


def keys_to_explain(
    view: View, state: ViewState, key: str | None, as_of: datetime | None
) -> list[str]:
    """The keys of the rows of the folded `state` shown as of `as_of` (or those `key` picks),
    in key order."""
    keys = [k for k in sorted(state.by_key) if feeding(state, k, as_of)]
    return keys if key is None else picked(view.name, keys, key)


class EarlierReports(NamedTuple):
    """Where a row's listed reports stop, going back in the fold's order: the row's key and
    the order (`Tracked.sort_key`) of the earliest report listed. A row of thousands of
    reports (a month of incidents) is walked back from its latest, a page at a time."""

    key: str
    occurred: datetime
    reported: datetime
    filed_position: int

    def cursor(self) -> str:
        """Opaque to readers, as the pages' cursors are (URL-safe base64, no padding)."""
        text = msgspec.json.encode(self)
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    @classmethod
    def of_cursor(cls, cursor: str) -> EarlierReports | None:
        """The place `cursor` names; None when it is not one `cursor()` gives."""
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            found = _EARLIER.decode(text)
        except (binascii.Error, ValueError, msgspec.DecodeError):
            return None
        return found if found.cursor() == cursor else None


_EARLIER = msgspec.json.Decoder(EarlierReports)


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """Which rows to explain: up to `limit` of them, in key order, after the key `after`;
    and of each row's reports, those behind its figures and the `reports` most recent
    (None: all of them). With `before`, the one row it names, and of its reports, those
    behind its figures and the `reports` most recent before that place."""

    limit: int
    after: str | None = None
    reports: int | None = None
    before: EarlierReports | None = None


def page_keys(
    view: View, state: ViewState, key: str | None, page: Page, *, as_of: datetime | None = None
) -> tuple[list[str], bool]:
    """The keys of the rows `explanation.explain_rows` would explain that fall on `page`,
    and whether more follow. Without `key`, only the keys up to the page's end are looked
    at: a page costs its own rows, not the view's."""
    if key is not None:
        keys = keys_to_explain(view, state, key, as_of)
        start = 0 if page.after is None else bisect.bisect_right(keys, page.after)
        return keys[start : start + page.limit], start + page.limit < len(keys)
    ordered = sorted(state.by_key)
    start = 0 if page.after is None else bisect.bisect_right(ordered, page.after)
    chosen: list[str] = []
    for index in range(start, len(ordered)):
        k = ordered[index]
        if feeding(state, k, as_of):
            if len(chosen) == page.limit:
                return chosen, True
            chosen.append(k)
    return chosen, False


def written_as_key(asked: str) -> str:
    """A KEY as the views write keys: the row it names, if it names one exactly."""
    return "/".join("-".join(part.lower().split()) for part in asked.split("/"))


def picked(view_name: str, keys: Sequence[str], asked: str) -> list[str]:
    """The keys `asked` picks (see the module's rule), or UnknownRow."""
    wanted = written_as_key(asked)
    if wanted in keys:
        return [wanted]
    parts = wanted.split("/")
    hits = [key for key in keys if _begins(parts, key.split("/"))]
    if hits:
        return hits
    if not keys:
        raise UnknownRow(f"{view_name} has no rows to explain")
    nearest = (
        difflib.get_close_matches(wanted, keys, n=NEAREST, cutoff=0.6)
        or [key for key in keys if _near(wanted, key)][:NEAREST]
    )
    if nearest:
        raise UnknownRow(
            f"no row of {view_name} matches {asked!r}; did you mean {' or '.join(nearest)}?"
        )
    listed = ", ".join(keys[:NEAREST]) + (", ..." if len(keys) > NEAREST else "")
    raise UnknownRow(f"no row of {view_name} matches {asked!r}; its keys: {listed}")


def _words(key: str) -> list[str]:
    return key.replace("/", "-").split("-")


def _near(wanted: str, key: str) -> bool:
    """Whether a word of `wanted` is a likely misspelling of a word of `key` ("kurks")."""
    words = _words(key)
    return any(difflib.get_close_matches(word, words, cutoff=0.75) for word in _words(wanted))


def _begins(parts: Sequence[str], key_parts: Sequence[str]) -> bool:
    return any(
        all(k.startswith(p) for p, k in zip(parts, key_parts[start:], strict=False))
        for start in range(len(key_parts) - len(parts) + 1)
    )
