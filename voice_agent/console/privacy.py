"""`voice-agent privacy purge` and `voice-agent privacy export SESSION` (synchronous: the CLI).

Purge applies every retention period now (the server also does it at start-up and daily):
conversations, hand-offs, ratings and flags after `transcript_retention_days`, the content
team's unanswered questions likewise, audit records after `audit_retention_days`, utterance
WAVs (only kept if `store_audio` is on) after `audio_retention_days`.
Export prints everything kept about one conversation (a subject-access request).
"""

from __future__ import annotations

import time
from typing import Any

from voice_agent.config import Settings
from voice_agent.console import history, store
from voice_agent.console.db import connect
from voice_agent.content.inbox import InboxRepo
from voice_agent.transports.rtc.recorder import UtteranceRecorder

DAY = 86_400.0


def audio_folder(settings: Settings) -> Any:
    return settings.path(settings.var_dir) / "audio"


def purge_all(settings: Settings, now: float | None = None) -> dict[str, int]:
    now = time.time() if now is None else now
    p = settings.privacy
    conn = connect(settings.database)
    try:
        removed = store.purge(
            conn,
            now - p.transcript_retention_days * DAY,
            now - settings.console.audit_retention_days * DAY,
        )
        removed["unanswered_questions"] = InboxRepo(conn).purge(
            now - p.transcript_retention_days * DAY
        )
    finally:
        conn.close()
    recorder = UtteranceRecorder(audio_folder(settings), p.audio_retention_days, lambda: now)
    removed["audio_files"] = recorder.purge()
    return removed


def export_session(settings: Settings, session_id: str) -> dict[str, Any] | None:
    conn = connect(settings.database)
    try:
        out = history.export(conn, session_id)
        if out is not None:
            store.audit(conn, time.time(), "cli", "export", session_id)
    finally:
        conn.close()
    if out is None:
        return None
    folder = audio_folder(settings)
    out["audio_files"] = (
        sorted(str(p) for p in folder.glob(f"*/{session_id}-*.wav")) if folder.is_dir() else []
    )
    return out
