"""Accounts, login sessions and the login rate limit.

Passwords are argon2id hashes (argon2-cffi). A session is a random cookie token, stored only
as its sha256, with a CSRF token the client must echo in `X-CSRF-Token` on every write.
Logins are limited per username and per client address: after `login_max_failures` failures
within `login_window_seconds`, further attempts are refused (429) until the window passes.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import sqlite3
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from voice_agent.config import ContentSettings
from voice_agent.content.db import ContentDb
from voice_agent.content.errors import (
    BadAccount,
    Conflict,
    NotFound,
    NotLoggedIn,
    TooManyAttempts,
    WeakPassword,
)
from voice_agent.content.records import ROLES, Principal, Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_PASSWORD_CHARS = 1024


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_new_account(username: str, role: str, password: str, min_chars: int) -> None:
    if not USERNAME.match(username):
        raise BadAccount(
            "usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise BadAccount(f"role must be one of {', '.join(ROLES)}")
    if len(password) < min_chars:
        raise WeakPassword(f"the password is too short: use at least {min_chars} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"the password is too long (limit {MAX_PASSWORD_CHARS} characters)")
    if len(set(password)) < 4 or password.lower() == username.lower():
        raise WeakPassword("the password is too easy to guess")


class AccountRepo:
    """SQL for users, sessions and login attempts. Synchronous: the database worker or the CLI."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add_user(self, username: str, role: Role, password_hash: str, at: float) -> User:
        try:
            with self.conn:
                self.conn.execute(
                    "INSERT INTO content_users (username, role, password_hash, created_at) "
                    "VALUES (?,?,?,?)",
                    (username, role, password_hash, at),
                )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"user {username!r} already exists", None, None) from exc
        return User(username, role, at, False)

    def user(self, username: str) -> tuple[User, str] | None:
        r = self.conn.execute(
            "SELECT username, role, created_at, disabled, password_hash FROM content_users "
            "WHERE username = ?",
            (username,),
        ).fetchone()
        if r is None:
            return None
        return User(r["username"], r["role"], r["created_at"], bool(r["disabled"])), r[
            "password_hash"
        ]

    def users(self) -> list[User]:
        rows = self.conn.execute(
            "SELECT username, role, created_at, disabled FROM content_users ORDER BY username"
        )
        return [User(r["username"], r["role"], r["created_at"], bool(r["disabled"])) for r in rows]

    def update_user(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        disabled: bool | None = None,
        role: Role | None = None,
    ) -> None:
        if self.user(username) is None:
            raise NotFound(f"no user {username!r}")
        with self.conn:
            if password_hash is not None:
                self.conn.execute(
                    "UPDATE content_users SET password_hash = ? WHERE username = ?",
                    (password_hash, username),
                )
            if disabled is not None:
                self.conn.execute(
                    "UPDATE content_users SET disabled = ? WHERE username = ?",
                    (int(disabled), username),
                )
            if role is not None:
                self.conn.execute(
                    "UPDATE content_users SET role = ? WHERE username = ?", (role, username)
                )
            if password_hash is not None or disabled or role is not None:
                self.conn.execute("DELETE FROM content_sessions WHERE username = ?", (username,))

    # --- sessions ---------------------------------------------------------------------------
    def create_session(
        self, hashed: str, username: str, csrf: str, at: float, expires: float
    ) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM content_sessions WHERE expires_at < ?", (at,))
            self.conn.execute(
                "INSERT INTO content_sessions (token_hash, username, csrf_token, created_at, "
                "expires_at) VALUES (?,?,?,?,?)",
                (hashed, username, csrf, at, expires),
            )

    def session(self, hashed: str, at: float) -> Principal | None:
        r = self.conn.execute(
            "SELECT s.username, u.role, s.csrf_token, s.expires_at FROM content_sessions s "
            "JOIN content_users u ON u.username = s.username "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
            (hashed, at),
        ).fetchone()
        if r is None:
            return None
        return Principal(r["username"], r["role"], r["csrf_token"], r["expires_at"], hashed)

    def delete_session(self, hashed: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM content_sessions WHERE token_hash = ?", (hashed,))

    # --- login attempts ---------------------------------------------------------------------
    def record_attempt(
        self, at: float, username: str, client: str, ok: bool, prune_before: float
    ) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM content_login_attempts WHERE at < ?", (prune_before,))
            self.conn.execute(
                "INSERT INTO content_login_attempts (at, username, client, ok) VALUES (?,?,?,?)",
                (at, username, client, int(ok)),
            )

    def failures_since(self, since: float, username: str, client: str) -> list[float]:
        """Times of failed logins since `since`, for the username and for the client address
        (the list for whichever has more)."""
        by_user = [
            t
            for (t,) in self.conn.execute(
                "SELECT at FROM content_login_attempts WHERE ok = 0 AND at >= ? AND username = ?",
                (since, username),
            )
        ]
        by_client = [
            t
            for (t,) in self.conn.execute(
                "SELECT at FROM content_login_attempts WHERE ok = 0 AND at >= ? AND client = ?",
                (since, client),
            )
        ]
        return sorted(by_user if len(by_user) >= len(by_client) else by_client)


class Accounts:
    """Async face of the accounts: hashing in a thread, SQL in the database worker."""

    def __init__(
        self, db: ContentDb, settings: ContentSettings, clock: Callable[[], float]
    ) -> None:
        self.db = db
        self.repo = AccountRepo(db.conn)
        self.settings = settings
        self.clock = clock
        self.hasher = PasswordHasher()
        self._dummy_hash: str | None = None  # verified for unknown users: same timing

    async def add_user(self, username: str, role: Role, password: str) -> User:
        check_new_account(username, role, password, self.settings.min_password_chars)
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        return await self.db.run(self.repo.add_user, username, role, hashed, self.clock())

    async def users(self) -> list[User]:
        return await self.db.run(self.repo.users)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(hashed, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def login(self, username: str, password: str, client: str) -> tuple[str, Principal]:
        """(cookie token, principal); NotLoggedIn on a wrong password, TooManyAttempts."""
        s = self.settings
        now = self.clock()
        username = username.strip().lower()
        failures = await self.db.run(
            self.repo.failures_since, now - s.login_window_seconds, username, client
        )
        if len(failures) >= s.login_max_failures:
            oldest = failures[-s.login_max_failures]
            raise TooManyAttempts(max(1.0, oldest + s.login_window_seconds - now))
        found = await self.db.run(self.repo.user, username)
        if found is None and self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self.hasher.hash, secrets.token_hex(16))
        hashed = found[1] if found else self._dummy_hash or ""
        ok = await asyncio.to_thread(self._verify, hashed, password[:MAX_PASSWORD_CHARS])
        ok = ok and found is not None and not found[0].disabled
        await self.db.run(
            self.repo.record_attempt, now, username, client, ok, now - 2 * s.login_window_seconds
        )
        if not ok or found is None:
            raise NotLoggedIn("wrong username or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = now + s.session_hours * 3600
        await self.db.run(self.repo.create_session, token_hash(token), username, csrf, now, expires)
        return token, Principal(username, found[0].role, csrf, expires, token_hash(token))

    async def resolve(self, token: str) -> Principal | None:
        return await self.db.run(self.repo.session, token_hash(token), self.clock())

    async def logout(self, principal: Principal) -> None:
        await self.db.run(self.repo.delete_session, principal.token_hash)
