"""FAQ entries as CSV: one row per entry and language (for spreadsheets and translators).

Columns: id, topic, owner, sources, lang, status, last_reviewed, reviewed_by, question,
paraphrases, answer. Sources and paraphrases are one per line inside their cell. Entry-level
columns must agree on every row of an entry. The review columns are exported for reading and
ignored on import: only the review workflow records reviews (content/reviews.py).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from voice_agent.content.body import canonical
from voice_agent.content.errors import BadFile
from voice_agent.content.yaml_io import ImportItem, Loc
from voice_agent.language.languages import CODES

COLUMNS = (
    "id",
    "topic",
    "owner",
    "sources",
    "lang",
    "status",
    "question",
    "paraphrases",
    "answer",
)
REVIEW_COLUMNS = ("last_reviewed", "reviewed_by")  # exported, never imported
EXPORT_COLUMNS = COLUMNS[:6] + REVIEW_COLUMNS + COLUMNS[6:]
ENTRY_COLUMNS = ("id", "topic", "owner", "sources")


def export_csv(bodies: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    for b in bodies:
        b = canonical(b)
        for code, loc in (b.get("languages") or {}).items():
            w.writerow(
                [
                    b.get("id", ""),
                    b.get("topic", ""),
                    b.get("owner", ""),
                    "\n".join(b.get("sources") or []),
                    code,
                    loc.get("status", "draft"),
                    loc.get("last_reviewed", ""),
                    loc.get("reviewed_by", ""),
                    loc.get("question", ""),
                    "\n".join(loc.get("paraphrases") or []),
                    loc.get("answer", ""),
                ]
            )
    return out.getvalue()


def _lines(cell: str) -> list[str]:
    return [x.strip() for x in cell.splitlines() if x.strip()]


def parse_csv(text: str) -> list[ImportItem]:
    """Entries from CSV text, each with the line of its first row and of each language row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
        if header is None:
            raise BadFile("the file is empty", 1)
        names = [h.strip().lower() for h in header]
        for col in COLUMNS:
            if col not in names:
                raise BadFile(f"missing column {col!r} (need {', '.join(COLUMNS)})", 1, col)
        index = {c: names.index(c) for c in COLUMNS}
        entries: dict[str, dict[str, Any]] = {}
        first_line: dict[str, int] = {}
        lang_line: dict[tuple[str, str], int] = {}
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise BadFile(f"{len(row)} cells, the header has {len(names)}", start)
            cell = {c: row[index[c]] for c in COLUMNS}
            entry_id, code = cell["id"].strip(), cell["lang"].strip()
            if not entry_id:
                raise BadFile("empty id", start, "id")
            if code not in CODES:
                raise BadFile(f"unsupported language {code!r}", start, "lang")
            top = {
                "id": entry_id,
                "topic": cell["topic"].strip(),
                "owner": cell["owner"].strip(),
                "sources": _lines(cell["sources"]),
            }
            body = entries.get(entry_id)
            if body is None:
                body = entries[entry_id] = {**top, "languages": {}}
                first_line[entry_id] = start
            else:
                for key in ENTRY_COLUMNS:
                    if body[key] != top[key]:
                        raise BadFile(
                            f"differs from the first row of entry {entry_id!r} "
                            f"(line {first_line[entry_id]})",
                            start,
                            key,
                        )
            if code in body["languages"]:
                raise BadFile(
                    f"entry {entry_id!r} has language {code!r} twice "
                    f"(also line {lang_line[(entry_id, code)]})",
                    start,
                    "lang",
                )
            lang_line[(entry_id, code)] = start
            body["languages"][code] = {
                "status": cell["status"].strip() or "draft",
                "question": cell["question"].strip(),
                "paraphrases": _lines(cell["paraphrases"]),
                "answer": cell["answer"].strip(),
            }
    except csv.Error as exc:
        raise BadFile(f"not valid CSV: {exc}", reader.line_num) from exc
    if not entries:
        raise BadFile("the file holds no entries")

    def locator(entry_id: str) -> Any:
        def locate(loc: Loc) -> int:
            if len(loc) >= 2 and loc[0] == "languages":
                return lang_line.get((entry_id, str(loc[1])), first_line[entry_id])
            return first_line[entry_id]

        return locate

    return [ImportItem(first_line[i], b, locator(i)) for i, b in entries.items()]
