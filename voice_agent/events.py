"""The event vocabulary: every stream is bracketed started -> chunks -> ended.

Each event is a frozen dataclass carrying the turn it belongs to (`None`: the session, not a
turn) and a timestamp `t` in seconds: since the turn started for the engine's turn events,
on the conversation's clock for the conversation's own. `WIRE` names the message type an
event is sent as, and `AUDIENCE` who gets it: "client" (the citizen's browser, and the bus),
"bus" (observers only) or "internal" (never serialised: audio bytes, VAD brackets).
`voice_agent.conversation.wire` serialises any of them generically, so no field is dropped.

Messages the browser sends are `ClientMessage`s (no turn, no time), parsed in one place too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    WIRE: ClassVar[str] = ""
    AUDIENCE: ClassVar[str] = "internal"

    turn_id: str | None
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
class Transcribed(Event):
    """What the citizen said; `final: false` for the words up to a pause (they may change)."""

    WIRE = "transcript"
    AUDIENCE = "client"
    text: str
    language: str
    probability: float
    final: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageChosen(Event):
    """The language of the turn (source: text / audio / prior / given / picked)."""

    WIRE = "language"
    AUDIENCE = "client"
    language: str
    probability: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decided(Event):
    """Retrieval + decision for a question (observers: the unanswered log, the console)."""

    WIRE = "decision"
    AUDIENCE = "bus"
    text: str
    language: str
    kind: str  # faq, no_answer, off_topic, didnt_hear, greeting, ..., human; staff: left to staff
    faq_id: str | None
    confidence: float
    best_entry: str | None
    best_score: float | None
    context_from: str | None = None  # the entry a follow-up was read with
    area: str | None = None  # no answer: the area whose office the citizen was pointed to


# --- reply ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyStarted(Event):
    """A reply starts (an answer, a system message, or a staff member's words)."""

    WIRE = "reply"
    AUDIENCE = "client"
    language: str
    faq_id: str | None
    confidence: float
    handoff: bool  # the reply is about talking to a person (helpline shown)
    link: str | None = None
    mode: str = "curated"  # planned: curated | rephrased | message (ReplyEnded: what was said)
    speaker: str = "assistant"  # assistant | staff (a staff member's message, spoken for them)
    staff_name: str | None = None
    status: str | None = None  # the answer's review status: reviewed | machine-translated | draft
    context_from: str | None = None  # decided as a follow-up of this entry's answer


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyText(Event):
    """One sentence of the reply, in speaking order."""

    WIRE = "sentence"
    AUDIENCE = "client"
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
class Visemes(Event):
    """Mouth shapes for the audio just queued: [[seconds, viseme], ...] over `duration` s."""

    WIRE = "visemes"
    AUDIENCE = "client"
    items: tuple[tuple[float, str], ...]
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioEnded(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyEnded(Event):
    """The reply is over: all of it (`text`), or cancelled (`reason`) with what was said."""

    WIRE = "reply_end"
    AUDIENCE = "client"
    text: str
    cancelled: bool = False
    reason: str | None = None  # barge-in | interrupted | new question | reset | closed | ...
    mode: str = "curated"  # what was really said: curated | rephrased | message | mixed
    voice: str | None = None  # the voice that spoke it (e.g. kokoro:pf_dora); None: text only


# --- lifecycle --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class TurnEnded(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(Event):
    """Something failed; the session goes on."""

    WIRE = "error"
    AUDIENCE = "client"
    code: str
    message: str
    retryable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(Event):
    """The session is admitted (after any queue)."""

    WIRE = "session"
    AUDIENCE = "client"
    session_id: str
    language: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(Event):
    """listening | thinking | speaking | queued | idle (position: place in the queue)."""

    WIRE = "state"
    AUDIENCE = "client"
    state: str  # listening | thinking | speaking | queued | idle
    position: int | None = None  # place in the admission queue while queued


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionClosed(Event):
    """The server is closing the session (reason: idle | shutdown | ended)."""

    WIRE = "closed"
    AUDIENCE = "client"
    reason: str  # idle | shutdown | ended


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnMetrics(Event):
    """Per-stage latency of a finished turn, in ms (None: the stage did not run)."""

    WIRE = "metrics"
    AUDIENCE = "bus"
    stt_ms: float | None
    lid_ms: float | None
    retrieval_ms: float | None
    first_audio_ms: float | None  # end of the citizen's speech (or the question) -> first audio
    total_ms: float | None
    cancelled: bool
    # how the citizen's turn ended: early | silence | limit, or why it was not early
    # (no_pause | not_ready | not_faq | unfinished | ready_late); None: a typed question
    end_of_turn: str | None = None
    pause_to_ready_ms: float | None = None  # the pause -> the answer prepared there decided
    pause_to_end_ms: float | None = None  # the pause -> the end of the turn


# --- talking to a person ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffChanged(Event):
    """The hand-off's state as the desk reported it (see conversation/handoff.py)."""

    WIRE = "handoff"
    AUDIENCE = "client"
    handoff_id: str | None
    state: str  # waiting | accepted | returned | closed | cancelled | expired | unavailable
    on_duty: bool
    position: int | None = None
    staff_name: str | None = None
    helpline: str | None = None  # given when nobody can come
    helpline_mobile: str | None = None
    hours: str | None = None  # the staff's opening hours, in the citizen's language


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffViewing(Event):
    """A staff member opened (or left) this conversation in the console."""

    WIRE = "staff_viewing"
    AUDIENCE = "client"
    viewing: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackGiven(Event):
    """The citizen rated the answer of `turn_id`."""

    WIRE = "feedback"
    AUDIENCE = "bus"
    rating: str  # up | down
    faq_id: str | None


# --- browser -> server ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ClientMessage:
    WIRE: ClassVar[str] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AskText(ClientMessage):
    """A typed question (cancels a reply in progress)."""

    WIRE = "text"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PickLanguage(ClientMessage):
    """The language picked on the page."""

    WIRE = "lang"
    lang: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AskForPerson(ClientMessage):
    """The "talk to a person" button."""

    WIRE = "handoff"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelHandoff(ClientMessage):
    """Cancel a waiting hand-off."""

    WIRE = "handoff_cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interrupt(ClientMessage):
    """Stop the reply (the stop button)."""

    WIRE = "interrupt"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reset(ClientMessage):
    """Forget the conversation (privacy reset)."""

    WIRE = "reset"


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback(ClientMessage):
    """Thumbs up/down on the answer of that turn."""

    WIRE = "feedback"
    turn_id: str
    rating: str  # up | down


SERVER_EVENTS: tuple[type[Event], ...] = (
    SessionStarted,
    StateChanged,
    Transcribed,
    LanguageChosen,
    ReplyStarted,
    ReplyText,
    Visemes,
    ReplyEnded,
    HandoffChanged,
    StaffViewing,
    ErrorEvent,
    SessionClosed,
    Decided,
    TurnMetrics,
    FeedbackGiven,
)
CLIENT_MESSAGES: tuple[type[ClientMessage], ...] = (
    AskText,
    PickLanguage,
    AskForPerson,
    CancelHandoff,
    Interrupt,
    Reset,
    Feedback,
)
