"""Per-language review records: set by the workflow when a reviewer publishes, never by hand.

A language's `last_reviewed` (date) and `reviewed_by` (name) say that a second person read
that text as it is now and published it as `reviewed`. They are written only by `stamp` at
publication; every body sent by the editor or imported through the API goes through `carry`,
which keeps a record only where the published version has one for the same text and status,
so a record cannot be typed, pasted or bulk-edited in. (YAML edited in git is imported as it
is, git being its review trail; the audit log lists every record such an import changes.)
`report` is `voice-agent faq report`: per language, what a person has checked, and when.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from voice_agent.content.body import canonical
from voice_agent.content.faq import FaqEntry
from voice_agent.language.languages import CODES

RECORD = ("last_reviewed", "reviewed_by")
TEXT = ("status", "question", "paraphrases", "answer")


def _same_text(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in TEXT)


def carry(body: dict[str, Any], published: dict[str, Any] | None) -> dict[str, Any]:
    """The body with the published version's records where the language is unchanged."""
    out: dict[str, Any] = json.loads(json.dumps(body))
    out.pop("last_reviewed", None)  # entry-level date of old files: says nothing per language
    before = (published or {}).get("languages") or {}
    for code, loc in (out.get("languages") or {}).items():
        if not isinstance(loc, dict):
            continue
        for key in RECORD:
            loc.pop(key, None)
        old = before.get(code)
        if (
            isinstance(old, dict)
            and old.get("last_reviewed")
            and loc.get("status") == "reviewed"
            and _same_text(loc, old)
        ):
            loc["last_reviewed"], loc["reviewed_by"] = old["last_reviewed"], old["reviewed_by"]
    return canonical(out)


def stamp(
    body: dict[str, Any], published: dict[str, Any] | None, reviewer: str, at: float
) -> tuple[dict[str, Any], list[str]]:
    """At publication: each reviewed language without a record is recorded as reviewed by
    `reviewer` on the day of `at`. Returns the body and the languages stamped."""
    out = carry(body, published)
    day = dt.date.fromtimestamp(at).isoformat()
    stamped = []
    for code, loc in (out.get("languages") or {}).items():
        if isinstance(loc, dict) and loc.get("status") == "reviewed" and not loc.get(RECORD[0]):
            loc["last_reviewed"], loc["reviewed_by"] = day, reviewer
            stamped.append(code)
    return canonical(out), stamped


@dataclass(slots=True)
class LanguageReport:
    entries: int = 0
    reviewed: int = 0  # status reviewed, with the workflow's record
    unrecorded: int = 0  # status reviewed, but no record (set by hand or before the workflow)
    machine: int = 0
    draft: int = 0
    oldest: str = ""  # the oldest review date
    overdue: int = 0  # reviews older than the interval


def report(entries: list[FaqEntry], today: dt.date, interval_days: int) -> str:
    """`voice-agent faq report`: per language, how much of the FAQ a person has checked."""
    rows = {code: LanguageReport() for code in CODES}
    limit = (today - dt.timedelta(days=interval_days)).isoformat()
    missing = dict.fromkeys(CODES, 0)
    for e in entries:
        for code in CODES:
            loc = e.languages.get(code)
            r = rows[code]
            if loc is None:
                missing[code] += 1
                continue
            r.entries += 1
            if loc.status == "machine-translated":
                r.machine += 1
            elif loc.status == "draft":
                r.draft += 1
            elif not loc.last_reviewed:
                r.unrecorded += 1
            else:
                r.reviewed += 1
                r.oldest = min(r.oldest or loc.last_reviewed, loc.last_reviewed)
                r.overdue += loc.last_reviewed < limit
    lines = [
        f"{'lang':<5} {'entries':>7} {'reviewed':>8} {'machine-tr.':>11} {'draft':>5} "
        f"{'no record':>9} {'oldest review':>13} {'past ' + str(interval_days) + ' days':>14}"
    ]
    for code, r in rows.items():
        lines.append(
            f"{code:<5} {r.entries:>7} {r.reviewed:>8} {r.machine:>11} {r.draft:>5} "
            f"{r.unrecorded:>9} {r.oldest or 'never':>13} {r.overdue:>14}"
        )
    total = sum(r.reviewed for r in rows.values()), sum(r.entries for r in rows.values())
    lines.append(
        f"\n{len(entries)} entries; {total[0]} of {total[1]} texts reviewed by a second person "
        f"(review interval: {interval_days} days, `content.review_interval_days`)."
    )
    if any(missing.values()):
        lines.append("missing languages: " + ", ".join(f"{c} {n}" for c, n in missing.items() if n))
    if any(r.unrecorded for r in rows.values()):
        lines.append(
            "'no record': marked reviewed without the workflow's record (date and reviewer); "
            "publish them again through the editor to record who reviewed them."
        )
    return "\n".join(lines)
