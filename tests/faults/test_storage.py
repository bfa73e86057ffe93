"""The database refusing writes: locked by another process, read-only, on a full disk.

Simulated honestly: a second process holding SQLite's write lock; SQLite's `query_only` switch
(the SQLITE_READONLY a read-only file gives); a 16 MB tmpfs holding var/, filled to the last
byte (needs root to mount; skipped otherwise). Content writes answer a clear 503 (never a 500
traceback); conversations go on, their log's failure is logged once, flagged on the session,
counted and shown in /healthz."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.content.conftest import Api
from tests.faults.kit import QUESTION
from tests.faults.server_kit import (
    errors_metric,
    eventually,
    flags,
    plain_engine,
    running_app,
    until,
)


@contextmanager
def small_disk(where: Path, size: str = "16m") -> Iterator[Path]:
    where.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(where: Path) -> Path:
    """Write until the file system is full (ENOSPC)."""
    filler = where / "filler"
    block = b"\0" * 65536
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError:
            pass
    return filler


def edit_entry(api: Api) -> Any:
    latest = api("GET", "/api/faq/entries/sns24-line", "ed").json()["latest"]
    body = latest["body"]
    body["languages"]["en"]["answer"] += " Open every day."
    return api(
        "PUT",
        "/api/faq/entries/sns24-line",
        "ed",
        json={"base_version": latest["version"], "body": body, "note": "fault test"},
    )


def refused(r: Any, reason: str) -> None:
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "storage_unavailable"
    assert reason in r.json()["detail"] and "Traceback" not in r.text


def conversation_goes_on(client: TestClient, api: Api, reason: str) -> None:
    """A typed conversation while the log cannot be written: answered, flagged, counted."""
    with client.websocket_connect("/api/text?lang=en") as ws:
        session = until(ws, "session")[-1]["session_id"]
        ws.send_json({"type": "text", "text": QUESTION})
        assert "808 24 24 24" in until(ws, "reply_end")[-1]["text"]
        flagged = eventually(lambda: flags(client, session))
        assert [(f["kind"], f["detail"]) for f in flagged] == [
            ("stage_failed", f"storage: {reason}")
        ]
        ws.send_json({"type": "text", "text": QUESTION})  # still answered, flagged once
        assert "808 24 24 24" in until(ws, "reply_end")[-1]["text"]
    assert eventually(lambda: errors_metric(api).get("storage", 0) >= 2)
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and health["problems"]["storage"]["code"] == reason


def read_only(client: TestClient, on: bool) -> None:
    """SQLite's own read-only switch on the server's connections: writes fail with the error a
    read-only file gives (SQLITE_READONLY). A tmpfs cannot be remounted read-only while the
    database is open for writing ("mount point is busy"), so this is the honest stand-in."""
    for db in (client.app.state.content.db, client.app.state.console.db):  # type: ignore[attr-defined]
        db.conn.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


def test_a_read_only_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with running_app(tmp_path, monkeypatch, plain_engine) as (client, api):
        api.login("ed"), api.login("sue")  # sessions are written at login: before the fault
        read_only(client, True)
        try:
            with caplog.at_level(logging.WARNING, logger="voice_agent.console.observer"):
                refused(edit_entry(api), "read-only")
                conversation_goes_on(client, api, "read-only")
            lines = [r.getMessage() for r in caplog.records if "console log" in r.getMessage()]
            assert len(lines) == 1 and "read-only" in lines[0]  # once per outage, no traceback
            assert not any(r.exc_info for r in caplog.records)
        finally:
            read_only(client, False)
        assert edit_entry(api).status_code == 200  # writable again: saved
        with client.websocket_connect("/api/text?lang=en") as ws:
            ws.send_json({"type": "text", "text": QUESTION})
            until(ws, "reply_end")
        assert eventually(lambda: client.get("/healthz").json()["status"] == "ok")


def test_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        small_disk(tmp_path / "disk") as disk,
        running_app(tmp_path, monkeypatch, plain_engine, var_dir=disk) as (client, api),
    ):
        api.login("ed"), api.login("sue")
        filler = fill(disk)
        try:
            refused(edit_entry(api), "disk full")
            conversation_goes_on(client, api, "disk full")
        finally:
            filler.unlink()
        assert edit_entry(api).status_code == 200


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE IF NOT EXISTS other_process (x)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def test_a_database_locked_by_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_app(tmp_path, monkeypatch, plain_engine) as (client, api):
        api.login("ed"), api.login("sue")
        db = client.app.state.content.db.path  # type: ignore[attr-defined]
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(db), "14"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            t0 = time.monotonic()
            refused(edit_entry(api), "locked by another process")
            waited = time.monotonic() - t0  # SQLite's busy timeout (content/db.py): 10 s
            assert 9.0 < waited < 14.0
            # reading is not blocked by a writer (WAL): the entry list still loads at once
            t1 = time.monotonic()
            assert api("GET", "/api/faq/entries", "ed").status_code == 200
            assert time.monotonic() - t1 < 2.0
        finally:
            holder.wait(30)
        assert edit_entry(api).status_code == 200
