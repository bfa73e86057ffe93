"""The unanswered-question inbox: SQL and greedy clustering by meaning.

A question joins the open or dismissed cluster whose centre (the normalised sum of its
members' vectors) is nearest, if the cosine is at least the threshold; otherwise it starts
a new cluster. Vectors are e5 query vectors of the redacted text, so the same question in
Portuguese, English or Ukrainian lands in one cluster. Synchronous: run it in the database
worker.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from voice_agent.content.records import Cluster, ClusterStatus, Question

_QCOLS = "id, at, language, text, kind, flagged, best_entry, score, confidence, cluster_id, status"


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _question(r: sqlite3.Row) -> Question:
    return Question(
        r["id"],
        r["at"],
        r["language"],
        r["text"],
        r["kind"],
        bool(r["flagged"]),
        r["best_entry"],
        r["score"],
        r["confidence"],
        r["cluster_id"],
        r["status"],
    )


class InboxRepo:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        at: float,
        language: str,
        text: str,
        kind: str,
        flagged: bool,
        best_entry: str | None,
        score: float | None,
        confidence: float | None,
        vector: np.ndarray,
        threshold: float,
    ) -> Question:
        v = _unit(vector)
        with self.conn:
            cluster_id, status = self._assign(v, at, threshold)
            cur = self.conn.execute(
                "INSERT INTO content_unanswered (at, language, text, kind, flagged, best_entry, "
                "score, confidence, vector, cluster_id, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    at,
                    language,
                    text,
                    kind,
                    int(flagged),
                    best_entry,
                    score,
                    confidence,
                    v.tobytes(),
                    cluster_id,
                    status,
                ),
            )
        row = self.conn.execute(
            f"SELECT {_QCOLS} FROM content_unanswered WHERE id = ?", (cur.lastrowid,)
        ).fetchone()
        return _question(row)

    def _assign(self, v: np.ndarray, at: float, threshold: float) -> tuple[int, ClusterStatus]:
        best: tuple[float, int, ClusterStatus, np.ndarray] | None = None
        for r in self.conn.execute(
            "SELECT id, status, centroid FROM content_clusters WHERE status != 'resolved'"
        ):
            total = np.frombuffer(r["centroid"], np.float32)
            if total.shape != v.shape:
                continue
            cos = float(_unit(total) @ v)
            if best is None or cos > best[0]:
                best = (cos, int(r["id"]), r["status"], total)
        if best is not None and best[0] >= threshold:
            _cos, cid, status, total = best
            self.conn.execute(
                "UPDATE content_clusters SET centroid = ?, size = size + 1, updated_at = ? "
                "WHERE id = ?",
                ((total + v).astype(np.float32).tobytes(), at, cid),
            )
            return cid, status
        cur = self.conn.execute(
            "INSERT INTO content_clusters (status, created_at, updated_at, centroid, size) "
            "VALUES ('open', ?, ?, ?, 1)",
            (at, at, v.tobytes()),
        )
        return int(cur.lastrowid or 0), "open"

    def _members(self, cluster_id: int, limit: int | None) -> tuple[Question, ...]:
        rows = self.conn.execute(
            f"SELECT {_QCOLS} FROM content_unanswered WHERE cluster_id = ? ORDER BY at, id"
            + (" LIMIT ?" if limit else ""),
            (cluster_id, limit) if limit else (cluster_id,),
        )
        return tuple(_question(r) for r in rows)

    def _cluster(self, r: sqlite3.Row, limit: int | None) -> Cluster:
        return Cluster(
            r["id"],
            r["status"],
            r["created_at"],
            r["updated_at"],
            r["size"],
            r["entry_id"],
            self._members(r["id"], limit),
        )

    def get(self, cluster_id: int, limit: int | None = None) -> Cluster | None:
        r = self.conn.execute(
            "SELECT id, status, created_at, updated_at, size, entry_id FROM content_clusters "
            "WHERE id = ?",
            (cluster_id,),
        ).fetchone()
        return self._cluster(r, limit) if r else None

    def clusters(
        self, status: ClusterStatus = "open", limit: int = 100, per_cluster: int = 20
    ) -> list[Cluster]:
        rows = self.conn.execute(
            "SELECT id, status, created_at, updated_at, size, entry_id FROM content_clusters "
            "WHERE status = ? ORDER BY size DESC, updated_at DESC LIMIT ?",
            (status, limit),
        ).fetchall()
        return [self._cluster(r, per_cluster) for r in rows]

    def set_status(
        self, cluster_id: int, status: ClusterStatus, entry_id: str | None = None
    ) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE content_clusters SET status = ?, entry_id = COALESCE(?, entry_id) "
                "WHERE id = ?",
                (status, entry_id, cluster_id),
            )
            self.conn.execute(
                "UPDATE content_unanswered SET status = ? WHERE cluster_id = ?",
                (status, cluster_id),
            )

    def purge(self, before: float) -> int:
        """Delete questions older than `before`; re-centre or drop the clusters they leave."""
        with self.conn:
            cur = self.conn.execute("DELETE FROM content_unanswered WHERE at < ?", (before,))
            removed = cur.rowcount
            if removed:
                self.conn.execute(
                    "DELETE FROM content_clusters WHERE id NOT IN "
                    "(SELECT DISTINCT cluster_id FROM content_unanswered)"
                )
                for (cid,) in self.conn.execute("SELECT id FROM content_clusters").fetchall():
                    vectors = [
                        np.frombuffer(b, np.float32)
                        for (b,) in self.conn.execute(
                            "SELECT vector FROM content_unanswered WHERE cluster_id = ?", (cid,)
                        )
                    ]
                    self.conn.execute(
                        "UPDATE content_clusters SET centroid = ?, size = ? WHERE id = ?",
                        (np.sum(vectors, axis=0).astype(np.float32).tobytes(), len(vectors), cid),
                    )
        return removed

    def count(self) -> int:
        (n,) = self.conn.execute("SELECT COUNT(*) FROM content_unanswered").fetchone()
        return int(n)
