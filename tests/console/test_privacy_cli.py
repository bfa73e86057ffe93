"""`voice-agent privacy export SESSION` and `voice-agent privacy purge`, run as a citizen's
subject-access request and a retention run would be (the real CLI entry point, real SQLite)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from voice_agent import cli
from voice_agent.console import store
from voice_agent.console.db import connect

DAY = 86_400.0


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    """SQLite, or PostgreSQL (`database_url` in the file the command reads)."""
    cfg = tmp_path / "voice-agent.toml"
    cfg.write_text(
        f'var_dir = "{tmp_path / "var"}"\ndatabase_url = "{database_url}"\n'
        "[privacy]\ntranscript_retention_days = 30\naudio_retention_days = 7\n",
        encoding="utf-8",
    )
    conn = connect(database_url or tmp_path / "var" / "voice_agent.sqlite3")
    now = time.time()
    for sid, age in (("fresh", 1), ("old", 40)):
        store.add_turn(
            conn,
            {
                "session_id": sid,
                "at": now - age * DAY,
                "speaker": "citizen",
                "text": "NIF [number]",
            },
        )
        store.update_session(
            conn,
            sid,
            now - age * DAY,
            language="pt",
            languages="pt",
            questions=1,
            answered=0,
            ended_at=now - age * DAY,
            outcome="unanswered",
        )
    conn.close()
    wav = tmp_path / "var" / "audio" / "2026-01-01" / "old-001.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF")
    os.utime(wav, (now - 10 * DAY, now - 10 * DAY))
    return cfg


def test_export_prints_everything_kept_about_one_conversation(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--config", str(config), "privacy", "export", "old"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["session"]["id"] == "old"
    assert [t["text"] for t in data["turns"]] == ["NIF [number]"]
    assert data["audio_files"][0].endswith("old-001.wav")
    assert cli.main(["--config", str(config), "privacy", "export", "never"]) == 2
    assert "no conversation" in capsys.readouterr().err


def test_purge_deletes_what_is_past_retention(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--config", str(config), "privacy", "purge"]) == 0
    out = capsys.readouterr().out
    assert "sessions: 1" in out and "audio files: 1" in out
    assert cli.main(["--config", str(config), "privacy", "export", "old"]) == 2
    assert cli.main(["--config", str(config), "privacy", "export", "fresh"]) == 0
