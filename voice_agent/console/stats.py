"""The supervisors' dashboard for a period: sessions per hour, questions per language and per
topic, answer rate, hand-offs and their waiting time, p50/p95 latency per stage; and the same
numbers as CSV (one `section,key,value` row each)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import sqlite3
from collections import Counter
from typing import Any

from voice_agent.console.store import STAGES

QUESTION_KINDS = ("faq", "no_answer", "off_topic")
HOUR = 3600.0


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(1, math.ceil(p / 100 * len(ordered)))
    return round(ordered[k - 1], 1)


def _summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95)}


def dashboard(
    conn: sqlite3.Connection, since: float, until: float, zone: dt.tzinfo, low_confidence: float
) -> dict[str, Any]:
    span = (since, until)
    starts = [
        r[0]
        for r in conn.execute(
            "SELECT started_at FROM console_sessions WHERE started_at >= ? AND started_at < ?", span
        )
    ]
    per_hour: Counter[str] = Counter(
        dt.datetime.fromtimestamp(t, zone).strftime("%Y-%m-%dT%H:00") for t in starts
    )
    hours: list[dict[str, Any]] = []
    t = math.floor(since / HOUR) * HOUR
    while t < until and len(hours) < 24 * 62:
        label = dt.datetime.fromtimestamp(t, zone).strftime("%Y-%m-%dT%H:00")
        if not hours or hours[-1]["hour"] != label:
            hours.append({"hour": label, "sessions": per_hour.get(label, 0)})
        t += HOUR
    marks = ",".join("?" * len(QUESTION_KINDS))
    questions = conn.execute(
        f"SELECT language, topic, kind, confidence FROM console_turns WHERE speaker = 'citizen' "
        f"AND kind IN ({marks}) AND at >= ? AND at < ?",
        (*QUESTION_KINDS, *span),
    ).fetchall()
    by_lang: Counter[str] = Counter(r["language"] or "?" for r in questions)
    by_topic: Counter[str] = Counter(
        r["topic"] or ("off_topic" if r["kind"] == "off_topic" else "other") for r in questions
    )
    in_domain = [r for r in questions if r["kind"] in ("faq", "no_answer")]
    answered = sum(
        1 for r in in_domain if r["kind"] == "faq" and (r["confidence"] or 0) >= low_confidence
    )
    handoffs = conn.execute(
        "SELECT state, created_at, accepted_at FROM console_handoffs "
        "WHERE created_at >= ? AND created_at < ?",
        span,
    ).fetchall()
    waits = [r["accepted_at"] - r["created_at"] for r in handoffs if r["accepted_at"] is not None]
    latency = {}
    for stage in STAGES:
        values = [
            v
            for (v,) in conn.execute(
                f"SELECT {stage} FROM console_turns WHERE speaker = 'assistant' "
                f"AND {stage} IS NOT NULL AND at >= ? AND at < ?",
                span,
            )
        ]
        latency[stage.removesuffix("_ms")] = _summary(values)
    return {
        "since": since,
        "until": until,
        "sessions": len(starts),
        "sessions_per_hour": hours,
        "questions": len(questions),
        "questions_per_language": dict(by_lang.most_common()),
        "questions_per_topic": dict(by_topic.most_common()),
        "answer_rate": round(answered / len(in_domain), 3) if in_domain else None,
        "answered": answered,
        "in_domain_questions": len(in_domain),
        "handoffs": dict(Counter(r["state"] for r in handoffs).most_common()),
        "handoff_wait_s": {
            **_summary(waits),
            "mean": round(sum(waits) / len(waits), 1) if waits else None,
        },
        "latency_ms": latency,
    }


class _SafeWriter:
    """csv.writer that keeps spreadsheet formulas out (a topic named "=HYPERLINK(...)")."""

    def __init__(self, out: io.StringIO) -> None:
        self._w = csv.writer(out, lineterminator="\n")

    def writerow(self, row: list[Any]) -> None:
        self._w.writerow(
            ["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row]
        )


def to_csv(d: dict[str, Any]) -> str:
    out = io.StringIO()
    w = _SafeWriter(out)
    w.writerow(["section", "key", "value"])
    for key in ("sessions", "questions", "answer_rate", "answered", "in_domain_questions"):
        w.writerow(["total", key, "" if d[key] is None else d[key]])
    for row in d["sessions_per_hour"]:
        w.writerow(["sessions_per_hour", row["hour"], row["sessions"]])
    for section in ("questions_per_language", "questions_per_topic", "handoffs"):
        for key, value in d[section].items():
            w.writerow([section, key, value])
    for key, value in d["handoff_wait_s"].items():
        w.writerow(["handoff_wait_s", key, "" if value is None else value])
    for stage, summary in d["latency_ms"].items():
        for key, value in summary.items():
            w.writerow(["latency_ms", f"{stage}.{key}", "" if value is None else value])
    return out.getvalue()
