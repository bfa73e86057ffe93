"""The event vocabulary: every stream is bracketed started -> chunks -> ended.

Each event is a frozen dataclass carrying the turn it belongs to and a timestamp (seconds on
the engine's clock). `to_dict` serialises any event generically, so no field is ever dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    turn_id: str
    t: float


# --- speech in -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStarted(Event):
    """VAD: the citizen started speaking."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechEnded(Event):
    """VAD: end of the citizen's turn (after the configured silence)."""

    duration_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptFinal(Event):
    text: str
    language: str
    probability: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageChosen(Event):
    language: str
    probability: float
    source: str


# --- reply ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyStarted(Event):
    language: str
    faq_id: str | None
    confidence: float
    handoff: bool
    link: str | None = None
    mode: str = "curated"  # planned: curated | rephrased | message (ReplyEnded: what was said)
    status: str | None = None  # the answer's review status: reviewed | machine-translated | draft
    context_from: str | None = None  # decided as a follow-up of this entry's answer


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyText(Event):
    """One sentence of the reply, in speaking order."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyEnded(Event):
    text: str
    mode: str = "curated"  # what was really said: curated | rephrased | message | mixed


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioStarted(Event):
    sample_rate: int
    voice: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioChunk(Event):
    """Mono int16 PCM for one sentence, with viseme timings (seconds from chunk start)."""

    pcm: bytes = field(repr=False)
    sample_rate: int
    text: str
    visemes: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioEnded(Event):
    pass


# --- lifecycle --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class TurnEnded(Event):
    cancelled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(Event):
    code: str
    message: str
    retryable: bool = False


def to_dict(event: Event) -> dict[str, Any]:
    """Generic serialisation: every field, plus a type tag. Bytes are left out of JSON forms."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, bytes):
            out[f.name + "_bytes"] = len(value)
        else:
            out[f.name] = value
    return out
