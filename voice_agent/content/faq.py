"""FAQ content: YAML files in faq_db/ (the source of truth) loaded into a SQLite store.

The store keeps the entries, their per-language texts (with an FTS5 index) and a cache of
text embeddings keyed by content hash, so a reload only embeds what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from voice_agent.content.db import open_sqlite
from voice_agent.errors import BadInput
from voice_agent.language.languages import CODES

STATUSES = ("draft", "machine-translated", "reviewed")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class LocalizedText:
    question: str
    paraphrases: tuple[str, ...]
    answer: str
    status: str
    # Set by the review workflow when a reviewer publishes this language as reviewed
    # (content/reviews.py), never by hand; empty: never reviewed.
    last_reviewed: str = ""  # ISO date
    reviewed_by: str = ""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One entry. Review dates are per language (`LocalizedText`); a top-level
    `last_reviewed` in old files is ignored: it could not say which language was reviewed."""

    id: str
    topic: str
    owner: str
    sources: tuple[str, ...]
    languages: dict[str, LocalizedText] = field(default_factory=dict)

    @property
    def link(self) -> str | None:
        return self.sources[0] if self.sources else None

    def to_body(self) -> dict[str, Any]:
        """The entry in its YAML/JSON shape (what `parse_entry` reads)."""
        return {
            "id": self.id,
            "topic": self.topic,
            "owner": self.owner,
            "sources": list(self.sources),
            "languages": {c: _language_body(t) for c, t in self.languages.items()},
        }

    @property
    def last_reviewed(self) -> str:
        """The newest review of any language ("" if none was ever reviewed)."""
        return max((t.last_reviewed for t in self.languages.values()), default="")

    def answer_in(self, lang: str) -> tuple[str, str]:
        """The curated answer in `lang`, else English, else Portuguese: (language, text)."""
        for code in (lang, "en", "pt"):
            if code in self.languages:
                return code, self.languages[code].answer
        code, loc = next(iter(self.languages.items()))
        return code, loc.answer


def _language_body(t: LocalizedText) -> dict[str, Any]:
    out: dict[str, Any] = {"status": t.status}
    if t.last_reviewed:
        out["last_reviewed"] = t.last_reviewed
        out["reviewed_by"] = t.reviewed_by
    out.update(question=t.question, paraphrases=list(t.paraphrases), answer=t.answer)
    return out


class FaqFormatError(BadInput):
    code = "faq_format"


def _review(loc: dict[str, Any], where: str) -> tuple[str, str]:
    """(date, reviewer) of a language, both or neither, and only on a reviewed language."""
    raw = loc.get("last_reviewed") or ""
    date = raw.isoformat() if isinstance(raw, dt.date) else str(raw).strip()
    by = str(loc.get("reviewed_by") or "").strip()
    if not date and not by:
        return "", ""
    if not _ISO_DATE.match(date) or not by:
        raise FaqFormatError(f"{where}: last_reviewed needs an ISO date and reviewed_by a name")
    if loc.get("status") != "reviewed":
        raise FaqFormatError(f"{where}: only a reviewed language has a review date")
    return date, by


def parse_entry(data: object, where: str) -> FaqEntry:
    if not isinstance(data, dict):
        raise FaqFormatError(f"{where}: expected a mapping at the top level")
    for key in ("id", "topic", "languages"):
        if key not in data:
            raise FaqFormatError(f"{where}: missing field {key!r}")
    langs = data["languages"]
    if not isinstance(langs, dict) or not langs:
        raise FaqFormatError(f"{where}: 'languages' must map language codes to texts")
    out: dict[str, LocalizedText] = {}
    for code, loc in langs.items():
        if code not in CODES:
            raise FaqFormatError(f"{where}: unsupported language {code!r}")
        if not isinstance(loc, dict):
            raise FaqFormatError(f"{where}: languages.{code} must be a mapping")
        for key in ("question", "answer"):
            if not isinstance(loc.get(key), str) or not loc[key].strip():
                raise FaqFormatError(f"{where}: languages.{code}.{key} must be non-empty text")
        paras = loc.get("paraphrases") or []
        if not isinstance(paras, list) or not all(isinstance(p, str) for p in paras):
            raise FaqFormatError(f"{where}: languages.{code}.paraphrases must be a list of text")
        status = str(loc.get("status", "draft"))
        if status not in STATUSES:
            raise FaqFormatError(f"{where}: languages.{code}.status must be one of {STATUSES}")
        reviewed, by = _review(loc, f"{where}: languages.{code}")
        out[code] = LocalizedText(
            loc["question"].strip(),
            tuple(p.strip() for p in paras if p.strip()),
            " ".join(loc["answer"].split()),
            status,
            reviewed,
            by,
        )
    sources = data.get("sources") or []
    return FaqEntry(
        id=str(data["id"]),
        topic=str(data["topic"]),
        owner=str(data.get("owner", "")),
        sources=tuple(str(s) for s in sources),
        languages=out,
    )


def load_entries(faq_dir: Path) -> list[FaqEntry]:
    files = sorted((faq_dir / "entries").glob("*.yaml"))
    entries: list[FaqEntry] = []
    seen: dict[str, Path] = {}
    for f in files:
        try:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FaqFormatError(f"{f}: not valid YAML ({exc})") from exc
        entry = parse_entry(data, str(f))
        if entry.id in seen:
            raise FaqFormatError(f"{f}: duplicate id {entry.id!r} (also in {seen[entry.id]})")
        seen[entry.id] = f
        entries.append(entry)
    if not entries:
        raise FaqFormatError(f"no FAQ entries found in {faq_dir / 'entries'}")
    return entries


# Combining marks (M*) are word characters: without them the vowel signs and viramas of
# Devanagari, Gurmukhi, Bengali and Gujarati split every word into single consonants.
FTS_TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
# A word found in more than this share of one language's texts is a function word there
# ("how", "કેવી", "como"): it is left out of the lexical search, where it would make a short
# question that shares only such words the lexical best. A word in fewer than
# COMMON_WORD_MIN texts is never one (a tiny FAQ has no statistics to go on).
COMMON_WORD_SHARE = 0.10
COMMON_WORD_MIN = 5

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY, topic TEXT NOT NULL, owner TEXT, last_reviewed TEXT,
    sources TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS texts (
    id INTEGER PRIMARY KEY, entry_id TEXT NOT NULL, lang TEXT NOT NULL,
    kind TEXT NOT NULL, text TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS texts_fts USING fts5(
    text, content='texts', content_rowid='id', tokenize="{FTS_TOKENIZE}"
);
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vector BLOB NOT NULL
);
"""


class FaqStore:
    """SQLite store. One connection per store; used from one thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = open_sqlite(path)
        self._common: dict[str, bool] = {}  # word -> is it a function word; reset on replace_all
        old = self.db.execute("SELECT sql FROM sqlite_master WHERE name = 'texts_fts'").fetchone()
        stale = old is not None and FTS_TOKENIZE not in old[0]  # an older version's tokenizer
        if stale:
            self.db.execute("DROP TABLE texts_fts")
        self.db.executescript(SCHEMA)
        if stale:
            with self.db:
                self.db.execute("INSERT INTO texts_fts(texts_fts) VALUES('rebuild')")

    def replace_all(self, entries: Iterable[FaqEntry]) -> None:
        """Answer from exactly these entries: those whose body changed (or are new) are
        written again, those gone are removed, the others are left as they are."""
        self._common = {}
        new = {e.id: e for e in entries}
        bodies = {e.id: json.dumps(e.to_body(), ensure_ascii=False) for e in new.values()}
        stored = dict(self.db.execute("SELECT id, body FROM entries").fetchall())
        stale = [i for i, body in stored.items() if bodies.get(i) != body]
        with self.db:
            for entry_id in stale:
                self._remove(entry_id)
            for entry_id, e in new.items():
                if stored.get(entry_id) != bodies[entry_id]:
                    self._insert(e, bodies[entry_id])

    def _remove(self, entry_id: str) -> None:
        for rowid, text in self.db.execute(
            "SELECT id, text FROM texts WHERE entry_id = ?", (entry_id,)
        ).fetchall():  # an external-content index is told the old text of what goes
            self.db.execute(
                "INSERT INTO texts_fts(texts_fts, rowid, text) VALUES('delete', ?, ?)",
                (rowid, text),
            )
        self.db.execute("DELETE FROM texts WHERE entry_id = ?", (entry_id,))
        self.db.execute("DELETE FROM entries WHERE id = ?", (entry_id,))

    def _insert(self, e: FaqEntry, body: str) -> None:
        self.db.execute(
            "INSERT INTO entries VALUES (?,?,?,?,?,?)",
            (e.id, e.topic, e.owner, e.last_reviewed, json.dumps(list(e.sources)), body),
        )
        for code, loc in e.languages.items():
            rows = [("question", loc.question)] + [("paraphrase", p) for p in loc.paraphrases]
            rows.append(("answer", loc.answer))
            for kind, text in rows:
                cur = self.db.execute(
                    "INSERT INTO texts(entry_id, lang, kind, text) VALUES (?,?,?,?)",
                    (e.id, code, kind, text),
                )
                self.db.execute(
                    "INSERT INTO texts_fts(rowid, text) VALUES (?,?)", (cur.lastrowid, text)
                )

    def entries(self) -> dict[str, FaqEntry]:
        out: dict[str, FaqEntry] = {}
        for (body,) in self.db.execute("SELECT body FROM entries ORDER BY id"):
            e = parse_entry(json.loads(body), "store")
            out[e.id] = e
        return out

    def texts(
        self, kinds: tuple[str, ...] = ("question", "paraphrase")
    ) -> list[tuple[int, str, str, str]]:
        marks = ",".join("?" * len(kinds))
        return list(
            self.db.execute(
                f"SELECT id, entry_id, lang, text FROM texts WHERE kind IN ({marks}) "
                "ORDER BY entry_id, id",  # by entry: the same order however often it was edited
                kinds,
            )
        )

    def fts_search(self, query: str, limit: int = 20) -> list[tuple[str, float]]:
        """(entry_id, bm25) best first; bm25 is negative, lower is better."""
        tokens = [t for t in _fts_tokens(query) if len(t) >= 2]
        tokens = [t for t in tokens if not self._is_common(t)]
        if not tokens:
            return []
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in tokens[:32])
        rows = self.db.execute(
            "SELECT t.entry_id, bm25(texts_fts) AS s FROM texts_fts "
            "JOIN texts t ON t.id = texts_fts.rowid WHERE texts_fts MATCH ? "
            "ORDER BY s, t.entry_id LIMIT ?",  # ties by entry, not by when a text was stored
            (match, limit),
        )
        best: dict[str, float] = {}
        for entry_id, score in rows:
            best.setdefault(entry_id, float(score))
        return sorted(best.items(), key=lambda kv: (kv[1], kv[0]))

    def _is_common(self, token: str) -> bool:
        known = self._common.get(token)
        if known is not None:
            return known
        rows = self.db.execute(
            "SELECT t.lang, count(*), (SELECT count(*) FROM texts WHERE lang = t.lang) "
            "FROM texts_fts JOIN texts t ON t.id = texts_fts.rowid "
            "WHERE texts_fts MATCH ? GROUP BY t.lang",
            ('"' + token.replace('"', "") + '"',),
        ).fetchall()
        common = any(
            n >= COMMON_WORD_MIN and n > COMMON_WORD_SHARE * size for _lang, n, size in rows
        )
        if len(self._common) < 100_000:
            self._common[token] = common
        return common

    # --- embedding cache -------------------------------------------------------------------
    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            for key, _dim, blob in self.db.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})", part
            ):
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def store_vectors(self, items: dict[str, np.ndarray]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?,?,?)",
                [(k, len(v), v.astype(np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self.db.close()


def embedding_key(model: str, text: str) -> str:
    return hashlib.sha1(f"{model}\0{text}".encode()).hexdigest()


def _fts_tokens(text: str) -> list[str]:
    """Words as FTS_TOKENIZE cuts them: letters, digits and combining marks (vowel signs)."""
    word: list[str] = []
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text.lower()):
        if ch.isalnum() or unicodedata.category(ch).startswith("M"):
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out
