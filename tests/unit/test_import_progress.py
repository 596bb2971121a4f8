"""What `timeline import` draws on a terminal while it works: each stage (reading rows,
checking them, writing the events) as a bar redrawn in place, left on its own line once
done."""

from __future__ import annotations

import io

from application.imports.progress import CHECKING, READING, WRITING
from cli.progress import ImportProgress, import_line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_stage_is_a_bar_with_its_share_and_its_counts() -> None:
    assert import_line(CHECKING, 100_000, 200_000) == (
        "checking rows [###############...............]  50%  100,000/200,000"
    )
    assert import_line(WRITING, 0, 4) == "writing events [..............................]   0%  0/4"


def test_a_stage_with_nothing_to_do_is_full() -> None:
    assert import_line(READING, 0, 0).endswith("100%  0/0")


def test_each_stage_is_redrawn_in_place_and_left_on_its_own_line() -> None:
    stream = Terminal()
    progress = ImportProgress(stream)

    progress(READING, 0, 1_376)
    progress(READING, 1_376, 1_376)
    progress(CHECKING, 0, 1_376)
    progress(CHECKING, 1_376, 1_376)
    progress(WRITING, 0, 800)
    progress(WRITING, 800, 800)
    progress.close()

    lines = [line.split("\r")[-1] for line in stream.getvalue().split("\n")]
    assert lines == [
        import_line(READING, 1_376, 1_376),
        import_line(CHECKING, 1_376, 1_376),
        import_line(WRITING, 800, 800),
        "",
    ]
    assert stream.getvalue().startswith("\r" + import_line(READING, 0, 1_376))


def test_a_stage_between_its_ends_is_redrawn_at_most_every_fifth_of_a_second() -> None:
    stream = Terminal()
    now = [0.0]
    progress = ImportProgress(stream, clock=lambda: now[0])

    progress(CHECKING, 0, 200_000)
    progress(CHECKING, 2_048, 200_000)  # at once: not redrawn
    now[0] = 0.25
    progress(CHECKING, 100_000, 200_000)

    assert stream.getvalue() == (
        "\r" + import_line(CHECKING, 0, 200_000) + "\r" + import_line(CHECKING, 100_000, 200_000)
    )


def test_closing_before_anything_was_drawn_writes_nothing() -> None:
    stream = Terminal()
    ImportProgress(stream).close()
    assert stream.getvalue() == ""
