"""Command line, the administration commands: `voice-agent users` (accounts of the content
editor and the console) and `voice-agent privacy` (retention purge, one conversation's data).
The parser and the other commands are in cli.py."""

from __future__ import annotations

import argparse
import json
import sys

from voice_agent.config import Settings
from voice_agent.errors import BadInput


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise BadInput("the passwords differ")
    return first


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from argon2 import PasswordHasher

    from voice_agent.content.accounts import AccountRepo, check_new_account
    from voice_agent.content.db import connect

    conn = connect(settings.database)
    try:
        repo = AccountRepo(conn)
        if args.action == "list":
            for u in repo.users():
                state = "disabled" if u.disabled else "active"
                print(f"{u.username:<24} {u.role:<9} {state}")
            return 0
        if args.action in ("disable", "enable"):
            repo.update_user(args.name, disabled=args.action == "disable")
            print(f"{args.name}: {args.action}d")
            return 0
        name = args.name.strip().lower()
        password = _read_password(args)
        if args.action == "add":
            check_new_account(name, args.role, password, settings.content.min_password_chars)
            repo.add_user(name, args.role, PasswordHasher().hash(password), time.time())
            print(f"added {name} ({args.role})")
        else:
            found = repo.user(name)
            role = found[0].role if found else "editor"
            check_new_account(name, role, password, settings.content.min_password_chars)
            repo.update_user(name, password_hash=PasswordHasher().hash(password))
            print(f"{name}: password changed")
        return 0
    finally:
        conn.close()


def cmd_privacy(settings: Settings, args: argparse.Namespace) -> int:
    from voice_agent.console.privacy import export_session, purge_all

    if args.action == "purge":
        removed = purge_all(settings)
        print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in removed.items()))
        return 0
    data = export_session(settings, args.session)
    if data is None:
        raise BadInput(f"no conversation {args.session!r} (never seen, or already purged)")
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0
