"""`timeline keys`: a key is printed once, stored as a hash, listed by name, revoked."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from cli.main import main
from store.api_keys import key_hash
from tests.e2e.conftest import RunTimeline


async def test_create_list_revoke(run_timeline: RunTimeline, pool: asyncpg.Pool) -> None:
    created = run_timeline("keys", "create", "--role", "editor", "--name", "desk")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("tl_")
    assert "only time" in created.stderr
    stored = await pool.fetchrow("SELECT name, role, key_hash FROM api_keys")
    assert stored is not None
    assert (stored["name"], stored["role"]) == ("desk", "editor")
    assert stored["key_hash"] == key_hash(secret)
    assert secret.encode() not in bytes(stored["key_hash"])

    listed = run_timeline("keys", "list")
    assert "desk" in listed.stdout
    assert "active" in listed.stdout
    assert secret not in listed.stdout

    revoked = run_timeline("keys", "revoke", "desk")
    assert revoked.returncode == 0, revoked.stderr
    assert await pool.fetchval("SELECT revoked_at IS NOT NULL FROM api_keys") is True
    again = run_timeline("keys", "revoke", "desk")
    assert again.returncode == 2
    assert again.stderr.startswith("timeline keys: no active API key")


def test_a_blank_name_or_bad_role_is_a_usage_error(run_timeline: RunTimeline) -> None:
    blank = run_timeline("keys", "create", "--role", "editor", "--name", "  ")
    assert blank.returncode == 2
    assert "--name" in blank.stderr
    wrong = run_timeline("keys", "create", "--role", "owner", "--name", "x")
    assert wrong.returncode == 2
    assert "invalid choice" in wrong.stderr


async def test_local_key_is_created_once_and_reused(
    run_timeline: RunTimeline, database_url: str, tmp_path: Path, pool: asyncpg.Pool
) -> None:
    env = {"TIMELINE_DATABASE_URL": database_url, "TIMELINE_DATA_DIR": str(tmp_path)}
    first = run_timeline("keys", "local", env=env)
    second = run_timeline("keys", "local", env=env)
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    secret = (tmp_path / "local-editor.key").read_text().strip()
    assert secret in first.stdout
    assert (tmp_path / "local-editor.key").stat().st_mode & 0o077 == 0
    assert await pool.fetchval("SELECT count(*) FROM api_keys") == 1


def test_a_name_with_a_control_character_or_too_long_is_a_usage_error(
    run_timeline: RunTimeline,
) -> None:
    escaped = run_timeline("keys", "create", "--role", "reader", "--name", "desk\x1b[31m")
    too_long = run_timeline("keys", "create", "--role", "reader", "--name", "d" * 201)

    assert escaped.returncode == too_long.returncode == 2
    assert escaped.stderr == (
        "timeline keys: --name: must not contain control characters: found U+001B at "
        "character 5, e.g. --name desk\n"
    )
    assert too_long.stderr.startswith("timeline keys: --name: at most 200 characters")


def test_a_nul_in_a_name_is_a_usage_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No process can be given a NUL in its arguments; `timeline` is called in-process.
    assert main(["keys", "create", "--role", "reader", "--name", "desk\x00"]) == 2
    assert "U+0000" in capsys.readouterr().err
