"""`timeline keys`: create, list and revoke API keys, and the local editor key of `make run`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import asyncpg

from cli.commands import UsageError
from domain.errors import InvalidReport
from domain.limits import NAME
from store.api_keys import ApiKey, Role, create_key, find_key, key_name, list_keys, revoke_key
from store.database import create_pool, resolve_database
from store.settings import data_dir

LOCAL_KEY_FILE = "local-editor.key"
LOCAL_KEY_NAME = "local editor (make run)"


async def _pool() -> asyncpg.Pool:
    return await create_pool(resolve_database(), min_size=1, max_size=2)


def _described(key: ApiKey) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    return f"{key.id}  {key.role.value:<6}  {state:<24}  {key.name}"


async def create(args: argparse.Namespace) -> int:
    try:
        name = key_name(args.name)
    except InvalidReport as error:
        raise UsageError(f"--{error}, e.g. --name desk") from None
    pool = await _pool()
    try:
        created = await create_key(pool, name, Role(args.role))
    finally:
        await pool.close()
    print(created.secret)
    print(
        f"created {created.key.role.value} key {created.key.name!r} ({created.key.id}); "
        "this is the only time the key is shown",
        file=sys.stderr,
    )
    return 0


async def show(_: argparse.Namespace) -> int:
    pool = await _pool()
    try:
        keys = await list_keys(pool)
    finally:
        await pool.close()
    for key in keys:
        print(_described(key))
    if not keys:
        print("no API keys yet: timeline keys create --role editor --name NAME")
    return 0


async def revoke(args: argparse.Namespace) -> int:
    try:
        NAME.check(args.key, "key")
    except InvalidReport as error:
        raise UsageError(str(error)) from None
    pool = await _pool()
    try:
        revoked = await revoke_key(pool, args.key)
    finally:
        await pool.close()
    for key in revoked:
        print(f"revoked {_described(key)}")
    return 0


async def local(_: argparse.Namespace) -> int:
    """Print the local editor key kept in the data directory, creating it when it is missing
    or no longer valid (a fresh database, or revoked)."""
    path = data_dir() / LOCAL_KEY_FILE
    pool = await _pool()
    try:
        secret = path.read_text().strip() if path.exists() else ""
        key = await find_key(pool, secret) if secret else None
        if key is None or key.revoked_at is not None:
            secret = (await create_key(pool, LOCAL_KEY_NAME, Role.EDITOR)).secret
            _write_private(path, secret)
    finally:
        await pool.close()
    print(f"Local editor key (kept in {path}):")
    print(f"  {secret}")
    print(f'  curl -H "Authorization: Bearer {secret}" http://127.0.0.1:8000/v1/holdings')
    return 0


def _write_private(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="API keys for the HTTP API. Roles: reader (GET), editor (also POST reports "
        "and life-cycle steps), admin (also rebuilds and key administration). A key is shown "
        "once, when it is created; only its SHA-256 is stored.",
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    created = actions.add_parser("create", help="create a key and print it (once)")
    created.add_argument("--role", required=True, choices=[role.value for role in Role])
    created.add_argument("--name", required=True, help="who or what uses it, e.g. 'desk'")
    actions.add_parser("list", help="list keys (never the keys themselves)")
    revoked = actions.add_parser("revoke", help="revoke a key by id or name")
    revoked.add_argument("key", metavar="ID_OR_NAME")
    actions.add_parser(
        "local",
        help="print the local editor key (created on first use; `make run` shows it)",
    )


async def run(args: argparse.Namespace) -> int:
    action = {"create": create, "list": show, "revoke": revoke, "local": local}[args.action]
    return await action(args)
