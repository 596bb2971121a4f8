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


def service_env(service_url: str, owner_url: str) -> dict[str, str]:
    """The two URLs as an operator sets them: the service role's, and the owner's."""
    return {"TIMELINE_DATABASE_URL": service_url, "TIMELINE_OWNER_DATABASE_URL": owner_url}


@pytest.fixture
def run_timeline(database_url: str, service_url: str) -> RunTimeline:
    """Run `timeline ARGS...` against the test database, as an operator with both URLs set;
    returns the finished process."""

    def run(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TIMELINE, *args],
            env=timeline_env(env if env is not None else service_env(service_url, database_url)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
