"""One conversation with a citizen, whatever carries it: turn-taking, hand-off, staff messages.

A transport (WebRTC in `transports/rtc/session.py`, the websocket text transport) feeds it
microphone audio (`hear`), client messages (`receive`) and "that turn's audio has played"
(`played`), and gives it a `ReplySink` for what goes out: wire events, reply audio. Everything
about who is speaking lives here: the utterance (`Hearing`), the turn the citizen sees or hears
(`Turn`, at most one), a turn prepared during a pause, and the line to the staff desk.
Everything that leaves, for the citizen or for observers on the bus, is an event of
`events.py` serialised by `wire`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from voice_agent import events as ev
from voice_agent.conversation.engine import Engine, Say, Session, TurnInput, new_turn_id
from voice_agent.conversation.handoff import (
    HandoffDesk,
    HandoffState,
    HandoffStatus,
    NoDesk,
    StaffMessage,
)
from voice_agent.conversation.handoff_line import (
    DeferredLine,
    HandoffLine,
    HeldLine,
    handoff_event,
    handoff_words,
)
from voice_agent.conversation.hearing import Hearing, SpeechDetector
from voice_agent.conversation.turn import Turn, TurnState
from voice_agent.conversation.wire import BadMessage, bus_message, from_wire
from voice_agent.errors import ServiceError
from voice_agent.language.languages import UnsupportedLanguage, normalize_code
from voice_agent.speech_in.audio import STT_RATE, DecodedAudio
from voice_agent.speech_in.vad import StreamingVad
from voice_agent.speech_out.normalize import join_sentences

log = logging.getLogger(__name__)


FINAL_MARKS = tuple(".?!。？！؟।")


def finished(question: str) -> bool:
    """Does the transcript read as a finished question? (Whisper punctuates; "..." trails off.)"""
    q = question.rstrip()
    return q.endswith(FINAL_MARKS) and not q.endswith(("...", "…"))


def not_early(kind: str, heard: str) -> str | None:
    """Why a prepared turn decided as `kind` on the transcript `heard` may not end the turn
    early: `not_faq`, `unfinished`; None: it may."""
    if kind != "faq":
        return "not_faq"
    return None if finished(heard) else "unfinished"


class ReplySink(Protocol):
    """Where a conversation's output goes; each transport implements it."""

    def send(self, event: ev.Event) -> None: ...  # a client-audience event, for the citizen

    def play(self, turn_id: str, pcm: np.ndarray, sample_rate: int) -> None: ...  # int16 mono

    def clear(self, turn_id: str) -> None: ...  # drop what is queued for this turn

    @property
    def playing(self) -> bool: ...

    def hold(self, paused: bool) -> None: ...  # silence out, queue kept (a possible barge-in)

    def echoes(self, heard: np.ndarray) -> bool: ...  # is `heard` our own reply coming back?


KeepUtterance = Callable[[np.ndarray], Coroutine[Any, Any, Any]]


class Conversation:
    def __init__(
        self,
        session_id: str,
        engine: Engine,
        sink: ReplySink,
        *,
        language: str | None = None,
        desk: HandoffDesk | None = None,
        vad: SpeechDetector | None = None,
        clock: Callable[[], float] = time.monotonic,
        keep_utterance: KeepUtterance | None = None,
        speak: bool = True,
    ) -> None:
        self.id = session_id
        self.engine = engine
        self.settings = engine.settings
        self.sink = sink
        self.clock = clock
        self.desk: HandoffDesk = desk or NoDesk()
        self.line = HandoffLine(self.desk, session_id, self.settings.handoff)
        self.session = Session(language=language, handoff=self.line)
        self._vad = vad
        self._hearing: Hearing | None = None  # made when audio first arrives
        self._speak = speak
        self.turn: Turn | None = None  # the turn the citizen sees or hears
        # questions for the person holding the conversation, each on its own turn (below)
        self._aside: set[Turn] = set()
        self._after_words: deque[tuple[Say, str]] = deque()  # to say once the words now end
        self.prepared: tuple[Turn, Session, DeferredLine] | None = None
        self.active = False  # False while queued behind other sessions
        self.closed = False
        self.last_activity = clock()
        self._keep = keep_utterance
        self._tasks: set[asyncio.Task[Any]] = set()
        self._saving: set[asyncio.Task[Any]] = set()  # utterances being kept: never cut short
        self._answers: OrderedDict[str, str | None] = OrderedDict()  # turn id -> faq id
        self._last_question: str | None = None
        self.desk.attach(session_id, self)

    # --- out --------------------------------------------------------------------------------
    def emit(self, event: ev.Event) -> None:
        """To observers on the bus and, if it is for them, to the citizen."""
        self.engine.bus.publish(bus_message(self.id, event))
        if event.AUDIENCE == "client":
            self.sink.send(event)

    def _state(self, state: str, position: int | None = None) -> None:
        self.emit(ev.StateChanged(turn_id=None, t=self.clock(), state=state, position=position))

    def _error(self, code: str, message: str, turn_id: str | None = None) -> None:
        self.emit(ev.ErrorEvent(turn_id=turn_id, t=self.clock(), code=code, message=message))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._saving.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("session %s: task failed", self.id, exc_info=task.exception())
            self._error("internal", "internal error")

    # --- admission --------------------------------------------------------------------------
    def activate(self) -> None:
        self.active = True
        self.last_activity = self.clock()  # time spent queued is not idle time
        lang = self.session.language
        self.emit(
            ev.SessionStarted(turn_id=None, t=self.clock(), session_id=self.id, language=lang)
        )
        self._state("listening")

    def queued(self, position: int) -> None:
        self._state("queued", position)

    @property
    def hearing(self) -> Hearing:
        if self._hearing is None:
            vad = self._vad or StreamingVad(self.engine.vad_model(), self.settings.vad)
            run = self.engine.vad_worker.run
            self._hearing = Hearing(vad, self.settings, self.sink, self, run, self.clock)
        return self._hearing

    @property
    def busy(self) -> bool:
        """Someone is speaking or a reply is on its way: not idle."""
        speaking = self._hearing is not None and self._hearing.speaking
        return self.turn is not None or self.sink.playing or speaking

    def idle_seconds(self) -> float:
        """How long nothing happened; a queued citizen is waiting for us, never idle."""
        if self.busy or not self.active:
            return 0.0
        return self.clock() - self.last_activity

    # --- microphone (called by Hearing) -----------------------------------------------------
    async def hear(self, pcm: np.ndarray) -> None:
        """16 kHz mono float32 microphone audio, as it arrives."""
        if self.active and not self.closed:
            await self.hearing.hear(pcm)

    @property
    def interruptible(self) -> bool:
        """May the citizen's voice stop what is playing? Not a staff member's words: they
        play to the end (what the citizen says meanwhile still reaches the person)."""
        return self.turn is None or self.turn.speaker != "staff"

    def speech_started(self) -> None:
        if self.sink.playing and self.interruptible:
            self._stop("barge-in")
        self.last_activity = self.clock()
        self._state("listening")

    def speech_paused(self, utterance: np.ndarray) -> None:
        """A short pause: run the turn now, its events held back until the pause turns out to
        be the end of the question (or dropped if the citizen goes on)."""
        self._drop_prepared()
        if not self.settings.server.stream_replies or self.line.staff_holds:
            return  # (a question for staff has no answer to prepare)
        line = DeferredLine(self.line)
        session = Session(self.session.language, self.session.context, line)
        turn = Turn(new_turn_id(), TurnState.PREPARING, prepared=True)
        inp = TurnInput(audio=_audio(utterance), segmented=True)
        turn.task = self._spawn(self._run(turn, inp, session))
        self.prepared = (turn, session, line)

    def speech_resumed(self) -> None:
        self._drop_prepared()

    def speech_ended(self, utterance: np.ndarray) -> None:
        if self._keep is not None:
            self._saving.add(self._spawn(self._keep(utterance)))
        prepared, self.prepared = self.prepared, None
        how = self._end_of_turn(prepared)
        if prepared is None or self.line.staff_holds:
            if prepared is not None:
                prepared[0].cancel(self.sink)
            self._ask(TurnInput(audio=_audio(utterance), segmented=True)).end_of_turn = how
            return
        turn, session, line = prepared
        turn.end_of_turn = how
        self._stop("new question")
        turn.state, turn.asked_at = TurnState.RUNNING, self.clock()
        session.handoff = self.line
        self.session = session  # what the prepared turn learnt (language, context) is kept
        line.promote()
        self._begin(turn)
        for e in turn.held:
            self._forward(turn, e)
        turn.held.clear()
        if turn.task is not None and turn.task.done():
            self._produced(turn)

    def _end_of_turn(self, prepared: tuple[Turn, Session, DeferredLine] | None) -> str:
        """How the citizen's turn ended, for the metrics: `early` (the answer prepared at the
        pause was ready), `limit` (too long), else why it waited for the full silence:
        `no_pause` (nothing prepared), `not_ready` (still transcribing or deciding),
        `not_faq` (no FAQ answer), `unfinished` (no final punctuation) or `ready_late`."""
        by = self._hearing.ended_by if self._hearing is not None else "silence"
        if by != "silence" or not self.settings.vad.early_end_ms:
            return by
        if prepared is None:
            return "no_pause"
        turn = prepared[0]
        kind = next((e.kind for e in turn.held if isinstance(e, ev.Decided)), None)
        if kind is None:
            return "not_ready"
        return not_early(kind, turn.heard) or "ready_late"

    def _drop_prepared(self) -> None:
        if self.prepared is not None:
            self.prepared[0].cancel(self.sink)
            self.prepared = None

    # --- turns ------------------------------------------------------------------------------
    def _ask(self, inp: TurnInput) -> Turn:
        """The citizen's question. While a person holds the conversation it is theirs: it runs
        on a turn of its own that neither stops the person's words nor is stopped by them, and
        is shown to them, never answered here (even if they hand back meanwhile)."""
        if not self.line.staff_holds:
            return self._start(inp)
        turn = Turn(new_turn_id(), TurnState.RUNNING, asked_at=self.clock())
        session = Session(self.session.language, self.session.context, HeldLine())
        self._aside.add(turn)
        turn.task = self._spawn(self._run(turn, inp, session))
        return turn

    def _start(self, inp: TurnInput, reason: str = "new question") -> Turn:
        self._stop(reason)
        turn = Turn(new_turn_id(), TurnState.RUNNING, asked_at=self.clock())
        self._begin(turn)
        turn.task = self._spawn(self._run(turn, inp, self.session))
        return turn

    def _begin(self, turn: Turn) -> None:
        self.turn = turn
        self.last_activity = self.clock()
        self._state("thinking")

    def _stop(self, reason: str) -> None:
        """Cancel the turn the citizen sees or hears: the one way a reply stops."""
        turn, self.turn = self.turn, None
        if turn is None or not turn.cancel(self.sink):
            return
        if self._hearing is not None:
            self._hearing.release()
        text = join_sentences(turn.said)
        self.emit(
            ev.ReplyEnded(
                turn_id=turn.id, t=self._at(turn), text=text, cancelled=True, reason=reason
            )
        )
        self.emit(turn.metrics(self.clock(), self._at(turn)))

    def _at(self, turn: Turn) -> float:
        """Seconds since the turn started: the `t` of every message a turn produces."""
        return self.clock() - turn.started_at

    async def _run(self, turn: Turn, inp: TurnInput, session: Session) -> None:
        turn.started_at = self.clock()
        try:
            async for e in self.engine.turn(inp, session, speak=self._speak, turn_id=turn.id):
                self._event(turn, e)
        except ServiceError as exc:
            self._event(
                turn,
                ev.ErrorEvent(
                    turn_id=turn.id, t=self._at(turn), code=exc.code, message=exc.message
                ),
            )
        self._produced(turn)

    def _event(self, turn: Turn, e: ev.Event) -> None:
        turn.mark(e)
        if turn.state == TurnState.PREPARING:
            if isinstance(e, ev.Transcribed):  # what was said up to the pause, shown at once
                self.emit(replace(e, final=False))
                turn.heard = e.text
            elif isinstance(e, ev.Decided) and self._hearing is not None:
                self._hearing.answer_ready = not_early(e.kind, turn.heard) is None
            turn.held.append(e)
        elif turn.state == TurnState.RUNNING:
            self._forward(turn, e)

    def _forward(self, turn: Turn, e: ev.Event) -> None:
        if isinstance(e, ev.AudioChunk):
            pcm = np.frombuffer(e.pcm, np.int16)
            if self.settings.server.stream_replies:
                self._play(turn, pcm, e.sample_rate, e.visemes)
            else:
                turn.audio.append((pcm, e.sample_rate, e.visemes))  # baseline: whole reply first
            return
        if isinstance(e, ev.ReplyStarted):
            turn.replying = True
            self._answers[turn.id] = e.faq_id
            while len(self._answers) > 50:
                self._answers.popitem(last=False)
        elif isinstance(e, ev.ReplyText):
            turn.said.append(e.text)
        elif isinstance(e, ev.Decided):
            self._last_question = e.text
        elif isinstance(e, ev.ReplyEnded):
            for pcm, rate, visemes in turn.audio:
                self._play(turn, pcm, rate, visemes)
            turn.audio.clear()
        if e.AUDIENCE != "internal":
            self.emit(e)

    def _play(
        self, turn: Turn, pcm: np.ndarray, rate: int, visemes: tuple[tuple[float, str], ...]
    ) -> None:
        if turn.first_audio_at is None:
            turn.first_audio_at = self.clock()
        if not self.sink.playing:  # the first audio, or more after a gap
            self._state("speaking")
        self.sink.play(turn.id, pcm, rate)
        turn.queued_s += len(pcm) / rate
        self.emit(
            ev.Visemes(turn_id=turn.id, t=self._at(turn), items=visemes, duration=len(pcm) / rate)
        )

    def _produced(self, turn: Turn) -> None:
        """The turn's task is done; it ends now, or once its audio has played."""
        if turn.state != TurnState.RUNNING:
            return
        if turn.queued_s > 0 and self.sink.playing:
            turn.state = TurnState.PLAYING
        else:
            self._finish(turn)

    def played(self, turn_id: str) -> None:
        """The output played the last audio it had queued for `turn_id`."""
        turn = self.turn
        if turn is not None and turn.id == turn_id and turn.state == TurnState.PLAYING:
            self._finish(turn)

    def _finish(self, turn: Turn) -> None:
        turn.state = TurnState.DONE
        self._aside.discard(turn)
        self.emit(turn.metrics(self.clock(), self._at(turn)))
        if self.turn is turn:
            self.turn = None
            self._state("listening")
            if self._after_words:
                self.say(*self._after_words.popleft())

    def say(self, say: Say, reason: str) -> None:
        """Speak `say`. Nothing cuts a staff member's words, and their words do not cut news
        of the hand-off: each waits for the other to end."""
        now = self.turn if self.turn is not None and self.turn.live else None
        if now is not None and (
            now.speaker == "staff" or (now.speaker is not None and say.speaker == "staff")
        ):
            self._after_words.append((say, reason))
            return
        turn = self._start(TurnInput(say=say), reason)
        turn.speaker = say.speaker

    def _forget_asides(self) -> None:
        for turn in self._aside:
            turn.cancel(self.sink)
        self._aside.clear()
        self._after_words.clear()

    # --- client messages --------------------------------------------------------------------
    def receive(self, raw: object) -> None:
        """One message from the client; a bad one is answered with an error, nothing else."""
        self.last_activity = self.clock()
        try:
            self.handle(from_wire(raw))
        except (BadMessage, UnsupportedLanguage) as exc:
            self._error("bad_message", str(exc))

    def handle(self, msg: ev.ClientMessage) -> None:
        if not self.active and not isinstance(msg, ev.Reset):
            raise BadMessage("the session is queued; please wait")
        if isinstance(msg, ev.AskText):
            self._ask(TurnInput(text=msg.text))
        elif isinstance(msg, ev.PickLanguage):
            lang = self.session.language = normalize_code(msg.lang)
            self.emit(
                ev.LanguageChosen(
                    turn_id=None, t=self.clock(), language=lang, probability=1.0, source="picked"
                )
            )
        elif isinstance(msg, ev.AskForPerson):
            self.request_handoff("button")
        elif isinstance(msg, ev.CancelHandoff):
            self.cancel_handoff()
        elif isinstance(msg, ev.Interrupt):  # the stop button stops staff's words too
            self._after_words.clear()
            self._stop("interrupted")
            self._state("listening")
        elif isinstance(msg, ev.Reset):
            self.reset()
        elif isinstance(msg, ev.Feedback):
            if msg.turn_id not in self._answers:
                raise BadMessage("feedback is for a turn of this conversation that answered")
            faq = self._answers[msg.turn_id]
            self.emit(
                ev.FeedbackGiven(turn_id=msg.turn_id, t=self.clock(), rating=msg.rating, faq_id=faq)
            )

    def reset(self) -> None:
        """Forget the person: their turn, what they said, their hand-off."""
        self._drop_prepared()
        self._forget_asides()
        self._stop("reset")
        if self._hearing is not None:
            self._hearing.reset()
        if self.line.status is not None and self.line.status.state in (
            HandoffState.WAITING,
            HandoffState.ACCEPTED,
        ):
            self.desk.detach(self.id)  # for the desk, this person has left
            self.desk.attach(self.id, self)
        self.line = HandoffLine(self.desk, self.id, self.settings.handoff)
        self.session = Session(handoff=self.line)
        self._answers.clear()
        self._last_question = None
        self._state("listening" if self.active else "queued")

    # --- talking to a person ----------------------------------------------------------------
    @property
    def language(self) -> str:
        return self.session.language or self.settings.default_language

    def _tell(self, status: HandoffStatus, *, speak: bool) -> None:
        lang, messages, hs = self.language, self.engine.answerer.messages, self.settings.handoff
        self.emit(handoff_event(status, messages, hs, lang, turn_id=None, t=self.clock()))
        if speak:
            self.say(Say(handoff_words(status, messages, hs, lang), lang, handoff=True), "handoff")

    def request_handoff(self, reason: str) -> None:
        """The button (or any caller): ask the desk, and tell the citizen the truth."""
        self._tell(self.line.request(self.language, reason, self._last_question), speak=True)

    def cancel_handoff(self) -> None:
        status = self.line.cancel()
        if status is None:
            raise BadMessage("no hand-off is waiting")
        self._tell(status, speak=True)

    def handoff_changed(self, status: HandoffStatus) -> None:
        """From the desk: accepted, handed back, closed, expired, or a new queue position."""
        before = self.line.status.state if self.line.status else None
        if not self.line.changed(status):
            return
        news = status.state != before and status.state != HandoffState.CANCELLED
        self._tell(status, speak=news)

    def staff_message(self, message: StaffMessage) -> None:
        """From the desk: a staff member's words, spoken by the avatar and marked as theirs."""
        say = Say(
            message.text,
            normalize_code(message.language),
            speaker="staff",
            staff_name=message.staff_name,
            faq_id=message.faq_id,
        )
        self.say(say, "staff")

    def staff_viewing(self, viewing: bool) -> None:
        self.emit(ev.StaffViewing(turn_id=None, t=self.clock(), viewing=viewing))

    # --- end --------------------------------------------------------------------------------
    async def close(self, reason: str = "ended") -> None:
        if self.closed:
            return
        self.closed = True
        self._drop_prepared()
        self._forget_asides()
        self._stop("closed")
        if reason == "idle":
            self._state("idle")
        self.emit(ev.SessionClosed(turn_id=None, t=self.clock(), reason=reason))
        self.desk.detach(self.id)
        for task in self._tasks - self._saving:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _audio(samples: np.ndarray) -> DecodedAudio:
    return DecodedAudio(samples, len(samples) / STT_RATE, False)
