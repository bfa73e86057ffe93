"""FAQ entries as YAML text: written readably (stable key order, Unicode, folded answers),
read back with the line of every entry and field, so a bad file gets a precise message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from voice_agent.content.body import canonical
from voice_agent.content.errors import BadFile

Loc = tuple[str | int, ...]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key (as the hand-written files are)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class _Folded(str):
    """An answer: written as a folded block (`>-`), wrapped, easy to review in a diff."""


def _represent_folded(dumper: yaml.SafeDumper, data: _Folded) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style=">")


_Dumper.add_representer(_Folded, _represent_folded)


def dump_entry(body: dict[str, Any]) -> str:
    """One entry as YAML text, keys in the canonical order."""
    data = canonical(body)
    langs = data.get("languages")
    if isinstance(langs, dict):
        for loc in langs.values():
            if not isinstance(loc, dict):
                continue
            last = loc.get("last_reviewed")
            if isinstance(last, str) and _ISO_DATE.match(last):
                with contextlib.suppress(ValueError):
                    loc["last_reviewed"] = dt.date.fromisoformat(last)  # unquoted, reads back equal
            if isinstance(loc.get("answer"), str) and loc["answer"]:
                loc["answer"] = _Folded(loc["answer"])
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=80, indent=2)


def dump_entries(bodies: list[dict[str, Any]]) -> str:
    """Several entries as one YAML stream (one document per entry)."""
    return "".join("---\n" + dump_entry(b) for b in bodies)


def write_atomic(path: Path, text: str) -> None:
    """Write to a hidden temporary file beside `path`, then rename over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class ImportItem:
    """One entry read from a file: where it starts, its data, and where each field is."""

    line: int
    data: Any
    locate: Callable[[Loc], int]


def _line_of(node: yaml.Node, loc: Loc) -> int:
    current = node
    for part in loc:
        nxt: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    nxt = value
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            nxt = current.value[part]
        if nxt is None:
            break
        current = nxt
    return int(current.start_mark.line) + 1


def _item(node: yaml.Node, data: Any) -> ImportItem:
    return ImportItem(int(node.start_mark.line) + 1, data, lambda loc: _line_of(node, loc))


def parse_yaml(text: str) -> list[ImportItem]:
    """Entries from YAML text: one mapping, a list of mappings, or a `---` stream of them."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                raise BadFile("anchors and aliases are not allowed", token.start_mark.line + 1)
        loader = yaml.SafeLoader(text)
        try:
            items: list[ImportItem] = []
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                data = loader.construct_document(node)
                if isinstance(node, yaml.SequenceNode):
                    items.extend(_item(n, d) for n, d in zip(node.value, data, strict=True))
                elif data is not None:
                    items.append(_item(node, data))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise BadFile(f"not valid YAML: {exc.problem or exc}", line) from exc
    except yaml.YAMLError as exc:
        raise BadFile(f"not valid YAML: {exc}") from exc
    if not items:
        raise BadFile("the file holds no entries")
    return items


def read_entry_file(path: Path) -> Any:
    """The data of one faq_db/entries/*.yaml file (raises BadFile with the line)."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BadFile(
            f"{path.name}: not valid YAML: {exc.problem}", mark.line + 1 if mark else None
        ) from exc
    except yaml.YAMLError as exc:
        raise BadFile(f"{path.name}: not valid YAML: {exc}") from exc
