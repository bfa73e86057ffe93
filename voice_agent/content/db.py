"""The content tables, in the FAQ store's SQLite file, and the one thread that touches them.

Every query runs in a single worker thread (`ContentDb.run`), which serialises access to the
connection and keeps blocking I/O off the event loop. The command line uses `connect` directly.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar, cast

from voice_agent.content.postgres import PgConnection, is_url

T = TypeVar("T")
CONTENT_LOCK = 0x66617100  # PostgreSQL advisory lock: publishing and file imports
P = ParamSpec("P")

USERS_TABLE = """CREATE TABLE IF NOT EXISTS content_users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('editor', 'reviewer', 'admin', 'staff', 'supervisor')),
    password_hash TEXT NOT NULL,   -- argon2id
    created_at REAL NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS content_versions (
    entry_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('draft', 'review', 'published', 'superseded', 'rejected', 'deleted')),
    body TEXT NOT NULL,            -- JSON, in the YAML schema
    author TEXT NOT NULL,
    created_at REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    base_version INTEGER,
    PRIMARY KEY (entry_id, version)
);
CREATE INDEX IF NOT EXISTS content_versions_state ON content_versions (state);

CREATE TABLE IF NOT EXISTS content_audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    entry_id TEXT,
    version INTEGER,
    changes TEXT NOT NULL DEFAULT '[]',   -- JSON list: a per-field summary
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS content_audit_entry ON content_audit (entry_id, at);

{users}
CREATE TABLE IF NOT EXISTS content_sessions (
    token_hash TEXT PRIMARY KEY,   -- sha256 of the cookie value; the token itself is not stored
    username TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS content_login_attempts (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS content_login_attempts_at ON content_login_attempts (at);

CREATE TABLE IF NOT EXISTS content_clusters (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'resolved')),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    centroid BLOB NOT NULL,        -- float32 sum of the members' vectors
    size INTEGER NOT NULL,
    entry_id TEXT
);

CREATE TABLE IF NOT EXISTS content_unanswered (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,            -- redacted before it is stored
    kind TEXT NOT NULL,
    flagged INTEGER NOT NULL DEFAULT 0,
    best_entry TEXT,
    score REAL,
    confidence REAL,
    vector BLOB NOT NULL,          -- float32 e5 query vector of the redacted text
    cluster_id INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX IF NOT EXISTS content_unanswered_cluster ON content_unanswered (cluster_id);
CREATE INDEX IF NOT EXISTS content_unanswered_at ON content_unanswered (at);
""".replace("{users}", USERS_TABLE)


def _widen_roles(conn: sqlite3.Connection) -> None:
    """Databases made before the console roles: rebuild content_users with the new CHECK
    (SQLite cannot alter a constraint in place). Rows are copied as they are."""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'content_users'"
    ).fetchone()
    if row is None or "supervisor" in row[0]:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("ALTER TABLE content_users RENAME TO content_users_old")
        conn.execute(USERS_TABLE)
        conn.execute("INSERT INTO content_users SELECT * FROM content_users_old")
        conn.execute("DROP TABLE content_users_old")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def open_sqlite(path: Path) -> sqlite3.Connection:
    """The project's SQLite file, in WAL mode: a process killed mid-write loses nothing it
    committed and leaves nothing half-written visible; readers never wait for the writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0)
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def connect(target: Path | str) -> sqlite3.Connection:
    """Open the database (creating the content tables); usable from any one thread at a time.
    `target`: the SQLite file, or a PostgreSQL URL (`Settings.database`)."""
    if is_url(target):
        pg = PgConnection(str(target))
        pg.executescript(SCHEMA)
        return cast(sqlite3.Connection, pg)  # the part of sqlite3's interface the code uses
    conn = open_sqlite(Path(target))
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    _widen_roles(conn)
    conn.executescript(SCHEMA)
    return conn


class ContentDb:
    """The connection and its worker thread: `await db.run(fn, ...)` runs `fn` there."""

    def __init__(self, target: Path | str) -> None:
        self.path = target
        self.conn = connect(target)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="content-db")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def exclusive(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn` while no other worker on the same PostgreSQL database runs an exclusive
        change (publishing, importing files); on SQLite, one process: just `fn`. Call it in
        the worker thread: `await db.run(db.exclusive, fn, ...)`."""
        if not isinstance(self.conn, PgConnection):
            return fn(*args, **kwargs)
        with self.conn.advisory_lock(CONTENT_LOCK):
            return fn(*args, **kwargs)

    def close(self) -> None:
        """Let queued work finish, then close the connection."""
        self._executor.shutdown(wait=True)
        self.conn.close()
