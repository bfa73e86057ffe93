"""`kill -9` during writes: the database is opened the way the server opens it (WAL), a child
process commits transactions of two rows as fast as it can and says which ones it committed;
it is killed mid-write. Reopened: every transaction it reported is there, no transaction is
there by half, and the file passes SQLite's integrity check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from voice_agent.content.db import connect

CHILD = """
import sys
from pathlib import Path
from voice_agent.content.db import connect
conn = connect(Path(sys.argv[1]))
conn.execute("CREATE TABLE IF NOT EXISTS pairs (n INTEGER, half INTEGER, pad TEXT)")
conn.commit()
n = 0
while True:
    n += 1
    with conn:  # one transaction: both halves or neither
        conn.execute("INSERT INTO pairs VALUES (?, 0, ?)", (n, "x" * 4000))
        conn.execute("INSERT INTO pairs VALUES (?, 1, ?)", (n, "y" * 4000))
    print(n, flush=True)
"""


def test_nothing_committed_is_lost_and_nothing_half_written_is_seen(tmp_path: Path) -> None:
    db = tmp_path / "voice_agent.sqlite3"
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        reported = 0
        deadline = time.monotonic() + 60
        while reported < 50 and time.monotonic() < deadline:
            reported = int(child.stdout.readline() or reported)
        os.kill(child.pid, signal.SIGKILL)  # mid-write: it never stops writing
        reported = max([reported, *(int(x) for x in child.stdout.read().split())])
        child.wait()
        assert reported >= 50, "the writer did not get going"

        conn = connect(db)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = conn.execute("SELECT n, COUNT(*) FROM pairs GROUP BY n").fetchall()
            assert all(c == 2 for _, c in rows), "a transaction is there by half"
            assert [n for n, _ in rows] == list(range(1, len(rows) + 1))  # no gap
            assert len(rows) >= reported  # everything it reported as committed is there
            conn.execute("DELETE FROM pairs")  # the next round starts its count again
            conn.commit()
        finally:
            conn.close()
