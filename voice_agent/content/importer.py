"""Checking an imported YAML or CSV file before it becomes drafts.

Every entry must fit the body schema (sizes: 422 with the line and field), be readable by
`parse_entry`, have all 20 languages, and have an id no other entry in the file has (400
with the line). Nothing is created unless the whole file passes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ValidationError

from voice_agent.content.csv_io import parse_csv
from voice_agent.content.errors import BadFile, InvalidField
from voice_agent.content.faq import FaqFormatError, parse_entry
from voice_agent.content.schema import EntryBody
from voice_agent.content.yaml_io import ImportItem, parse_yaml
from voice_agent.language.languages import CODES

MAX_IMPORT_BYTES = 5_000_000
Format = Literal["yaml", "csv"]


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """YAML reads `2026-11-20` as a date and `paraphrases:` (empty) as None: make them text."""
    out = dict(data)
    if isinstance(out.get("last_reviewed"), dt.date):
        out["last_reviewed"] = out["last_reviewed"].isoformat()
    if out.get("sources") is None and "sources" in out:
        out["sources"] = []
    langs = out.get("languages")
    if isinstance(langs, dict):
        out["languages"] = {k: _plain_language(v) for k, v in langs.items()}
    return out


def _plain_language(loc: Any) -> Any:
    if not isinstance(loc, dict):
        return loc
    out = {**loc, "paraphrases": loc.get("paraphrases") or []}
    if isinstance(out.get("last_reviewed"), dt.date):
        out["last_reviewed"] = out["last_reviewed"].isoformat()
    return out


def check_item(item: ImportItem) -> dict[str, Any]:
    if not isinstance(item.data, dict):
        raise BadFile("expected an entry (a mapping with id, topic, languages...)", item.line)
    try:
        body = EntryBody.model_validate(_plain(item.data)).as_body()
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(x) for x in loc) or None
        line = item.locate(loc)
        if err["type"] in ("missing", "dict_type", "model_type", "extra_forbidden"):
            raise BadFile(err["msg"], line, field) from exc
        raise InvalidField(err["msg"], line, field) from exc
    try:
        parse_entry(body, body["id"])
    except FaqFormatError as exc:
        raise BadFile(exc.message, item.line) from exc
    missing = [c for c in CODES if c not in body["languages"]]
    if missing:
        raise BadFile(
            f"entry {body['id']!r} lacks languages: {', '.join(missing)} (every entry needs all "
            f"{len(CODES)})",
            item.locate(("languages",)),
            "languages",
        )
    return body


def read_import(raw: bytes, fmt: Format) -> list[dict[str, Any]]:
    """The entries of an uploaded file, checked; raises BadFile / InvalidField."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidField(f"the file is {len(raw):,} bytes; the limit is {MAX_IMPORT_BYTES:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not UTF-8 text (byte {exc.start})") from exc
    items = parse_yaml(text) if fmt == "yaml" else parse_csv(text)
    seen: dict[str, int] = {}
    bodies = []
    for item in items:
        body = check_item(item)
        if body["id"] in seen:
            raise BadFile(
                f"duplicate id {body['id']!r} (also line {seen[body['id']]})",
                item.locate(("id",)),
                "id",
            )
        seen[body["id"]] = item.line
        bodies.append(body)
    return bodies
