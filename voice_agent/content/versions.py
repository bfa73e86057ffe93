"""SQL for entry versions and the audit log. Synchronous: run it in the database worker."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from voice_agent.content.body import canonical, to_json
from voice_agent.content.records import AuditRecord, EntrySummary, State, Version

_COLUMNS = "entry_id, version, state, body, author, created_at, note, base_version"


def _version(row: sqlite3.Row) -> Version:
    return Version(
        entry_id=row["entry_id"],
        version=int(row["version"]),
        state=row["state"],
        body=json.loads(row["body"]),
        author=row["author"],
        created_at=float(row["created_at"]),
        note=row["note"],
        base_version=row["base_version"],
    )


class VersionRepo:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- reading ------------------------------------------------------------------------------
    def get(self, entry_id: str, version: int) -> Version | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM content_versions WHERE entry_id = ? AND version = ?",
            (entry_id, version),
        ).fetchone()
        return _version(row) if row else None

    def latest(self, entry_id: str) -> Version | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM content_versions WHERE entry_id = ? "
            "ORDER BY version DESC LIMIT 1",
            (entry_id,),
        ).fetchone()
        return _version(row) if row else None

    def published(self, entry_id: str) -> Version | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM content_versions WHERE entry_id = ? AND state = 'published'",
            (entry_id,),
        ).fetchone()
        return _version(row) if row else None

    def versions(self, entry_id: str) -> list[Version]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM content_versions WHERE entry_id = ? ORDER BY version DESC",
            (entry_id,),
        )
        return [_version(r) for r in rows]

    def all_published(self) -> list[Version]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM content_versions WHERE state = 'published' ORDER BY entry_id"
        )
        return [_version(r) for r in rows]

    def summaries(self, include_deleted: bool = False) -> list[EntrySummary]:
        """Each entry's latest version and its published version number."""
        rows = self.conn.execute(
            f"SELECT {', '.join('v.' + c.strip() for c in _COLUMNS.split(','))}, "
            "(SELECT p.version FROM content_versions p WHERE p.entry_id = v.entry_id "
            " AND p.state = 'published') AS published_version "
            "FROM content_versions v WHERE v.version = "
            "(SELECT MAX(version) FROM content_versions m WHERE m.entry_id = v.entry_id) "
            "ORDER BY v.entry_id"
        )
        out = []
        for r in rows:
            latest = _version(r)
            if latest.state == "deleted" and not include_deleted:
                continue
            out.append(
                EntrySummary(
                    latest.entry_id,
                    str(latest.body.get("topic", "")),
                    latest,
                    r["published_version"],
                )
            )
        return out

    # --- writing (the caller holds the transaction) -------------------------------------------
    def add(
        self,
        entry_id: str,
        state: State,
        body: dict[str, Any],
        author: str,
        at: float,
        note: str = "",
        base_version: int | None = None,
    ) -> Version:
        (last,) = self.conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM content_versions WHERE entry_id = ?",
            (entry_id,),
        ).fetchone()
        v = Version(entry_id, int(last) + 1, state, canonical(body), author, at, note, base_version)
        self.conn.execute(
            f"INSERT INTO content_versions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            (
                v.entry_id,
                v.version,
                v.state,
                to_json(v.body),
                v.author,
                v.created_at,
                v.note,
                v.base_version,
            ),
        )
        return v

    def set_state(self, entry_id: str, version: int, state: State, note: str | None = None) -> None:
        if note is None:
            self.conn.execute(
                "UPDATE content_versions SET state = ? WHERE entry_id = ? AND version = ?",
                (state, entry_id, version),
            )
        else:
            self.conn.execute(
                "UPDATE content_versions SET state = ?, note = ? "
                "WHERE entry_id = ? AND version = ?",
                (state, note, entry_id, version),
            )

    def set_body(self, entry_id: str, version: int, body: dict[str, Any]) -> None:
        """Only for the review records written at publication (content/reviews.py)."""
        self.conn.execute(
            "UPDATE content_versions SET body = ? WHERE entry_id = ? AND version = ?",
            (to_json(body), entry_id, version),
        )

    def supersede(self, entry_id: str) -> None:
        """The entry's published version (if any) stops being answered from."""
        self.conn.execute(
            "UPDATE content_versions SET state = 'superseded' "
            "WHERE entry_id = ? AND state = 'published'",
            (entry_id,),
        )

    # --- audit --------------------------------------------------------------------------------
    def audit(
        self,
        at: float,
        username: str,
        action: str,
        entry_id: str | None,
        version: int | None,
        changes: list[str],
        note: str = "",
    ) -> None:
        self.conn.execute(
            "INSERT INTO content_audit (at, username, action, entry_id, version, changes, note) "
            "VALUES (?,?,?,?,?,?,?)",
            (
                at,
                username,
                action,
                entry_id,
                version,
                json.dumps(changes, ensure_ascii=False),
                note,
            ),
        )

    def record(
        self, at: float, username: str, action: str, changes: list[str], note: str = ""
    ) -> None:
        """An audit line for something that is not an entry version (users, the inbox)."""
        with self.conn:
            self.audit(at, username, action, None, None, changes, note)

    def audit_log(self, entry_id: str | None = None, limit: int = 100) -> list[AuditRecord]:
        where, args = ("WHERE entry_id = ?", [entry_id]) if entry_id else ("", [])
        rows = self.conn.execute(
            "SELECT id, at, username, action, entry_id, version, changes, note FROM content_audit "
            f"{where} ORDER BY id DESC LIMIT ?",
            (*args, limit),
        )
        return [
            AuditRecord(
                r["id"],
                r["at"],
                r["username"],
                r["action"],
                r["entry_id"],
                r["version"],
                tuple(json.loads(r["changes"])),
                r["note"],
            )
            for r in rows
        ]
