"""A row's fingerprint: what a re-import compares instead of reading the row in full.

Reading a row into a report (its claim, its dates, every rule) costs far more than splitting
it into fields, and a re-import of a large file is mostly rows that have not changed. So the
importer remembers, beside each report it wrote or found unchanged, a digest of the row it
came from (store/import_rows.py) and, on the next import, reads in full only the rows whose
digest differs. The digest covers every field of the row, the file's header, the release
named on the command line and the source of the code that reads rows: the same digest means
the same row read the same way, hence the same report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_SIZE = 16
_SEPARATOR = "\x1f"  # the ASCII unit separator: no field of a text file holds it unescaped


def code_digest(*sources: str) -> bytes:
    """A digest of the files at `sources` (the modules that read a format's rows): a change
    to how rows are read makes every fingerprint new, and every row read in full once."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(Path(source).read_bytes())
    return digest.digest()


class Fingerprints:
    """The fingerprints of one file's rows, read the same way (`code`), under one header and
    one release."""

    __slots__ = ("_seed",)

    def __init__(self, code: bytes, header: Iterable[str], release: str | None) -> None:
        self._seed = hashlib.blake2b(digest_size=_SIZE)
        self._seed.update(code)
        self._seed.update(_SEPARATOR.join((release or "", *header)).encode())

    def of(self, values: Iterable[str]) -> bytes:
        digest = self._seed.copy()
        digest.update(_SEPARATOR.join(values).encode())
        return digest.digest()
