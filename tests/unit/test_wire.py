"""One wire vocabulary: docs/WIRE.md is generated from events.py, the browser handles every
message the server sends and reads only the fields the schema lists, and what it sends is
what the server parses."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from voice_agent import events as ev
from voice_agent.conversation.wire import (
    MAX_MESSAGE,
    BadMessage,
    bus_message,
    fields_of,
    from_wire,
    markdown,
    to_wire,
)

ROOT = Path(__file__).resolve().parents[2]
APP = (ROOT / "web_client" / "app.js").read_text(encoding="utf-8")
COMMON = {"type", "turn_id", "t"}


def client_handlers() -> dict[str, str]:
    """type -> body of its handler in app.js's HANDLERS table."""
    table = APP[APP.index("const HANDLERS = {") : APP.index("\n};\n", APP.index("const HANDLERS"))]
    parts = re.split(r"^  (\w+)\(app, msg\) \{$", table, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_docs_wire_md_is_generated_from_the_events() -> None:
    doc = (ROOT / "docs" / "WIRE.md").read_text(encoding="utf-8")
    begin = doc.index("<!-- BEGIN GENERATED")
    inner = doc[doc.index("\n", begin) + 1 : doc.index("<!-- END GENERATED")]
    assert inner.strip() == markdown().strip(), (
        "docs/WIRE.md is out of date: python -m voice_agent.conversation.wire --markdown"
    )


def test_the_browser_handles_every_message_the_server_sends() -> None:
    handled = client_handlers()
    sent = {c.WIRE for c in ev.SERVER_EVENTS if c.AUDIENCE == "client"}
    assert sent - set(handled) == set(), "server messages app.js does not handle"
    assert set(handled) - sent == set(), "app.js handles messages the server never sends"


@pytest.mark.parametrize("cls", [c for c in ev.SERVER_EVENTS if c.AUDIENCE == "client"])
def test_the_browser_reads_only_fields_the_schema_lists(cls: type[ev.Event]) -> None:
    body = client_handlers()[cls.WIRE]
    read = set(re.findall(r"\bmsg\.(\w+)", body))
    assert read - (COMMON | set(fields_of(cls))) == set(), f"{cls.WIRE}: not in the schema"


def test_what_the_browser_sends_is_what_the_server_parses() -> None:
    js = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "web_client").glob("*.js"))
    sent = set(re.findall(r'send(?:AndClose)?\(\{ type: "(\w+)"', js))
    parsed = {c.WIRE for c in ev.CLIENT_MESSAGES}
    assert sent and sent <= parsed, sent - parsed


def sample(cls: type) -> object:
    values = {"str": "x", "int": 1, "float": 0.5, "bool": True}
    args = {}
    for f in dataclasses.fields(cls):
        kind = str(f.type).split(" ")[0]
        args[f.name] = () if kind.startswith("tuple") else values.get(kind, "x")
    return cls(**args)


@pytest.mark.parametrize("cls", [c for c in ev.SERVER_EVENTS])
def test_every_field_goes_out_under_its_type(cls: type[ev.Event]) -> None:
    event = sample(cls)
    msg = to_wire(event)  # type: ignore[arg-type]
    assert msg["type"] == cls.WIRE and set(msg) == {"type", *fields_of(cls)}
    assert bus_message("s9", event)["session"] == "s9"  # type: ignore[arg-type]


def test_internal_events_never_leave_the_server() -> None:
    with pytest.raises(ValueError, match="internal"):
        to_wire(ev.AudioChunk(turn_id="a", t=0.0, pcm=b"\0\0", sample_rate=16000, text="x"))


@pytest.mark.parametrize("cls", ev.CLIENT_MESSAGES)
def test_client_messages_round_trip(cls: type[ev.ClientMessage]) -> None:
    import json

    msg = sample(cls)
    if cls is ev.Feedback:
        msg = ev.Feedback(turn_id="t1", rating="up")
    raw = json.dumps({"type": cls.WIRE, **dataclasses.asdict(msg)})  # type: ignore[call-overload]
    assert from_wire(raw) == msg


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("nope", "not JSON"),
        ("[1]", "JSON object"),
        ('{"type": 3}', "JSON object"),
        ('{"type": "fly"}', "unknown message type"),
        ('{"type": "text"}', '"text" must be a string'),
        ('{"type": "text", "text": 5}', '"text" must be a string'),
        ('{"type": "reset", "now": true}', "no field"),
        ('{"type": "feedback", "turn_id": "a", "rating": "5 stars"}', '"up" or "down"'),
        ('{"type": "text", "text": "' + "x" * MAX_MESSAGE + '"}', "at most"),
        (b"{}", "JSON text"),
    ],
)
def test_bad_client_messages_say_what_is_wrong(raw: object, says: str) -> None:
    with pytest.raises(BadMessage, match=re.escape(says)):
        from_wire(raw)
