"""Stable report ids for imported rows.

A row's report id is worked out from the dataset and the row's own key (a date and a
category, a source's name...), so the same row imported twice names the same report, and
the importer finds what it wrote before without a table of its own: the id's first four
bytes come from the dataset alone, so a dataset's reports lie in one range of ids, which the
log's primary key index reads in one walk. The ids are RFC 9562 version 8 (custom) UUIDs; a
report filed by hand (version 4, random) falls in such a range once in four billion, and the
importer leaves any report of another dataset alone.
"""

from __future__ import annotations

import functools
import hashlib
from uuid import UUID

_PREFIX_BYTES = 4


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


@functools.cache  # a handful of datasets, asked once per row
def dataset_prefix(scope: str) -> bytes:
    return _digest("conflict-timeline import", scope)[:_PREFIX_BYTES]


# The version (8) and variant (RFC) bits of an id, over the digest's bits there.
_VERSION_AND_VARIANT = (0x8 << 76) | (0b10 << 62)
_CLEARED = ~((0xF << 76) | (0b11 << 62)) & ((1 << 128) - 1)


def row_report_id(scope: str, row_key: str) -> UUID:
    """The report id of the row `row_key` of the dataset `scope` ("gs-losses/equipment")."""
    digest = _digest(scope, row_key)[: 16 - _PREFIX_BYTES]
    bits = int.from_bytes(dataset_prefix(scope) + digest)
    return UUID(int=(bits & _CLEARED) | _VERSION_AND_VARIANT)


def dataset_id_range(scope: str) -> tuple[UUID, UUID]:
    """The first and last ids a report of the dataset `scope` can have."""
    prefix = dataset_prefix(scope)
    fill = 16 - _PREFIX_BYTES
    return UUID(bytes=prefix + b"\x00" * fill), UUID(bytes=prefix + b"\xff" * fill)
