"""The console's one reader of the session bus: bus messages in, small typed records out.

The bus carries `{"session": <id>, "type": ..., ...}` dicts (the wire vocabulary of
docs/WIRE.md, plus bus-only messages such as `decision` and `metrics`). Nothing else in
voice_agent/console/ looks at a message's names: if the vocabulary changes, only the table at
the bottom of this file does. A message that is malformed, has no session, or is of a type the
console does not follow reads as None (it is ignored, never an error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Seen:
    session: str
    turn_id: str | None


@dataclass(frozen=True, slots=True)
class Opened(Seen):
    """The session was admitted (after any queue)."""

    language: str | None


@dataclass(frozen=True, slots=True)
class StateSeen(Seen):
    state: str  # listening | thinking | speaking | queued | idle
    position: int | None


@dataclass(frozen=True, slots=True)
class Heard(Seen):
    """A final transcript of what the citizen said (speech only)."""

    text: str
    language: str | None
    probability: float | None


@dataclass(frozen=True, slots=True)
class Decided(Seen):
    """A question and what retrieval made of it (typed or spoken)."""

    text: str
    language: str | None
    # faq | no_answer | off_topic | didnt_hear | greeting | thanks | goodbye | identity | human
    kind: str
    faq_id: str | None
    confidence: float | None


@dataclass(frozen=True, slots=True)
class ReplyBegan(Seen):
    language: str | None
    faq_id: str | None
    confidence: float | None
    mode: str | None
    speaker: str  # assistant | staff
    staff_name: str | None


@dataclass(frozen=True, slots=True)
class ReplyFinished(Seen):
    text: str
    cancelled: bool
    voice: str | None  # the voice that spoke it (known only once it has)


@dataclass(frozen=True, slots=True)
class StageTimes(Seen):
    """Per-stage latency of a finished turn (ms; None: the stage did not run)."""

    stt_ms: float | None
    lid_ms: float | None
    retrieval_ms: float | None
    first_audio_ms: float | None
    total_ms: float | None
    end_of_turn: str | None = None  # how the citizen's turn ended (events.TurnMetrics)
    pause_to_ready_ms: float | None = None
    pause_to_end_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Rated(Seen):
    """The citizen's thumbs up/down on the answer of `turn_id`."""

    rating: str  # up | down
    faq_id: str | None


@dataclass(frozen=True, slots=True)
class HandoffSeen(Seen):
    state: str | None  # None on the old wire: a bare request


@dataclass(frozen=True, slots=True)
class Failed(Seen):
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Ended(Seen):
    reason: str | None


# --- reading ----------------------------------------------------------------------------------
def _str(m: dict[str, Any], key: str) -> str | None:
    v = m.get(key)
    return v if isinstance(v, str) else None


def _num(m: dict[str, Any], key: str) -> float | None:
    v = m.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _int(m: dict[str, Any], key: str) -> int | None:
    v = m.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


Reader = Callable[[str, str | None, dict[str, Any]], Seen | None]

READERS: dict[str, Reader] = {
    "session": lambda s, t, m: Opened(s, t, _str(m, "language")),
    "state": lambda s, t, m: StateSeen(s, t, _str(m, "state") or "", _int(m, "position")),
    "transcript": lambda s, t, m: (
        Heard(s, t, _str(m, "text") or "", _str(m, "language"), _num(m, "probability"))
        if m.get("final", True) is True
        else None
    ),
    "decision": lambda s, t, m: Decided(
        s,
        t,
        _str(m, "text") or "",
        _str(m, "language"),
        _str(m, "kind") or "",
        _str(m, "faq_id"),
        _num(m, "confidence"),
    ),
    "reply": lambda s, t, m: ReplyBegan(
        s,
        t,
        _str(m, "language"),
        _str(m, "faq_id"),
        _num(m, "confidence"),
        _str(m, "mode"),
        "staff" if m.get("speaker") == "staff" else "assistant",
        _str(m, "staff_name"),
    ),
    "reply_end": lambda s, t, m: ReplyFinished(
        s, t, _str(m, "text") or "", m.get("cancelled") is True, _str(m, "voice")
    ),
    "metrics": lambda s, t, m: StageTimes(
        s,
        t,
        _num(m, "stt_ms"),
        _num(m, "lid_ms"),
        _num(m, "retrieval_ms"),
        _num(m, "first_audio_ms"),
        _num(m, "total_ms"),
        _str(m, "end_of_turn"),
        _num(m, "pause_to_ready_ms"),
        _num(m, "pause_to_end_ms"),
    ),
    "feedback": lambda s, t, m: (
        Rated(s, t, m["rating"], _str(m, "faq_id")) if m.get("rating") in ("up", "down") else None
    ),
    "handoff": lambda s, t, m: HandoffSeen(s, t, _str(m, "state")),
    "error": lambda s, t, m: Failed(s, t, _str(m, "code") or "error", _str(m, "message") or ""),
    "closed": lambda s, t, m: Ended(s, t, _str(m, "reason")),
}


def read(message: object) -> Seen | None:
    """The record for one bus message, or None if the console does not follow it."""
    if not isinstance(message, dict):
        return None
    session, kind = message.get("session"), message.get("type")
    if not isinstance(session, str) or not session or not isinstance(kind, str):
        return None
    reader = READERS.get(kind)
    if reader is None:
        return None
    turn = message.get("turn_id")
    return reader(session, turn if isinstance(turn, str) else None, message)
