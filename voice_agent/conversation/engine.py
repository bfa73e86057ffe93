"""The engine: one turn = (VAD) -> STT -> language -> retrieval -> answer -> TTS, as events.

`Engine.turn` yields the event vocabulary of `events.py` as the turn progresses, so the first
sentence is synthesised (and can be played) while the rest is still being produced. Models
are loaded once per engine and shared by every session; each runs in its own worker thread.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from voice_agent import events as ev
from voice_agent.answer.answerer import Answerer, Messages, spoken_mode
from voice_agent.answer.decision import Decision, decide_turn
from voice_agent.answer.llm import LlamaGenerator
from voice_agent.answer.retrieval import E5Embedder, Progress, Retriever
from voice_agent.answer.screening import Screener
from voice_agent.config import Settings
from voice_agent.content.faq import FaqEntry, FaqStore, load_entries
from voice_agent.conversation.bus import EventBus
from voice_agent.errors import BadInput, ServiceError
from voice_agent.language.languages import CODES, normalize_code
from voice_agent.language.lid import LanguageIdentifier, TextLanguageDetector
from voice_agent.models import check_file
from voice_agent.speech_in.audio import STT_RATE, DecodedAudio
from voice_agent.speech_in.stt import SpeechToText, WhisperStt
from voice_agent.speech_in.vad import SileroModel, speech_span
from voice_agent.speech_out.normalize import first_clause_split, join_sentences
from voice_agent.speech_out.voices import VoiceRegistry, Voices
from voice_agent.workers import ModelWorker

DATA = Path(__file__).resolve().parents[1] / "data"


def default_screener() -> Screener:
    return Screener(DATA / "negatives.yaml", DATA / "smalltalk.yaml", DATA / "injection_cues.yaml")


@dataclass(slots=True)
class Session:
    """What a conversation remembers: the language prior and recent turns."""

    language: str | None = None
    history: list[tuple[str, str | None]] = field(default_factory=list)  # (question, faq_id)


@dataclass(frozen=True, slots=True)
class TurnInput:
    text: str | None = None
    audio: DecodedAudio | None = None
    language: str | None = None  # given by the caller: no detection
    intent: str | None = None  # a button, not words: "human" (talk to a person)


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
        self._closers = [*parts.closers, self.vad_worker.close]

    @classmethod
    def create(cls, settings: Settings, clock: Callable[[], float] = time.perf_counter) -> Engine:
        """The real engines, loaded lazily from `models/` (see `voice-agent models list`)."""
        models = settings.models_path
        stt = WhisperStt(settings.model_path(settings.stt.model_dir), settings.stt, models)
        lid = LanguageIdentifier(TextLanguageDetector())
        store = FaqStore(settings.db_path)
        embed_worker = ModelWorker("embeddings")
        retriever = Retriever(
            store,
            E5Embedder(models / "embeddings" / "e5-small-q4.bin"),
            settings.retrieval,
            default_screener(),
            embed_worker,
        )
        trusted = frozenset(settings.llm.trusted_languages)
        llm_path = settings.model_path(settings.llm.model_file)
        llm = LlamaGenerator(llm_path, settings.llm, models) if trusted else None
        answerer = Answerer(Messages(DATA / "messages.yaml"), lid, llm, trusted)
        voices = VoiceRegistry(settings)
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

    async def warm_up(self) -> None:
        """Load what the first citizen would otherwise wait for: STT, VAD, Piper voices."""
        await self.stt.load()
        await self.vad_worker.run(self._vad)
        piper = {c for c in CODES if self.voices.describe(c).startswith("piper:")}
        for code in sorted(piper) + [self.settings.default_language]:
            with contextlib.suppress(ServiceError):
                await self.voices.for_language(code)

    def vad_model(self) -> SileroModel:
        return self._vad()

    def close(self) -> None:
        for close in self._closers:
            close()

    # --- one turn -----------------------------------------------------------------------------
    async def turn(
        self, inp: TurnInput, session: Session, *, speak: bool = True
    ) -> AsyncIterator[ev.Event]:
        turn_id = uuid.uuid4().hex[:12]
        t0 = self.clock()

        def now() -> float:
            return self.clock() - t0

        given = normalize_code(inp.language) if inp.language else None
        transcript = ""
        decision: Decision | None = None
        lang = given or session.language or self.settings.default_language

        if inp.intent is not None:
            decision = Decision(inp.intent, lang, None, 1.0, inp.intent == "human")
        elif inp.audio is not None:
            span = await self.vad_worker.run(
                lambda: speech_span(self._vad(), self.settings.vad, inp.audio.samples)  # type: ignore[union-attr]
            )
            if span is None:
                decision = Decision("didnt_hear", lang, None, 0.0, False)
            else:
                yield ev.SpeechStarted(turn_id=turn_id, t=now())
                a, b = span
                clip = inp.audio.samples[
                    max(0, int((a - 0.3) * STT_RATE)) : int((b + 0.3) * STT_RATE)
                ]
                yield ev.SpeechEnded(turn_id=turn_id, t=now(), duration_s=round(b - a, 3))
                tr = await self.stt.transcribe(clip, language=given, prior=session.language)
                transcript = tr.text
                yield ev.TranscriptFinal(
                    turn_id=turn_id,
                    t=now(),
                    text=tr.text,
                    language=tr.language,
                    probability=round(tr.probability, 4),
                )
                if tr.unintelligible:
                    decision = Decision("didnt_hear", lang, None, 0.0, False)
                elif given is None:
                    guess = self.lid.identify(
                        tr.text, audio_probs=tr.language_probs, prior=session.language
                    )
                    lang = guess.language
                    yield ev.LanguageChosen(
                        turn_id=turn_id,
                        t=now(),
                        language=lang,
                        probability=round(guess.probability, 4),
                        source=guess.source,
                    )
        elif inp.text is not None:
            transcript = validate_text(inp.text, self.settings.limits.max_text_chars)
            if given is None:
                guess = self.lid.identify(transcript, prior=session.language)
                lang = guess.language
                yield ev.LanguageChosen(
                    turn_id=turn_id,
                    t=now(),
                    language=lang,
                    probability=round(guess.probability, 4),
                    source=guess.source,
                )
        if given:
            yield ev.LanguageChosen(
                turn_id=turn_id, t=now(), language=lang, probability=1.0, source="given"
            )
        session.language = lang

        if decision is None:
            decision = await decide_turn(self, transcript, lang, session, turn_id)
        session.history.append((transcript, decision.faq_id))
        yield ev.ReplyStarted(
            turn_id=turn_id,
            t=now(),
            language=lang,
            faq_id=decision.faq_id,
            confidence=decision.confidence,
            handoff=decision.handoff,
            link=decision.link,
            mode=self.answerer.planned_mode(decision),
            status=decision.status,
            context_from=decision.context_from,
        )
        synth = None
        try:
            synth = await self.voices.for_language(lang) if speak else None
        except ServiceError as exc:
            yield ev.ErrorEvent(turn_id=turn_id, t=now(), code=exc.code, message=exc.message)
        said: list[str] = []
        modes: list[str] = []
        started_audio = False
        async for mode, sentence in self.answerer.sentences(decision, transcript):
            said.append(sentence)
            modes.append(mode)
            yield ev.ReplyText(turn_id=turn_id, t=now(), text=sentence)
            if synth is None:
                continue
            pieces = first_clause_split(sentence) if len(said) == 1 else [sentence]
            for piece in pieces:
                try:
                    audio = await self.voices.synthesize(synth, piece, lang)
                except ServiceError as exc:
                    yield ev.ErrorEvent(
                        turn_id=turn_id, t=now(), code=exc.code, message=exc.message
                    )
                    synth = None
                    break
                if not started_audio:
                    started_audio = True
                    yield ev.AudioStarted(
                        turn_id=turn_id, t=now(), sample_rate=audio.sample_rate, voice=synth.name
                    )
                yield ev.AudioChunk(
                    turn_id=turn_id,
                    t=now(),
                    pcm=audio.pcm.tobytes(),
                    sample_rate=audio.sample_rate,
                    text=piece,
                    visemes=audio.visemes,
                )
        if started_audio:
            yield ev.AudioEnded(turn_id=turn_id, t=now())
        yield ev.ReplyEnded(
            turn_id=turn_id, t=now(), text=join_sentences(said), mode=spoken_mode(modes)
        )
        yield ev.TurnEnded(turn_id=turn_id, t=now())
