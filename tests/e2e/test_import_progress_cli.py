"""`timeline import` shows its progress on stderr to a person at a terminal, and to nobody
else: not into a pipe or a log file, not beside --json."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from pathlib import Path

from store.event_store import EventStore
from tests.e2e.conftest import TIMELINE, RunTimeline, service_env, timeline_env
from tests.event_datasets import ACLED_ROWS, acled_file


def _on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run `timeline ARGS...` with stderr on a pseudo-terminal; its exit status, stdout and
    what the terminal showed."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [TIMELINE, *args], env=env, stdout=subprocess.PIPE, stderr=terminal, text=True
        )
        os.close(terminal)
        shown = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end closed: the process is gone
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = process.communicate(timeout=120)
    finally:
        os.close(controller)
    return process.returncode, stdout, shown.decode()


def test_an_import_shows_each_stage_on_a_terminal(
    database_url: str, service_url: str, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    env = timeline_env(service_env(service_url, database_url))

    status, stdout, shown = _on_a_terminal(env, "import", "acled", str(export))

    assert status == 0, shown
    assert stdout.startswith("timeline import acled: 4 added")
    # The terminal turns each line feed into a carriage return and a line feed.
    lines = shown.replace("\r\n", "\n").split("\n")
    finished = [line.split("\r")[-1] for line in lines if line.strip()]
    assert finished == [
        "reading rows [##############################] 100%  4/4",
        "checking rows [##############################] 100%  4/4",
        "writing events [##############################] 100%  4/4",
    ]


def test_with_json_a_terminal_shows_no_progress(
    database_url: str, service_url: str, store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    env = timeline_env(service_env(service_url, database_url))

    status, stdout, shown = _on_a_terminal(env, "import", "acled", str(export), "--json")

    assert status == 0, shown
    assert '"added":4' in stdout
    assert shown == ""


def test_an_import_into_a_pipe_shows_no_progress(run_timeline: RunTimeline, tmp_path: Path) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    first = run_timeline("import", "acled", str(export))
    again = run_timeline("import", "acled", str(export))

    assert (first.returncode, first.stderr) == (0, "")
    assert (again.returncode, again.stderr) == (0, "")
    assert "4 unchanged" in again.stdout
