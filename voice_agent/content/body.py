"""Entry bodies: the YAML schema as plain dicts, in a canonical order, and what changed.

A body is what a YAML file holds: id, topic, owner, sources, languages (in the order of
`languages.CODES`), each language with status, its review (last_reviewed, reviewed_by: set
by the workflow only, content/reviews.py), question, paraphrases, answer.
Comparisons use the canonical JSON of `parse_entry`'s reading, so re-wrapping an answer in
the YAML file is not a change.
"""

from __future__ import annotations

import json
from typing import Any

from voice_agent.content.faq import FaqEntry, parse_entry
from voice_agent.language.languages import CODES

TOP_KEYS = ("id", "topic", "owner", "sources", "languages")
LANG_KEYS = ("status", "last_reviewed", "reviewed_by", "question", "paraphrases", "answer")


def canonical(body: dict[str, Any]) -> dict[str, Any]:
    """The same body with keys in a stable order (unknown keys kept, last)."""
    out = {k: body[k] for k in TOP_KEYS if k in body}
    out.update({k: v for k, v in body.items() if k not in out})
    langs = body.get("languages")
    if isinstance(langs, dict):
        order = [c for c in CODES if c in langs] + [c for c in langs if c not in CODES]
        out["languages"] = {
            c: _ordered(langs[c]) if isinstance(langs[c], dict) else langs[c] for c in order
        }
    return out


def _ordered(loc: dict[str, Any]) -> dict[str, Any]:
    out = {k: loc[k] for k in LANG_KEYS if k in loc}
    out.update({k: v for k, v in loc.items() if k not in out})
    return out


def to_json(body: dict[str, Any]) -> str:
    return json.dumps(canonical(body), ensure_ascii=False)


def entry_to_body(e: FaqEntry) -> dict[str, Any]:
    return canonical(e.to_body())


def to_entry(body: dict[str, Any], where: str) -> FaqEntry:
    """`parse_entry` of the body (raises FaqFormatError)."""
    return parse_entry(body, where)


def normalized(body: dict[str, Any], where: str) -> dict[str, Any]:
    """The body as the engine would read it: whitespace folded, empty paraphrases dropped."""
    return entry_to_body(to_entry(body, where))


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return to_json(a) == to_json(b)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def diff_summary(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """One line per changed field: 'topic: 'a' -> 'b'', 'pt.answer changed (310 -> 342 chars)'."""
    if old is None:
        return ["created"]
    out: list[str] = []
    for key in ("id", "topic", "owner"):
        if old.get(key) != new.get(key):
            out.append(f"{key}: {_short(old.get(key, ''))} -> {_short(new.get(key, ''))}")
    if old.get("sources") != new.get("sources"):
        out.append(_list_change("sources", old.get("sources") or [], new.get("sources") or []))
    olangs: dict[str, Any] = old.get("languages") or {}
    nlangs: dict[str, Any] = new.get("languages") or {}
    for code in [c for c in CODES if c in olangs or c in nlangs] + sorted(
        c for c in set(olangs) | set(nlangs) if c not in CODES
    ):
        if code not in olangs:
            out.append(f"{code}: added")
            continue
        if code not in nlangs:
            out.append(f"{code}: removed")
            continue
        a, b = olangs[code], nlangs[code]
        if a.get("status") != b.get("status"):
            out.append(f"{code}.status: {a.get('status')} -> {b.get('status')}")
        if _review(a) != _review(b):
            out.append(f"{code}.review: {_review(a) or 'none'} -> {_review(b) or 'none'}")
        if a.get("question") != b.get("question"):
            old_q, new_q = _short(a.get("question")), _short(b.get("question"))
            out.append(f"{code}.question: {old_q} -> {new_q}")
        if a.get("paraphrases") != b.get("paraphrases"):
            out.append(
                _list_change(
                    f"{code}.paraphrases", a.get("paraphrases") or [], b.get("paraphrases") or []
                )
            )
        if a.get("answer") != b.get("answer"):
            la, lb = len(a.get("answer") or ""), len(b.get("answer") or "")
            out.append(f"{code}.answer changed ({la} -> {lb} chars)")
    return out or ["no change"]


def _review(loc: dict[str, Any]) -> str:
    date, by = loc.get("last_reviewed") or "", loc.get("reviewed_by") or ""
    return f"{date} by {by}" if date or by else ""


def _list_change(name: str, old: list[Any], new: list[Any]) -> str:
    added = sum(1 for x in new if x not in old)
    removed = sum(1 for x in old if x not in new)
    if not added and not removed:
        return f"{name}: reordered"
    return f"{name}: +{added} -{removed}"


# --- drafts from the inbox ----------------------------------------------------------------------
MAX_DRAFT_TEXT = 500  # a longer question does not become a paraphrase (the API's limit)
MAX_DRAFT_PARAPHRASES = 50


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _empty_language() -> dict[str, Any]:
    return {"status": "draft", "question": "", "paraphrases": [], "answer": ""}


def _add_text(loc: dict[str, Any], text: str) -> None:
    text = " ".join(text.split())
    if not text or len(text) > MAX_DRAFT_TEXT:
        return
    known = {_fold(q) for q in [loc.get("question") or "", *(loc.get("paraphrases") or [])] if q}
    if _fold(text) in known:
        return
    if not loc.get("question"):
        loc["question"] = text
    elif len(loc.setdefault("paraphrases", [])) < MAX_DRAFT_PARAPHRASES:
        loc["paraphrases"].append(text)


def body_from_questions(
    entry_id: str, topic: str, questions: list[tuple[str, str]]
) -> dict[str, Any]:
    """A new draft: per language, the first question asked is the question, the rest
    paraphrases; answers and sources are left for the editor."""
    langs: dict[str, dict[str, Any]] = {}
    for lang, text in questions:
        _add_text(langs.setdefault(lang, _empty_language()), text)
    body = {"id": entry_id, "topic": topic, "owner": "", "sources": [], "languages": langs}
    return canonical(body)


def with_paraphrases(body: dict[str, Any], questions: list[tuple[str, str]]) -> dict[str, Any]:
    """A copy of `body` with each question added as a paraphrase in its own language."""
    out = json.loads(to_json(body))
    langs = out.setdefault("languages", {})
    for lang, text in questions:
        _add_text(langs.setdefault(lang, _empty_language()), text)
    return canonical(out)
