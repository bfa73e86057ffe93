"""The wire: events to JSON and client messages from JSON, each in one function.

`to_wire` serialises any client- or bus-audience event generically (every field, plus the
`type` tag), `bus_message` adds the session for observers, `from_wire` parses and checks what a
browser sends. `python -m voice_agent.conversation.wire --markdown` prints the message tables
of docs/WIRE.md from the same dataclasses (a unit test keeps the page in step).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from typing import Any

from voice_agent import events as ev

MAX_MESSAGE = 8192  # bytes of JSON a client may send at once


class BadMessage(ValueError):
    """A client message that is not JSON, too big, of an unknown type or with wrong fields."""


def to_wire(event: ev.Event) -> dict[str, Any]:
    """Every field of `event` and its `type`; JSON-ready (tuples become lists)."""
    if event.AUDIENCE == "internal":
        raise ValueError(f"{type(event).__name__} is internal and never leaves the server")
    out: dict[str, Any] = {"type": event.WIRE}
    for f in dataclasses.fields(event):
        out[f.name] = _plain(getattr(event, f.name))
    return out


def bus_message(session_id: str | None, event: ev.Event) -> dict[str, Any]:
    """What observers on the bus get: `{"session": <id>, **message}`."""
    return {"session": session_id, **to_wire(event)}


def encode(event: ev.Event) -> str:
    return json.dumps(to_wire(event), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


_CLIENT = {c.WIRE: c for c in ev.CLIENT_MESSAGES}


def from_wire(raw: object) -> ev.ClientMessage:
    """Parse one client message (JSON text); raises BadMessage saying what is wrong."""
    if not isinstance(raw, str) or len(raw.encode("utf-8", "replace")) > MAX_MESSAGE:
        raise BadMessage(f"messages are JSON text of at most {MAX_MESSAGE // 1024} KB")
    try:
        msg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadMessage(f"not JSON: {exc.msg}") from exc
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise BadMessage('a message is a JSON object with a "type"')
    cls = _CLIENT.get(msg["type"])
    if cls is None:
        raise BadMessage(f"unknown message type {msg['type']!r}; known: {', '.join(_CLIENT)}")
    names = {f.name for f in dataclasses.fields(cls)}
    extra = set(msg) - names - {"type"}
    if extra:
        raise BadMessage(f"{cls.WIRE!r} has no field(s) {', '.join(sorted(extra))}")
    args: dict[str, Any] = {}
    for name in names:
        value = msg.get(name)
        if not isinstance(value, str):
            raise BadMessage(f'"{name}" must be a string')
        args[name] = value
    if isinstance(args.get("rating"), str) and args["rating"] not in ("up", "down"):
        raise BadMessage('"rating" must be "up" or "down"')
    return cls(**args)


# --- the schema, for docs/WIRE.md and the tests -----------------------------------------------
def fields_of(cls: type[ev.Event] | type[ev.ClientMessage]) -> dict[str, str]:
    """Field name -> JSON type, in declaration order."""
    hints = typing.get_type_hints(cls)
    return {f.name: _json_type(hints[f.name]) for f in dataclasses.fields(cls)}


def _json_type(tp: Any) -> str:
    names = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
    if tp in names:
        return names[tp]
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple:
        return "array"
    kinds = [_json_type(a) for a in args if a is not type(None)]
    optional = "?" if type(None) in args else ""
    return " or ".join(dict.fromkeys(kinds)) + optional if kinds else "any"


def _doc(cls: type) -> str:
    return (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ").replace("|", "/")


def markdown() -> str:
    """The message tables of docs/WIRE.md."""
    lines: list[str] = []

    def table(title: str, rows: list[type[Any]], skip: set[str]) -> None:
        lines.extend([f"### {title}", "", "| type | fields | what |", "|---|---|---|"])
        for cls in rows:
            fs = ", ".join(f"`{n}` {t}" for n, t in fields_of(cls).items() if n not in skip)
            lines.append(f"| `{cls.WIRE}` | {fs or '–'} | {_doc(cls)} |")
        lines.append("")

    server = [c for c in ev.SERVER_EVENTS if c.AUDIENCE == "client"]
    bus = [c for c in ev.SERVER_EVENTS if c.AUDIENCE == "bus"]
    common = {"turn_id", "t"}
    table("Server → client (data channel, and the bus)", server, common)
    table("Client → server (data channel)", list(ev.CLIENT_MESSAGES), set())
    table("Bus only (observers)", bus, common)
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--markdown", action="store_true", help="print the tables of docs/WIRE.md")
    a = p.parse_args()
    if a.markdown:
        print(markdown())


if __name__ == "__main__":
    main()
