"""The engine: one turn = (VAD) -> STT -> language -> retrieval -> answer -> TTS, as events.

`Engine.turn` yields the event vocabulary of `events.py` as the turn progresses, so the first
sentence is synthesised (and can be played) while the rest is still being produced. Models
are loaded once per engine and shared by every session; each runs in its own worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from voice_agent import events as ev
from voice_agent.answer.answerer import Answerer, Messages, spoken_mode
from voice_agent.answer.calibrate import trusted_languages
from voice_agent.answer.decision import Decision, decide_question
from voice_agent.answer.llm import LlamaGenerator
from voice_agent.answer.retrieval import E5Embedder, Progress, Retriever
from voice_agent.answer.screening import PERSON, Screener
from voice_agent.config import Settings
from voice_agent.content.faq import FaqEntry, FaqStore, load_entries
from voice_agent.conversation.bus import EventBus
from voice_agent.conversation.handoff import NoDesk
from voice_agent.conversation.handoff_line import HandoffLine, Line, handoff_event, handoff_words
from voice_agent.errors import BadInput, ServiceError, StageFailed
from voice_agent.health import Health
from voice_agent.language.languages import CODES, normalize_code
from voice_agent.language.lid import LanguageGuess, LanguageIdentifier, TextLanguageDetector
from voice_agent.models import check_file, expected_size
from voice_agent.remote import factory as remote
from voice_agent.speech_in.audio import STT_RATE, DecodedAudio
from voice_agent.speech_in.stt import SpeechToText, WhisperStt
from voice_agent.speech_in.vad import SileroModel, speech_span
from voice_agent.speech_out.engines import Synthesizer
from voice_agent.speech_out.normalize import first_clause_split, join_sentences, split_sentences
from voice_agent.speech_out.voices import Voices
from voice_agent.workers import ModelWorker

DATA = Path(__file__).resolve().parents[1] / "data"
log = logging.getLogger(__name__)


def default_screener() -> Screener:
    return Screener(DATA / "negatives.yaml", DATA / "smalltalk.yaml", DATA / "injection_cues.yaml")


@dataclass(frozen=True, slots=True)
class AnswerContext:
    """The last answered entry: a short follow-up ("and where do I do that?") is decided in
    its context."""

    faq_id: str
    topic: str | None
    question: str
    language: str


@dataclass(slots=True)
class Session:
    """What a conversation remembers: the language prior, the last answer, the hand-off line
    (None: no staff desk, so nobody is ever on duty)."""

    language: str | None = None
    context: AnswerContext | None = None
    handoff: Line | None = None


@dataclass(frozen=True, slots=True)
class Say:
    """Words spoken as they are: a staff member's message, news about the hand-off."""

    text: str
    language: str
    speaker: str = "assistant"  # assistant | staff
    staff_name: str | None = None
    faq_id: str | None = None
    handoff: bool = False


@dataclass(frozen=True, slots=True)
class TurnInput:
    text: str | None = None
    audio: DecodedAudio | None = None
    language: str | None = None  # given by the caller: no detection
    segmented: bool = False  # the audio is one utterance, already cut by a streaming VAD
    say: Say | None = None  # speak this; nothing is heard or decided


@dataclass(slots=True)
class _Heard:
    """What the listening steps of a turn found out."""

    language: str
    transcript: str = ""
    decision: Decision | None = None  # known without retrieval: silence, unintelligible


def _chosen(guess: LanguageGuess, turn_id: str, t: float) -> ev.LanguageChosen:
    return ev.LanguageChosen(
        turn_id=turn_id,
        t=t,
        language=guess.language,
        probability=round(guess.probability, 4),
        source=guess.source,
    )


def new_turn_id() -> str:
    return uuid.uuid4().hex[:12]


def validate_text(text: str, max_chars: int) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise BadInput("the question is empty: type or say a question")
    if len(cleaned) > max_chars:
        raise BadInput(
            f"the question is too long ({len(cleaned):,} characters; the limit is {max_chars:,}): "
            "ask one short question at a time"
        )
    return cleaned


@dataclass(slots=True)
class Components:
    """The engines a turn uses; real ones from `Engine.create`, fakes in tests."""

    stt: SpeechToText
    lid: LanguageIdentifier
    retriever: Retriever
    answerer: Answerer
    voices: Voices
    vad: Callable[[], SileroModel]
    closers: list[Callable[[], None]] = field(default_factory=list)


class Engine:
    def __init__(
        self, settings: Settings, parts: Components, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.stt = parts.stt
        self.lid = parts.lid
        self.retriever = parts.retriever
        self.answerer = parts.answerer
        self.voices = parts.voices
        self._vad = parts.vad
        self.vad_worker = ModelWorker("vad")  # VAD runs here, off the event loop
        self.bus = EventBus()  # observers (staff console, unanswered-question log) subscribe
        self.health = Health()  # failing stages, for /healthz
        self._closers = [*parts.closers, self.vad_worker.close]

    @classmethod
    def create(cls, settings: Settings, clock: Callable[[], float] = time.perf_counter) -> Engine:
        """The real engines, loaded lazily from `models/` (see `voice-agent models list`)."""
        models = settings.models_path
        stt_dir = settings.model_path(settings.stt.model_dir)
        stt = remote.speech_to_text(settings, lambda: WhisperStt(stt_dir, settings.stt, models))
        lid = LanguageIdentifier(TextLanguageDetector())
        store = FaqStore(settings.db_path)
        embed_worker = ModelWorker("embeddings")
        e5 = models / "embeddings" / "e5-small-q4.bin"
        retriever = Retriever(
            store,
            E5Embedder(check_file(e5, expected_size(models, e5), what="embeddings")),
            settings.retrieval,
            default_screener(),
            embed_worker,
        )
        trusted = trusted_languages(settings)  # by hand, else `voice-agent llm calibrate`
        llm_path = settings.model_path(settings.llm.model_file)

        def local_llm() -> LlamaGenerator:
            return LlamaGenerator(llm_path, settings.llm, models)

        llm = remote.reply_generator(settings, local_llm) if trusted else None
        answerer = Answerer(Messages(DATA / "messages.yaml"), lid, llm, trusted)
        voices = remote.voices(settings)  # local (VoiceRegistry) unless [tts] url is set
        vad_path = models / "vad" / "silero_vad_v6.onnx"
        vad_cache: list[SileroModel] = []

        def vad() -> SileroModel:
            if not vad_cache:
                vad_cache.append(SileroModel(check_file(vad_path, what="VAD")))
            return vad_cache[0]

        closers = [stt.close, embed_worker.close, voices.close, store.close]
        if llm is not None:
            closers.append(llm.close)
        parts = Components(stt, lid, retriever, answerer, voices, vad, closers)
        return cls(settings, parts, clock)

    # --- lifecycle ----------------------------------------------------------------------------
    async def load_faq(self, progress: Progress | None = None) -> int:
        """Load faq_db/ (YAML) and answer from it."""
        entries = load_entries(self.settings.path(self.settings.faq_dir))
        await self.publish(entries, progress)
        return len(entries)

    async def publish(self, entries: list[FaqEntry], progress: Progress | None = None) -> None:
        """Answer from exactly these entries from now on (only new texts are embedded)."""

        def swap() -> None:
            self.retriever.store.replace_all(entries)
            self.retriever.rebuild(progress)

        await self.retriever.run_exclusive(swap)
        self.voices.prepare(entries)  # reply-audio cache: synthesise these answers ahead

    async def warm_up(self) -> None:
        """Load what the first citizen would otherwise wait for: STT, VAD, Piper voices."""
        await self.stt.load()
        await self.vad_worker.run(self._vad)
        piper = {c for c in CODES if self.voices.describe(c).startswith("piper:")}
        for code in sorted(piper) + [self.settings.default_language]:
            with contextlib.suppress(ServiceError):
                await self.voices.for_language(code)
        self.voices.start_prefill()  # fill the reply-audio cache in the background

    def vad_model(self) -> SileroModel:
        return self._vad()

    def close(self) -> None:
        for close in self._closers:
            close()

    # --- one turn -----------------------------------------------------------------------------
    async def turn(
        self, inp: TurnInput, session: Session, *, speak: bool = True, turn_id: str | None = None
    ) -> AsyncIterator[ev.Event]:
        """Hear, decide, answer: the turn's events as they happen (`t`: seconds since its start).
        A stage that fails (docs/FAULTS.md) ends the turn with an error and a spoken message."""
        turn_id = turn_id or new_turn_id()
        t0 = self.clock()

        def now() -> float:
            return self.clock() - t0

        try:
            async for e in self._turn(inp, session, speak, turn_id, now):
                yield e
        except StageFailed as exc:
            async for e in self._failed(exc, session, speak, turn_id, now):
                yield e

    async def _failed(
        self,
        exc: StageFailed,
        session: Session,
        speak: bool,
        turn_id: str,
        now: Callable[[], float],
    ) -> AsyncIterator[ev.Event]:
        """The error (flagged and counted by the console), then the citizen is told in their
        language: type the question if speech recognition failed, else try again / a person."""
        log.error("turn %s: %s (%s)", turn_id, exc.message, exc.code)
        self.health.failed(exc.stage, exc.code, exc.message)
        yield ev.ErrorEvent(
            turn_id=turn_id, t=now(), code=exc.code, message=exc.message, retryable=exc.retryable
        )
        lang = session.language or self.settings.default_language
        words = self.answerer.messages.get("type_instead" if exc.stage == "stt" else "error", lang)
        async for e in self._reply(turn_id, now, self._said(Say(words, lang), now, turn_id), speak):
            yield e
        yield ev.TurnEnded(turn_id=turn_id, t=now())

    async def _turn(
        self, inp: TurnInput, session: Session, speak: bool, turn_id: str, now: Callable[[], float]
    ) -> AsyncIterator[ev.Event]:
        if inp.say is not None:
            async for e in self._reply(turn_id, now, self._said(inp.say, now, turn_id), speak):
                yield e
            yield ev.TurnEnded(turn_id=turn_id, t=now())
            return
        given = normalize_code(inp.language) if inp.language else None
        heard = _Heard(given or session.language or self.settings.default_language)
        async for e in self._listen(inp, given, session, turn_id, now, heard):
            yield e
        session.language = lang = heard.language
        line: Line = session.handoff or HandoffLine(NoDesk(), "", self.settings.handoff)
        if heard.decision is None and line.staff_holds:
            # A person holds the conversation: the question is for them, not answered here.
            yield ev.Decided(
                turn_id=turn_id, t=now(), text=heard.transcript, language=lang, kind="staff",
                faq_id=None, confidence=0.0, best_entry=None, best_score=None,
            )  # fmt: skip
            yield ev.TurnEnded(turn_id=turn_id, t=now())
            return
        decision = heard.decision
        if decision is None:
            decision, decided = await self._decide(heard.transcript, lang, session.context)
            yield replace(decided, turn_id=turn_id, t=now())
        kind = PERSON if decision.calls_staff else decision.kind
        status = await line.consider(kind, lang, heard.transcript or None)
        if decision.kind == "faq" and decision.entry is not None:
            session.context = AnswerContext(
                decision.entry.id, decision.entry.topic, heard.transcript, lang
            )
        if status is None:
            replies = self._answered(decision, heard.transcript, now, turn_id)
        else:
            messages, hs = self.answerer.messages, self.settings.handoff
            yield handoff_event(status, messages, hs, lang, turn_id=turn_id, t=now())
            words = handoff_words(status, messages, hs, lang)
            if decision.kind == "no_answer":  # not asked for: say why a person is offered
                words = f"{messages.get('handoff_after_misses', lang)} {words}"
            if decision.kind == "faq":  # a covered question and a person asked for: both
                replies = self._answered(decision, heard.transcript, now, turn_id, then=words)
            else:
                replies = self._said(Say(words, lang, handoff=True), now, turn_id)
        async for e in self._reply(turn_id, now, replies, speak):
            yield e
        yield ev.TurnEnded(turn_id=turn_id, t=now())

    async def _listen(
        self,
        inp: TurnInput,
        given: str | None,
        session: Session,
        turn_id: str,
        now: Callable[[], float],
        heard: _Heard,
    ) -> AsyncIterator[ev.Event]:
        """Speech or text in -> transcript and language (or a decision: nothing was heard)."""
        if inp.audio is not None:
            clip = await self._speech(inp)
            if clip is None:
                heard.decision = Decision("didnt_hear", heard.language, None, 0.0, False)
            else:
                samples, spoken_s = clip
                if spoken_s is not None:
                    yield ev.SpeechStarted(turn_id=turn_id, t=now())
                    yield ev.SpeechEnded(turn_id=turn_id, t=now(), duration_s=spoken_s)
                async for e in self._transcribe(samples, given, session, turn_id, now, heard):
                    yield e
        elif inp.text is not None:
            heard.transcript = validate_text(inp.text, self.settings.limits.max_text_chars)
            if given is None:
                guess = self.lid.identify(heard.transcript, prior=session.language)
                heard.language = guess.language
                yield _chosen(guess, turn_id, now())
        if given:
            yield ev.LanguageChosen(
                turn_id=turn_id, t=now(), language=given, probability=1.0, source="given"
            )

    async def _speech(self, inp: TurnInput) -> tuple[np.ndarray, float | None] | None:
        """The audio to transcribe and how long the speech in it is (None: no speech). A
        streaming VAD's utterance is used as it is (no second VAD pass, no brackets: the
        conversation sent them); a whole recording is cut to its speech."""
        assert inp.audio is not None
        samples = inp.audio.samples
        if inp.segmented:
            return samples, None
        span = await self.vad_worker.run(
            lambda: speech_span(self._vad(), self.settings.vad, samples)
        )
        if span is None:
            return None
        a, b = span
        return samples[max(0, int((a - 0.3) * STT_RATE)) : int((b + 0.3) * STT_RATE)], round(
            b - a, 3
        )

    async def _transcribe(
        self,
        clip: np.ndarray,
        given: str | None,
        session: Session,
        turn_id: str,
        now: Callable[[], float],
        heard: _Heard,
    ) -> AsyncIterator[ev.Event]:
        try:
            tr = await self.stt.transcribe(clip, language=given, prior=session.language)
        except (ServiceError, RuntimeError, ValueError, OSError) as exc:
            raise StageFailed("stt", exc) from exc
        self.health.ok("stt")
        heard.transcript = tr.text
        yield ev.Transcribed(
            turn_id=turn_id,
            t=now(),
            text=tr.text,
            language=tr.language,
            probability=round(tr.probability, 4),
        )
        if tr.unintelligible:
            heard.decision = Decision("didnt_hear", heard.language, None, 0.0, False)
        elif given is None:
            guess = self.lid.identify(
                tr.text, audio_probs=tr.language_probs, prior=session.language
            )
            heard.language = guess.language
            yield _chosen(guess, turn_id, now())

    async def _decide(
        self, question: str, lang: str, context: AnswerContext | None
    ) -> tuple[Decision, ev.Decided]:
        """Retrieval + decision: the one place a live question is decided (with its context);
        `answer.decision.decide_question` is the same for "try a question" and the eval."""
        try:
            decided = await decide_question(
                self.retriever, question, lang, self.settings.retrieval, context
            )
        except ServiceError as exc:
            raise StageFailed("retrieval", exc) from exc
        self.health.ok("retrieval")
        d, best = decided.decision, decided.result.best
        event = ev.Decided(
            turn_id=None,
            t=0.0,
            text=question,
            language=d.language,
            kind=d.kind,
            faq_id=d.faq_id,
            confidence=d.confidence,
            best_entry=best.entry_id if best else None,
            best_score=round(best.score, 4) if best else None,
            context_from=d.context_from,
            area=d.route.area if d.route else None,
        )
        return d, event

    async def _answered(
        self,
        decision: Decision,
        question: str,
        now: Callable[[], float],
        turn_id: str,
        then: str | None = None,
    ) -> AsyncIterator[ev.ReplyStarted | ev.ErrorEvent | tuple[str, str]]:
        """The reply's header, then its sentences (curated, rephrased or a system message),
        then `then` (what the desk said, where a person was asked for too)."""
        yield ev.ReplyStarted(
            turn_id=turn_id,
            t=now(),
            language=decision.language,
            faq_id=decision.faq_id,
            confidence=decision.confidence,
            handoff=decision.handoff,
            link=decision.link,
            mode=self.answerer.planned_mode(decision),
            status=decision.status,
            context_from=decision.context_from,
        )
        said = 0
        try:
            async for mode, sentence in self.answerer.sentences(decision, question):
                said += 1
                if mode == "rephrased":
                    self.health.ok("llm")
                yield mode, sentence
        except Exception as exc:  # noqa: BLE001 - the LLM: the curated answer is said instead
            failed = StageFailed("llm", exc)
            log.error("turn %s: %s (%s)", turn_id, failed.message, failed.code)
            self.health.failed("llm", failed.code, failed.message)
            yield ev.ErrorEvent(turn_id=turn_id, t=now(), code=failed.code, message=failed.message)
            if said == 0:
                for s in split_sentences(self.answerer.curated_text(decision)):
                    yield "curated", s
        for s in split_sentences(then or ""):
            yield "message", s

    async def _said(
        self, say: Say, now: Callable[[], float], turn_id: str
    ) -> AsyncIterator[ev.ReplyStarted | ev.ErrorEvent | tuple[str, str]]:
        yield ev.ReplyStarted(
            turn_id=turn_id,
            t=now(),
            language=say.language,
            faq_id=say.faq_id,
            confidence=1.0,
            handoff=say.handoff,
            mode="message",
            speaker=say.speaker,
            staff_name=say.staff_name,
        )
        for sentence in split_sentences(say.text):
            yield "message", sentence

    async def _reply(
        self,
        turn_id: str,
        now: Callable[[], float],
        parts: AsyncIterator[ev.ReplyStarted | ev.ErrorEvent | tuple[str, str]],
        speak: bool,
    ) -> AsyncIterator[ev.Event]:
        """ReplyStarted, then each sentence as text and audio (the first one split at its first
        clause, so it plays sooner), then ReplyEnded. A failing voice leaves a text reply."""
        said: list[str] = []
        modes: list[str] = []
        synth: Synthesizer | None = None
        voice: str | None = None  # the voice that spoke it (None: text only)
        lang = self.settings.default_language
        async for part in parts:
            if isinstance(part, ev.ErrorEvent):
                yield part
                continue
            if isinstance(part, ev.ReplyStarted):
                lang = part.language
                yield part
                try:
                    synth = await self.voices.for_language(lang) if speak else None
                except ServiceError as exc:
                    yield self._tts_failed(exc, turn_id, now())
                continue
            mode, sentence = part
            modes.append(mode)
            said.append(sentence)
            yield ev.ReplyText(turn_id=turn_id, t=now(), text=sentence)
            if synth is None:
                continue
            for piece in first_clause_split(sentence) if len(said) == 1 else [sentence]:
                try:
                    audio = await self.voices.synthesize(synth, piece, lang)
                except ServiceError as exc:
                    yield self._tts_failed(exc, turn_id, now())
                    synth = None
                    break
                if voice is None:
                    voice = synth.name
                    yield ev.AudioStarted(
                        turn_id=turn_id, t=now(), sample_rate=audio.sample_rate, voice=voice
                    )
                yield ev.AudioChunk(
                    turn_id=turn_id,
                    t=now(),
                    pcm=audio.pcm.tobytes(),
                    sample_rate=audio.sample_rate,
                    text=piece,
                    visemes=audio.visemes,
                )
        if voice is not None:
            self.health.ok("tts")
            yield ev.AudioEnded(turn_id=turn_id, t=now())
        yield ev.ReplyEnded(
            turn_id=turn_id,
            t=now(),
            text=join_sentences(said),
            mode=spoken_mode(modes),
            voice=voice,
        )

    def _tts_failed(self, exc: ServiceError, turn_id: str, t: float) -> ev.ErrorEvent:
        """No voice at all (not even espeak-ng): the reply goes on as text."""
        failed = StageFailed("tts", exc)
        log.error("turn %s: %s (%s)", turn_id, failed.message, failed.code)
        self.health.failed("tts", failed.code, failed.message)
        return ev.ErrorEvent(turn_id=turn_id, t=t, code=failed.code, message=failed.message)
