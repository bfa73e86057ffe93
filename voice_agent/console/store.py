"""SQL of the conversation log, hand-offs, feedback and audit (run in the console's db thread).

Functions take the connection first, so the server (through `ConsoleDb.run`) and the command
line (`voice-agent privacy ...`) share them. Text given here is already redacted.
"""

from __future__ import annotations

import sqlite3
from typing import Any

TURN_COLUMNS = [
    "session_id",
    "turn_id",
    "at",
    "speaker",
    "text",
    "language",
    "kind",
    "topic",
    "faq_id",
    "faq_version",
    "confidence",
    "stt_probability",
    "mode",
    "voice",
    "staff",
    "cancelled",
    "stt_ms",
    "lid_ms",
    "retrieval_ms",
    "first_audio_ms",
    "total_ms",
]
STAGES = ("stt_ms", "lid_ms", "retrieval_ms", "first_audio_ms", "total_ms")


def rows(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    return [dict(r) for r in cur.fetchall()]


# --- sessions ---------------------------------------------------------------------------------
def ensure_session(conn: sqlite3.Connection, session_id: str, at: float) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO console_sessions (id, started_at) VALUES (?, ?)", (session_id, at)
    )


def describe_session(conn: sqlite3.Connection, session_id: str, source: str, location: str) -> None:
    with conn:
        conn.execute(
            "UPDATE console_sessions SET source = ?, location = ? WHERE id = ?",
            (source, location, session_id),
        )


def update_session(
    conn: sqlite3.Connection,
    session_id: str,
    at: float,
    *,
    language: str | None,
    languages: str,
    questions: int,
    answered: int,
    ended_at: float | None = None,
    outcome: str | None = None,
) -> None:
    with conn:
        ensure_session(conn, session_id, at)
        conn.execute(
            "UPDATE console_sessions SET language = COALESCE(?, language), languages = ?, "
            "questions = ?, answered = ?, ended_at = COALESCE(?, ended_at), "
            "outcome = COALESCE(?, outcome) WHERE id = ?",
            (language, languages, questions, answered, ended_at, outcome, session_id),
        )


def close_stale_sessions(conn: sqlite3.Connection, at: float) -> int:
    """At start-up: sessions (and hand-offs) the last run left open ended with it."""
    with conn:
        n = conn.execute(
            "UPDATE console_sessions SET ended_at = ?, outcome = COALESCE(outcome, 'interrupted') "
            "WHERE ended_at IS NULL",
            (at,),
        ).rowcount
        conn.execute(
            "UPDATE console_handoffs SET state = 'expired', ended_at = ? "
            "WHERE state IN ('waiting', 'accepted')",
            (at,),
        )
    return n


# --- turns and flags --------------------------------------------------------------------------
def add_turn(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    values = [row.get(c, 0 if c == "cancelled" else None) for c in TURN_COLUMNS]
    with conn:
        ensure_session(conn, row["session_id"], row["at"])
        cur = conn.execute(
            f"INSERT INTO console_turns ({', '.join(TURN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(TURN_COLUMNS))})",
            values,
        )
    return int(cur.lastrowid or 0)


def set_turn_times(
    conn: sqlite3.Connection, session_id: str, turn_id: str, times: dict[str, float | None]
) -> None:
    """Per-stage latencies onto the turn's assistant row (the latest one of that turn)."""
    sets = ", ".join(f"{k} = ?" for k in STAGES)
    with conn:
        conn.execute(
            f"UPDATE console_turns SET {sets} WHERE id = (SELECT id FROM console_turns "
            "WHERE session_id = ? AND turn_id = ? AND speaker != 'citizen' "
            "ORDER BY id DESC LIMIT 1)",
            [times.get(k) for k in STAGES] + [session_id, turn_id],
        )


def add_flag(
    conn: sqlite3.Connection,
    session_id: str,
    turn_id: str | None,
    at: float,
    kind: str,
    detail: str,
) -> None:
    with conn:
        ensure_session(conn, session_id, at)
        conn.execute(
            "INSERT INTO console_flags (session_id, turn_id, at, kind, detail) VALUES (?,?,?,?,?)",
            (session_id, turn_id, at, kind, detail),
        )


def turn_for_rating(
    conn: sqlite3.Connection, session_id: str, turn_id: str
) -> dict[str, Any] | None:
    """The answer a rating is about: its FAQ entry and version, the question and the answer."""
    answer = conn.execute(
        "SELECT * FROM console_turns WHERE session_id = ? AND turn_id = ? "
        "AND speaker != 'citizen' ORDER BY id DESC LIMIT 1",
        (session_id, turn_id),
    ).fetchone()
    if answer is None:
        return None
    question = conn.execute(
        "SELECT text FROM console_turns WHERE session_id = ? AND turn_id = ? "
        "AND speaker = 'citizen' ORDER BY id DESC LIMIT 1",
        (session_id, turn_id),
    ).fetchone()
    out = dict(answer)
    out["question"] = question["text"] if question else ""
    return out


def published_version(conn: sqlite3.Connection, faq_id: str) -> int | None:
    r = conn.execute(
        "SELECT version FROM content_versions WHERE entry_id = ? AND state = 'published' "
        "ORDER BY version DESC LIMIT 1",
        (faq_id,),
    ).fetchone()
    return int(r[0]) if r else None


# --- hand-offs --------------------------------------------------------------------------------
def save_handoff(conn: sqlite3.Connection, h: dict[str, Any]) -> None:
    with conn:
        ensure_session(conn, h["session_id"], h["created_at"])
        conn.execute(
            "INSERT INTO console_handoffs (id, session_id, language, reason, question, state, "
            "created_at, accepted_at, ended_at, staff, outcome) VALUES "
            "(:id, :session_id, :language, :reason, :question, :state, :created_at, "
            ":accepted_at, :ended_at, :staff, :outcome) ON CONFLICT (id) DO UPDATE SET "
            "state = excluded.state, accepted_at = excluded.accepted_at, "
            "ended_at = excluded.ended_at, "
            "staff = COALESCE(excluded.staff, console_handoffs.staff), outcome = excluded.outcome",
            h,
        )


def handled_by(conn: sqlite3.Connection, session_id: str, username: str) -> bool:
    """Did this staff member hold a hand-off of the session (their own history)?"""
    r = conn.execute(
        "SELECT 1 FROM console_handoffs WHERE session_id = ? AND staff = ? LIMIT 1",
        (session_id, username),
    ).fetchone()
    return r is not None


# --- one conversation -------------------------------------------------------------------------
def session_detail(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    s = conn.execute("SELECT * FROM console_sessions WHERE id = ?", (session_id,)).fetchone()
    if s is None:
        return None
    by = (session_id,)
    return {
        "session": dict(s),
        "turns": rows(
            conn.execute("SELECT * FROM console_turns WHERE session_id = ? ORDER BY at, id", by)
        ),
        "flags": rows(
            conn.execute("SELECT * FROM console_flags WHERE session_id = ? ORDER BY at, id", by)
        ),
        "handoffs": rows(
            conn.execute(
                "SELECT * FROM console_handoffs WHERE session_id = ? ORDER BY created_at", by
            )
        ),
        "feedback": rows(
            conn.execute("SELECT * FROM console_feedback WHERE session_id = ? ORDER BY at", by)
        ),
    }


# --- feedback ---------------------------------------------------------------------------------
def add_feedback(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    cols = [
        "at",
        "session_id",
        "turn_id",
        "source",
        "rating",
        "note",
        "username",
        "faq_id",
        "faq_version",
        "language",
        "question",
        "answer",
    ]
    with conn:
        ensure_session(conn, row["session_id"], row["at"])
        cur = conn.execute(
            f"INSERT INTO console_feedback ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})",
            [row.get(c) for c in cols],
        )
    return int(cur.lastrowid or 0)


def feedback_list(
    conn: sqlite3.Connection, status: str = "open", limit: int = 200
) -> list[dict[str, Any]]:
    """Ratings for the content team: the bad ones first, newest first."""
    return rows(
        conn.execute(
            "SELECT id, at, source, rating, note, username, faq_id, faq_version, language, "
            "question, answer, status FROM console_feedback WHERE status = ? ORDER BY "
            "CASE WHEN rating IN ('down', 'wrong', 'incomplete') THEN 0 ELSE 1 END, at DESC "
            "LIMIT ?",
            (status, limit),
        )
    )


def set_feedback_status(conn: sqlite3.Connection, feedback_id: int, status: str) -> bool:
    with conn:
        n = conn.execute(
            "UPDATE console_feedback SET status = ? WHERE id = ?", (status, feedback_id)
        ).rowcount
    return n > 0


# --- audit ------------------------------------------------------------------------------------
def audit(
    conn: sqlite3.Connection,
    at: float,
    username: str,
    action: str,
    session_id: str | None = None,
    handoff_id: str | None = None,
    detail: str = "",
) -> None:
    with conn:
        conn.execute(
            "INSERT INTO console_audit (at, username, action, session_id, handoff_id, detail) "
            "VALUES (?,?,?,?,?,?)",
            (at, username, action, session_id, handoff_id, detail),
        )


def audit_list(
    conn: sqlite3.Connection,
    since: float,
    until: float,
    username: str | None = None,
    session_id: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    where: list[str] = ["at >= ?", "at < ?"]
    args: list[object] = [since, until]
    if username:
        where.append("username = ?")
        args.append(username)
    if session_id:
        where.append("session_id = ?")
        args.append(session_id)
    return rows(
        conn.execute(
            f"SELECT * FROM console_audit WHERE {' AND '.join(where)} ORDER BY at DESC LIMIT ?",
            [*args, limit],
        )
    )


# --- retention --------------------------------------------------------------------------------
def purge(conn: sqlite3.Connection, before: float, audit_before: float) -> dict[str, int]:
    """Delete conversations that ended (or, if never ended, started) before `before`, with
    everything about them; audit records before `audit_before`."""
    with conn:
        sessions = conn.execute(
            "DELETE FROM console_sessions WHERE COALESCE(ended_at, started_at) < ?", (before,)
        ).rowcount
        audits = conn.execute("DELETE FROM console_audit WHERE at < ?", (audit_before,)).rowcount
    return {"sessions": sessions, "audit": audits}
