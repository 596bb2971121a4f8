"""Helpers to run the `timeline` console script as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

TIMELINE = shutil.which("timeline", path=str(Path(sys.executable).parent)) or "timeline"

RunTimeline = Callable[..., subprocess.CompletedProcess[str]]


def timeline_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    env.update(extra)
    return env


@pytest.fixture
def run_timeline(database_url: str) -> RunTimeline:
    """Run `timeline ARGS...` against the test database; returns the finished process."""

    def run(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TIMELINE, *args],
            env=timeline_env(env if env is not None else {"TIMELINE_DATABASE_URL": database_url}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
