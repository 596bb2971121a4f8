"""What `timeline export` shows on stderr while it writes: a bar on a terminal, a line per
tenth of a long log elsewhere, nothing for a short log that is not on a terminal."""

from __future__ import annotations

import io

from cli.audit import LONG_LOG, ExportProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_short_export_to_a_file_shows_nothing() -> None:
    stream = io.StringIO()
    progress = ExportProgress(stream)
    for position in (10, 20, 16):
        progress(position, 16)
    progress.close()
    assert stream.getvalue() == ""


def test_a_long_export_to_a_file_shows_a_line_per_tenth() -> None:
    stream = io.StringIO()
    progress = ExportProgress(stream)
    for position in range(10_000, LONG_LOG + 1, 10_000):
        progress(position, LONG_LOG)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "timeline export: 10%, position 10,000"
    assert lines[-1] == "timeline export: 100%, position 100,000"


def test_on_a_terminal_a_bar_is_redrawn_in_place_and_ends_the_line() -> None:
    stream = Terminal()
    progress = ExportProgress(stream)
    progress(8, 16)
    progress(16, 16)
    progress.close()
    drawn = stream.getvalue()
    assert drawn.startswith("\r[###############...............]  50%  position 8/16")
    assert drawn.endswith("\r[##############################] 100%  position 16/16\n")
