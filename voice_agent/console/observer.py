"""The conversation log: an observer of the session bus (a bounded queue; it never slows audio).

For every session it keeps a live summary (the consoles' session list) and the recent turns,
raises flags, counts metrics, and stores each turn redacted: the citizen's question (with the
decision: FAQ id, confidence), then the reply (assistant or staff: FAQ id and the published
version that answered, mode, voice, per-stage latency). Everything it shows or stores went
through the redactor first; no raw text is kept anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voice_agent.console import bus_adapter as bus
from voice_agent.console import store
from voice_agent.console.db import ConsoleDb
from voice_agent.console.flags import NOT_QUESTIONS, Flag, FlagRules
from voice_agent.console.metrics import Metrics
from voice_agent.conversation.bus import EventBus
from voice_agent.health import Health, storage_problem

log = logging.getLogger(__name__)
RECENT_TURNS = 400
IGNORED_ERRORS = ("bad_message",)  # the client's fault, not a stage's
Notify = Callable[[dict[str, Any]], None]


@dataclass(slots=True)
class LiveSession:
    id: str
    started_at: float
    rules: FlagRules
    last_activity: float = 0.0
    source: str = "unknown"
    location: str = ""
    language: str | None = None
    languages: list[str] = field(default_factory=list)
    state: str = "listening"
    last_question: str = ""
    questions: int = 0
    answered: int = 0
    handoff: dict[str, Any] | None = None  # {id, state, staff} while live
    handoff_states: set[str] = field(default_factory=set)
    flags: list[dict[str, Any]] = field(default_factory=list)
    turns: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_TURNS))
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # replies in progress
    heard: dict[str, dict[str, Any]] = field(default_factory=dict)  # transcripts not decided
    open_turn: str | None = None  # for wires without turn ids
    seq: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "location": self.location,
            "language": self.language,
            "state": self.state,
            "started_at": self.started_at,
            "last_activity": self.last_activity,
            "last_question": self.last_question,
            "questions": self.questions,
            "answered": self.answered,
            "handoff": self.handoff,
            "flags": [f["kind"] for f in self.flags],
        }

    def outcome(self) -> str:
        if "accepted" in self.handoff_states:
            return "handed_off"
        if "unavailable" in self.handoff_states:
            return "helpline"
        if self.handoff_states & {"expired", "cancelled"}:
            return "abandoned"
        if self.questions == 0:
            return "no_question"
        if self.answered == self.questions:
            return "answered"
        return "unanswered" if self.answered == 0 else "partly_answered"


def log_turn(conn: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Store a turn (the published version of its FAQ entry looked up now); the stored row."""
    if row.get("faq_id") and row["speaker"] != "citizen":
        row["faq_version"] = store.published_version(conn, row["faq_id"])
    row["id"] = store.add_turn(conn, row)
    return row


class ConversationLog:
    def __init__(
        self,
        db: ConsoleDb,
        bus_: EventBus,
        redact: Callable[[str], str],
        rules: Callable[[], FlagRules],
        metrics: Metrics,
        topics: Callable[[], Mapping[str, str]],
        notify: Notify,
        clock: Callable[[], float],
        low_confidence: float,
        health: Health | None = None,
    ) -> None:
        self.db = db
        self._health = health or Health()
        self._storage_down = False
        self._bus = bus_
        self._redact = redact
        self._rules = rules
        self.metrics = metrics
        self._topics = topics
        self._notify = notify
        self._clock = clock
        self._low = low_confidence
        self.live: dict[str, LiveSession] = {}
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.db.run(store.close_stale_sessions, self._clock())
        self._queue = self._bus.subscribe()
        self._task = asyncio.create_task(self._consume(self._queue), name="console-log")

    async def stop(self) -> None:
        if self._queue is not None:
            self._bus.unsubscribe(self._queue)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for s in list(self.live.values()):  # the server is stopping: they end here
            await self._end(s, "shutdown")

    async def _consume(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            message = await queue.get()
            try:
                done = self.db.done
                await self.handle(message)
                wrote = self.db.done > done  # a message that touched no table proves nothing
                if wrote and (self._storage_down or "storage" in self._health.problems):
                    self._storage_down = False  # (a content API write may have failed too)
                    self._health.ok("storage")
                    log.warning("console log: the database takes writes again")
            except sqlite3.Error as exc:
                self._storage_failed(message, exc)
            except Exception:  # noqa: BLE001 - the log must outlive one bad message
                log.exception("console log: could not record a %s message", message.get("type"))

    def _storage_failed(self, message: dict[str, Any], exc: sqlite3.Error) -> None:
        """The database refused a write: counted, logged once per outage, the session flagged
        (in memory: the flag cannot be saved either); the conversation itself goes on."""
        reason = storage_problem(exc)
        self.metrics.errors["storage"] += 1
        self._health.failed("storage", reason, str(exc))
        if not self._storage_down:
            self._storage_down = True
            log.error(
                "console log: the database refused a write (%s: %s); conversations go on "
                "unrecorded until it takes writes again (check var/: free space, permissions, "
                "another process holding it)",
                reason, exc,
            )  # fmt: skip
        s = self.live.get(str(message.get("session") or ""))
        if s is None:
            return
        for f in s.rules.on_storage_failed(reason):
            item = {"kind": f.kind, "detail": f.detail, "turn_id": None, "at": self._clock()}
            s.flags.append(item)
            self._notify({"type": "flag", "session_id": s.id, "flag": item})

    # --- one message ---------------------------------------------------------------------------
    async def handle(self, message: dict[str, Any]) -> None:
        rec = bus.read(message)
        if rec is None:
            return
        if isinstance(rec, bus.Ended):
            if rec.session in self.live:
                await self._end(self.live[rec.session], rec.reason or "ended")
            return
        s = self.live.get(rec.session)
        if s is None:
            s = self.live[rec.session] = LiveSession(rec.session, self._clock(), self._rules())
            await self._save_session(s)
        s.last_activity = self._clock()
        await self._dispatch(s, rec)
        self._notify({"type": "session", "session": s.summary()})

    async def _dispatch(self, s: LiveSession, rec: bus.Seen) -> None:
        if isinstance(rec, bus.Opened):
            s.language = rec.language or s.language
            s.state = "listening"
        elif isinstance(rec, bus.StateSeen):
            s.state = rec.state or s.state
        elif isinstance(rec, bus.Heard):
            s.rules.on_heard(rec.probability)
            s.heard[self._key(s, rec)] = {
                "text": rec.text,
                "language": rec.language,
                "probability": rec.probability,
            }
        elif isinstance(rec, bus.Decided):
            await self._question(s, rec)
        elif isinstance(rec, bus.ReplyBegan):
            s.pending[self._key(s, rec)] = {
                "speaker": rec.speaker,
                "language": rec.language,
                "faq_id": rec.faq_id,
                "confidence": rec.confidence,
                "mode": rec.mode,
                "staff": rec.staff_name,
            }
        elif isinstance(rec, bus.ReplyFinished):
            await self._reply(s, rec)
        elif isinstance(rec, bus.StageTimes):
            await self._times(s, rec)
        elif isinstance(rec, bus.Rated):
            await self.rate(s.id, rec.turn_id, "citizen", rec.rating, "", None)
        elif isinstance(rec, bus.HandoffSeen):
            if rec.state in (None, "waiting", "unavailable"):
                await self._flags(s, None, s.rules.on_handoff())
            elif rec.state in ("returned", "closed", "cancelled", "expired"):
                s.rules.on_handoff_over()
        elif isinstance(rec, bus.Failed) and rec.code not in IGNORED_ERRORS:
            self.metrics.errors[rec.code] += 1
            await self._flags(s, rec.turn_id, s.rules.on_error(rec.code))

    def _key(self, s: LiveSession, rec: bus.Seen) -> str:
        if rec.turn_id:
            return rec.turn_id
        if s.open_turn is None:
            s.seq += 1
            s.open_turn = f"{s.id}-{s.seq}"
        return s.open_turn

    async def _question(self, s: LiveSession, rec: bus.Decided) -> None:
        key = self._key(s, rec)
        heard = s.heard.pop(key, None)
        text = self._redact(rec.text)
        if rec.kind not in NOT_QUESTIONS:
            s.questions += 1
            if rec.kind == "faq" and (rec.confidence or 0.0) >= self._low:
                s.answered += 1
            s.last_question = text[:200]
        if rec.language:
            s.language = rec.language
            if rec.language not in s.languages:
                s.languages.append(rec.language)
        topic = self._topics().get(rec.faq_id or "") if rec.kind == "faq" else None
        row = {
            "session_id": s.id,
            "turn_id": key,
            "at": self._clock(),
            "speaker": "citizen",
            "text": text,
            "language": rec.language,
            "kind": rec.kind,
            "topic": topic or ("unanswered" if rec.kind == "no_answer" else None),
            "faq_id": rec.faq_id,
            "confidence": rec.confidence,
            "stt_probability": heard["probability"] if heard else None,
        }
        await self._store_turn(s, row)
        flags = s.rules.on_question(
            rec.text, rec.language, rec.kind, rec.faq_id, rec.confidence or 0.0
        )
        await self._flags(s, key, flags)
        await self._save_session(s)

    async def _reply(self, s: LiveSession, rec: bus.ReplyFinished) -> None:
        key = self._key(s, rec)
        s.open_turn = None
        heard = s.heard.pop(key, None)
        if heard is not None and heard["text"]:  # heard, but never decided (didn't hear it)
            await self._store_turn(
                s,
                {
                    "session_id": s.id,
                    "turn_id": key,
                    "at": self._clock(),
                    "speaker": "citizen",
                    "text": self._redact(heard["text"]),
                    "language": heard["language"],
                    "kind": "didnt_hear",
                    "stt_probability": heard["probability"],
                },
            )
        began = s.pending.pop(key, {"speaker": "assistant"})
        if not rec.text and not rec.cancelled:
            return
        row = {
            **began,
            "session_id": s.id,
            "turn_id": key,
            "at": self._clock(),
            "text": self._redact(rec.text),
            "cancelled": int(rec.cancelled),
            "voice": rec.voice,
        }
        await self._store_turn(s, row)

    async def _times(self, s: LiveSession, rec: bus.StageTimes) -> None:
        times = {
            "stt_ms": rec.stt_ms,
            "lid_ms": rec.lid_ms,
            "retrieval_ms": rec.retrieval_ms,
            "first_audio_ms": rec.first_audio_ms,
            "total_ms": rec.total_ms,
        }
        self.metrics.observe_turn(
            {
                **times,
                "pause_to_ready_ms": rec.pause_to_ready_ms,
                "pause_to_end_ms": rec.pause_to_end_ms,
            },
            rec.end_of_turn,
        )
        key = self._key(s, rec)
        await self.db.run(store.set_turn_times, s.id, key, times)
        for turn in reversed(s.turns):
            if turn["turn_id"] == key and turn["speaker"] != "citizen":
                turn.update(times)
                break
        self._notify({"type": "times", "session_id": s.id, "turn_id": key, **times})
        await self._flags(s, key, s.rules.on_times(rec.first_audio_ms))

    async def _store_turn(self, s: LiveSession, row: dict[str, Any]) -> None:
        stored = await self.db.run(log_turn, row)
        s.turns.append(stored)
        self._notify({"type": "turn", "session_id": s.id, "turn": stored})

    async def _flags(self, s: LiveSession, turn_id: str | None, flags: list[Flag]) -> None:
        for f in flags:
            at = self._clock()
            item = {"kind": f.kind, "detail": f.detail, "turn_id": turn_id, "at": at}
            s.flags.append(item)
            await self.db.run(store.add_flag, s.id, turn_id, at, f.kind, f.detail)
            self._notify({"type": "flag", "session_id": s.id, "flag": item})

    async def _save_session(self, s: LiveSession, ended: str | None = None) -> None:
        await self.db.run(
            store.update_session,
            s.id,
            s.started_at,
            language=s.language,
            languages=" ".join(s.languages),
            questions=s.questions,
            answered=s.answered,
            ended_at=self._clock() if ended else None,
            outcome=s.outcome() if ended else None,
        )

    async def _end(self, s: LiveSession, reason: str) -> None:
        self.live.pop(s.id, None)
        await self._save_session(s, ended=reason)
        self._notify({"type": "session_gone", "session_id": s.id})

    # --- from the desk and the console API -----------------------------------------------------
    def handoff_changed(self, session_id: str, summary: dict[str, Any] | None, state: str) -> None:
        s = self.live.get(session_id)
        if s is None:
            return
        s.handoff = summary
        s.handoff_states.add(state)
        self._notify({"type": "session", "session": s.summary()})

    def describe(self, session_id: str, source: str, location: str) -> bool:
        s = self.live.get(session_id)
        if s is None or s.source != "unknown":
            return False  # unknown, or described already (first description wins)
        s.source, s.location = source, location
        self._notify({"type": "session", "session": s.summary()})
        return True

    async def rate(
        self,
        session_id: str,
        turn_id: str | None,
        source: str,
        rating: str,
        note: str,
        username: str | None,
    ) -> dict[str, Any] | None:
        """A rating of the answer of `turn_id`, linked to the FAQ entry and version."""
        if not turn_id:
            return None
        turn = await self.db.run(store.turn_for_rating, session_id, turn_id)
        if turn is None:
            return None
        row = {
            "at": self._clock(),
            "session_id": session_id,
            "turn_id": turn_id,
            "source": source,
            "rating": rating,
            "note": self._redact(note)[:1000],
            "username": username,
            "faq_id": turn["faq_id"],
            "faq_version": turn["faq_version"],
            "language": turn["language"],
            "question": turn["question"],
            "answer": turn["text"],
        }
        row["id"] = await self.db.run(store.add_feedback, row)
        self.metrics.feedback[rating] += 1
        s = self.live.get(session_id)
        if s is not None:
            await self._flags(s, turn_id, FlagRules.on_rating(rating))
        else:
            for f in FlagRules.on_rating(rating):
                await self.db.run(store.add_flag, session_id, turn_id, row["at"], f.kind, f.detail)
        return row
