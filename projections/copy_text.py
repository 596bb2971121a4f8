"""Values written out in COPY's text format, the rebuild's bulk load."""

from __future__ import annotations

NULL = b"\\N"


def escaped(text: bytes) -> bytes:
    """A text value as a COPY text field: backslash, tab, newline and carriage return escaped."""
    return (
        text.replace(b"\\", b"\\\\")
        .replace(b"\t", b"\\t")
        .replace(b"\n", b"\\n")
        .replace(b"\r", b"\\r")
    )


def text_field(text: str | None) -> bytes:
    return NULL if text is None else escaped(text.encode())


def array_field(texts: tuple[str, ...]) -> bytes:
    """A text[] value: every element quoted, so no name can be read as NULL or split."""
    return escaped(array_literal(texts).encode())


def array_literal(texts: tuple[str, ...]) -> str:
    """The same text[] value as a literal for a `::text[]` cast (unnest upserts)."""
    quoted = ('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' for text in texts)
    return "{" + ",".join(quoted) + "}"
