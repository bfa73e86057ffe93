"""Past conversations: search by date, location, language, FAQ entry, flag and outcome; and
everything kept about one session, for a subject-access request (`voice-agent privacy export`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from voice_agent.console import store

SESSION_OUTCOMES = (
    "answered",
    "partly_answered",
    "unanswered",
    "handed_off",
    "helpline",
    "abandoned",
    "no_question",
    "interrupted",
)
HANDOFF_OUTCOMES = ("resolved", "referred", "unresolved", "no_response", "citizen_left")


@dataclass(frozen=True, slots=True)
class Query:
    since: float
    until: float
    location: str | None = None
    language: str | None = None
    faq_id: str | None = None
    flag: str | None = None
    outcome: str | None = None
    handled_by: str | None = None  # staff see only the conversations they handled
    limit: int = 200


def search(conn: sqlite3.Connection, q: Query) -> list[dict[str, Any]]:
    where: list[str] = ["s.started_at >= ?", "s.started_at < ?"]
    args: list[object] = [q.since, q.until]
    if q.location:
        where.append("s.location LIKE ? ESCAPE '\\'")
        args.append("%" + q.location.replace("%", "\\%").replace("_", "\\_") + "%")
    if q.language:
        where.append("(s.language = ? OR (' ' || s.languages || ' ') LIKE ?)")
        args += [q.language, f"% {q.language} %"]
    if q.faq_id:
        where.append(
            "EXISTS (SELECT 1 FROM console_turns t WHERE t.session_id = s.id AND t.faq_id = ?)"
        )
        args.append(q.faq_id)
    if q.flag:
        where.append(
            "EXISTS (SELECT 1 FROM console_flags f WHERE f.session_id = s.id AND f.kind = ?)"
        )
        args.append(q.flag)
    if q.outcome:
        where.append(
            "(s.outcome = ? OR EXISTS (SELECT 1 FROM console_handoffs h "
            "WHERE h.session_id = s.id AND h.outcome = ?))"
        )
        args += [q.outcome, q.outcome]
    if q.handled_by:
        where.append(
            "EXISTS (SELECT 1 FROM console_handoffs h WHERE h.session_id = s.id AND h.staff = ?)"
        )
        args.append(q.handled_by)
    sql = (
        "SELECT s.*, "
        "(SELECT group_concat(DISTINCT f.kind) FROM console_flags f WHERE f.session_id = s.id) "
        "AS flags, "
        "(SELECT group_concat(DISTINCT h.outcome) FROM console_handoffs h "
        "WHERE h.session_id = s.id AND h.outcome IS NOT NULL) AS handoff_outcomes, "
        "(SELECT t.text FROM console_turns t WHERE t.session_id = s.id AND t.speaker = 'citizen' "
        "ORDER BY t.at DESC LIMIT 1) AS last_question "
        f"FROM console_sessions s WHERE {' AND '.join(where)} ORDER BY s.started_at DESC LIMIT ?"
    )
    out = []
    for r in store.rows(conn.execute(sql, [*args, q.limit])):
        r["flags"] = sorted(set((r["flags"] or "").split(","))) if r["flags"] else []
        r["handoff_outcomes"] = (
            (r["handoff_outcomes"] or "").split(",") if r["handoff_outcomes"] else []
        )
        out.append(r)
    return out


def export(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    """Everything kept about one conversation (subject-access request), audit trail included."""
    detail = store.session_detail(conn, session_id)
    if detail is None:
        return None
    detail["audit"] = store.rows(
        conn.execute(
            "SELECT at, username, action, handoff_id, detail FROM console_audit "
            "WHERE session_id = ? ORDER BY at",
            (session_id,),
        )
    )
    detail["note"] = (
        "Citizens are anonymous: this is every record kept about this conversation. "
        "Personal numbers and e-mail addresses were redacted before storage; no audio is kept."
    )
    return detail
