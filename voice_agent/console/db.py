"""The console's tables, in the same SQLite file as the FAQ and the accounts, and the one thread
that touches them (`ConsoleDb.run`), so blocking I/O never runs on the event loop.

Citizens' words are stored only redacted (voice_agent/content/redact.py); no audio. Rows of a
session go when the session passes the retention period (ON DELETE CASCADE).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from voice_agent.content.db import connect as connect_content

T = TypeVar("T")
P = ParamSpec("P")

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_sessions (
    id TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL,
    source TEXT NOT NULL DEFAULT 'unknown',     -- kiosk | browser | unknown
    location TEXT NOT NULL DEFAULT '',
    language TEXT,                              -- the last language heard
    languages TEXT NOT NULL DEFAULT '',         -- every language, space-separated
    questions INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    outcome TEXT                                -- set when it ends (see observer.py)
);
CREATE INDEX IF NOT EXISTS console_sessions_started ON console_sessions (started_at);

CREATE TABLE IF NOT EXISTS console_turns (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    turn_id TEXT,
    at REAL NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('citizen', 'assistant', 'staff')),
    text TEXT NOT NULL,                         -- redacted
    language TEXT,
    kind TEXT,                                  -- the decision, for the citizen's questions
    topic TEXT,
    faq_id TEXT,
    faq_version INTEGER,                        -- the published version that answered
    confidence REAL,
    stt_probability REAL,
    mode TEXT,
    voice TEXT,
    staff TEXT,                                 -- the staff member's username (staff rows)
    cancelled INTEGER NOT NULL DEFAULT 0,
    stt_ms REAL,
    lid_ms REAL,
    retrieval_ms REAL,
    first_audio_ms REAL,
    total_ms REAL
);
CREATE INDEX IF NOT EXISTS console_turns_session ON console_turns (session_id, at);
CREATE INDEX IF NOT EXISTS console_turns_at ON console_turns (at);
CREATE INDEX IF NOT EXISTS console_turns_turn ON console_turns (turn_id);

CREATE TABLE IF NOT EXISTS console_flags (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    turn_id TEXT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS console_flags_session ON console_flags (session_id);

CREATE TABLE IF NOT EXISTS console_handoffs (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    reason TEXT NOT NULL,                       -- asked | button | misses
    question TEXT NOT NULL DEFAULT '',          -- redacted
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    accepted_at REAL,
    ended_at REAL,
    staff TEXT,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS console_handoffs_created ON console_handoffs (created_at);

CREATE TABLE IF NOT EXISTS console_feedback (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    session_id TEXT NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    turn_id TEXT,
    source TEXT NOT NULL CHECK (source IN ('citizen', 'staff')),
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down', 'good', 'wrong', 'incomplete')),
    note TEXT NOT NULL DEFAULT '',              -- redacted
    username TEXT,
    faq_id TEXT,
    faq_version INTEGER,
    language TEXT,
    question TEXT NOT NULL DEFAULT '',          -- redacted
    answer TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done'))
);
CREATE INDEX IF NOT EXISTS console_feedback_at ON console_feedback (at);

CREATE TABLE IF NOT EXISTS console_audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,     -- view | accept | message | return | close | rate | export | ...
    session_id TEXT,
    handoff_id TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS console_audit_at ON console_audit (at);
"""


def connect(target: Path | str) -> sqlite3.Connection:
    """The database with the content and the console tables (any one thread at a time);
    `target`: the SQLite file or a PostgreSQL URL."""
    conn = connect_content(target)
    conn.executescript(SCHEMA)
    return conn


class ConsoleDb:
    """The connection and its worker thread: `await db.run(fn, ...)` runs `fn(conn, ...)`."""

    def __init__(self, target: Path | str) -> None:
        self.path = target
        self.conn = connect(target)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-db")
        self.done = 0  # calls that succeeded (the log's sign that the database works again)

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(self._executor, lambda: fn(self.conn, *args, **kwargs))
        self.done += 1
        return out

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.conn.close()
