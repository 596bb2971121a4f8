"""Page cursors: the last item's key, opaque to clients (URL-safe base64, no padding), for
the timeline's pages and the explanations' alike."""

from __future__ import annotations

import base64
import binascii


def cursor_of(key: str) -> str:
    """The cursor of the page that starts after `key`."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def key_of(cursor: str) -> str | None:
    """The key `cursor` was made from; None when it is not one `cursor_of` gives (the
    decoder skips what is not base64: only the text we would have given is a cursor)."""
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return key if key and cursor_of(key) == cursor else None
