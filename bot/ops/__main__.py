"""The operations console's command line.

    python -m bot.ops user add NAME --role operator|admin   (the password is read from standard input)
    python -m bot.ops user remove NAME
    python -m bot.ops user list
    python -m bot.ops purge [--days N]   (turns older than N days, default OPS_RETENTION_DAYS or 180; e.g. from cron)

The database is OPS_DB (default build/ops.db); the tracker store read is endpoints.yml's (or TRACKER_DB).
"""
from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys

from bot.ops import auth
from bot.ops.store import RETENTION_DAYS, OpsStore
from knowledge.query import KnowledgeBase, KnowledgeBaseError


def read_password() -> str:
    """The password: typed twice at a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise auth.AuthError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.ops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("user", help="add, remove or list the console's users")
    user.add_argument("action", choices=("add", "remove", "list"))
    user.add_argument("name", nargs="?")
    user.add_argument("--role", choices=auth.ROLES, default="operator")
    purge = commands.add_parser("purge", help="delete the turns older than the retention period")
    purge.add_argument("--days", type=float, default=float(os.environ.get("OPS_RETENTION_DAYS", RETENTION_DAYS)))
    args = parser.parse_args(argv)
    try:
        kb = KnowledgeBase()
    except KnowledgeBaseError as error:
        print(error, file=sys.stderr)
        return 1
    # The salt only hashes senders of turns being recorded; these commands record none.
    store = OpsStore.from_environment(kb, {"OPS_SENDER_SALT": secrets.token_urlsafe(24), **os.environ})
    if args.command == "purge":
        print(f"deleted {store.purge(args.days)} turns older than {args.days:g} days")
        return 0
    if args.action == "list":
        for row in auth.list_users(store):
            print(f"{row['name']}\t{row['role']}" + ("\tlocked" if row["locked"] else ""))
        return 0
    if not args.name:
        parser.error("a user NAME is needed")
    try:
        if args.action == "add":
            auth.add_user(store, args.name, args.role, read_password())
            store.log("(command line)", "user_add", f"{args.name} {args.role}", "localhost")
            print(f"user {args.name} ({args.role}) saved")
        elif auth.remove_user(store, args.name):
            store.log("(command line)", "user_remove", args.name, "localhost")
            print(f"user {args.name} removed")
        else:
            print(f"no user {args.name}", file=sys.stderr)
            return 1
    except auth.AuthError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
