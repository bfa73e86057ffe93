"""Property-based fuzzing of the data-channel / websocket message handler: whatever a client
sends (junk text, bytes, JSON of the wrong shape, known message types with wrong, missing,
extra, huge or odd values, in any order), `Conversation.receive` never raises, answers every
unusable message with an `error` the schema allows, and the conversation still answers a
plain question afterwards. The WebRTC data channel and the text websocket both hand client
messages to `receive` as they arrive (rtc/session.py, transports/text.py)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.conversation_kit import QUESTION, build
from voice_agent import events as ev
from voice_agent.conversation.wire import MAX_MESSAGE, BadMessage, from_wire

KNOWN = sorted(c.WIRE for c in ev.CLIENT_MESSAGES)
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
FIELDS = st.sampled_from(["text", "lang", "turn_id", "rating", "comment", "reason", "x"])


@st.composite
def shaped(draw: st.DrawFn) -> str:
    """A JSON object that looks like a client message, mostly of a known type."""
    msg: dict[str, Any] = {"type": draw(st.sampled_from(KNOWN) | TEXT | VALUE)}
    for name in draw(st.lists(FIELDS, max_size=3, unique=True)):
        msg[name] = draw(VALUE | st.sampled_from(["en", "pt", "xx", "up", "down", QUESTION]))
    if draw(st.booleans()):
        msg.pop("type")
    return json.dumps(msg, allow_nan=True)


MESSAGE = st.one_of(
    shaped(),
    TEXT,
    st.binary(max_size=64),
    VALUE.map(lambda v: json.dumps(v, allow_nan=True)),
    st.integers(MAX_MESSAGE - 20, 3 * MAX_MESSAGE).map(
        lambda n: json.dumps({"type": "text", "text": "a" * n})
    ),
    st.none(),
)


def usable(raw: object) -> bool:
    try:
        from_wire(raw)
    except BadMessage:
        return False
    return True


async def scenario(messages: list[object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine, conv, out, citizen, _ = await build(Path(tmp), slow=False)
        try:
            for raw in messages:
                before = len(out.of("error"))
                conv.receive(raw)  # never raises
                if not usable(raw):
                    errors = out.of("error")[before:]
                    assert errors and errors[-1]["code"] == "bad_message", raw
                    # it says what is wrong and echoes nothing big back
                    assert len(errors[-1]["message"]) < 300
                await asyncio.sleep(0)
            conv.receive(json.dumps({"type": "reset"}))
            answered = len([m for m in out.of("reply_end") if not m["cancelled"]])
            citizen.type({"type": "text", "text": QUESTION})
            reply = await citizen.reply_done(answered + 1)
            assert "808 24 24 24" in reply["text"]  # still answers from the FAQ
        finally:
            await conv.close()
            engine.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MESSAGE, min_size=1, max_size=12))
def test_no_client_message_breaks_a_conversation(messages: list[object]) -> None:
    asyncio.run(scenario(messages))
