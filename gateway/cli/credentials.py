"""`gateway credentials`: set (the secret read from standard input, never an argument, so
it stays out of shell history and `ps`), list, delete; and `gateway rekey`, which
re-encrypts every stored secret after a change of `GATEWAY_SECRET_KEY` — part of the
`gateway` command (`cli/main.py`), on the same service functions as GraphQL."""

from __future__ import annotations

import argparse
import sys

from gateway.core.settings import Settings
from gateway.service import credentials, database


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("credentials", help="secrets request nodes use, stored encrypted")
    actions = parser.add_subparsers(dest="action", required=True)
    put = actions.add_parser("set", help="create or rotate a credential; secret on stdin")
    put.add_argument("name")
    put.add_argument("--type", required=True, choices=credentials.TYPES)
    actions.add_parser("list", help="names, types and dates (never the secrets)")
    delete = actions.add_parser("delete", help="delete a credential")
    delete.add_argument("name")
    sub.add_parser(
        "rekey",
        help="re-encrypt every stored secret under GATEWAY_SECRET_KEY; the old key on stdin",
    )


def _stdin_line() -> str:
    return sys.stdin.readline().rstrip("\r\n")


async def command(args: argparse.Namespace, settings: Settings) -> int:
    async with database.session(settings):
        if args.action == "set":
            try:
                stored = await credentials.put(settings, args.name, args.type, _stdin_line())
            except credentials.CredentialInvalid as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"credential {stored.name} ({stored.type}) stored", file=sys.stderr)
        elif args.action == "list":
            for row in await credentials.listed():
                used = row.last_used_at.isoformat() if row.last_used_at else "never used"
                print(f"{row.name:<24} {row.type:<7} {row.updated_at.isoformat()}  {used}")
        elif not await credentials.delete(args.name):
            print(f"error: no credential named {args.name!r}", file=sys.stderr)
            return 1
    return 0


async def rekey(args: argparse.Namespace, settings: Settings) -> int:
    """`gateway rekey`: after a change of GATEWAY_SECRET_KEY, the old key on stdin."""
    async with database.session(settings):
        count = await credentials.rotate_key(settings, _stdin_line())
    print(f"{count} secrets re-encrypted", file=sys.stderr)
    return 0
