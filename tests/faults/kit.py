"""Engines whose stages hang or raise, for the fault tests: each runs in a real `ModelWorker`
(as the real STT, LLM, embedder and voices do), so a hang is a real stuck thread that the
worker must abandon. `Gate` releases every stuck call at the end of a test."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.fakes import FakeClock, FakeStt, FakeSynth, FakeVoices, HashEmbedder
from voice_agent.answer.answerer import Answerer, Messages
from voice_agent.answer.retrieval import Retriever
from voice_agent.config import LlmSettings, RetrievalSettings, Settings, TtsSettings
from voice_agent.content.faq import FaqStore
from voice_agent.conversation.engine import DATA, Components, Engine, default_screener
from voice_agent.errors import EngineFailure
from voice_agent.language.lid import LanguageIdentifier, TextLanguageDetector
from voice_agent.speech_in.stt import Transcript
from voice_agent.speech_out.engines import SpeechAudio, Synthesizer
from voice_agent.speech_out.voices import Voices
from voice_agent.workers import ModelWorker

LIMIT = 0.3  # every stage's time limit in these tests (seconds)
MESSAGES = Messages(DATA / "messages.yaml")

ENTRY = """
id: sns24-line
topic: health
sources: [https://www.sns24.gov.pt]
languages:
  pt:
    status: draft
    question: Qual é o número da linha SNS 24?
    paraphrases: [numero do sns 24, a quem ligo se estiver doente, linha de saude]
    answer: Ligue para a linha SNS 24 pelo 808 24 24 24. Em caso de emergência, ligue 112.
  en:
    status: draft
    question: What is the SNS 24 health line number?
    paraphrases: [sns 24 phone number, who do i call when sick, health line]
    answer: Call the SNS 24 line on 808 24 24 24. In an emergency, call 112.
"""
QUESTION = "What is the SNS 24 health line number?"


class Gate:
    """Stuck calls wait here (at most 30 s) until the test ends."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def hang(self) -> None:
        self.event.wait(30)

    def open(self) -> None:
        self.event.set()


class WorkerStt(FakeStt):
    """Transcribes in a real worker; `mode` "hang" (once) or "raise" (until changed)."""

    def __init__(self, text: str, gate: Gate, limit: float = LIMIT) -> None:
        super().__init__(text)
        self.gate = gate
        self.limit = limit
        self.mode = "ok"
        self.models = 1  # a fresh model is "loaded" each time the worker abandons a thread
        self.worker = ModelWorker("stt", on_abandon=self._fresh)

    def _fresh(self) -> None:
        self.models += 1

    async def transcribe(
        self, audio: np.ndarray, *, language: str | None = None, prior: str | None = None
    ) -> Transcript:
        return await self.worker.run_for(self.limit, self._run, audio, language)

    def _run(self, audio: np.ndarray, language: str | None) -> Transcript:
        self.calls += 1
        if self.mode == "hang":
            self.mode = "ok"
            self.gate.hang()
        if self.mode == "raise":
            raise EngineFailure("speech-to-text failed: CTranslate2 ran out of memory")
        lang = language or self.language
        return Transcript(self.text, lang, 0.9, {lang: 0.9}, audio_seconds=len(audio) / 16000)


class HangingEmbedder(HashEmbedder):
    """Query vectors hang for a question containing HANG (once)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.hung = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any("HANG" in t for t in texts) and not self.hung:
            self.hung += 1
            self.gate.hang()
        return super().embed(texts)


class WorkerLlm:
    """Streams from a real worker with the LLM's limits; hangs before its first token."""

    name = "worker-llm"

    def __init__(self, gate: Gate, settings: LlmSettings) -> None:
        self.gate = gate
        self.settings = settings
        self.worker = ModelWorker("llm")

    def _tokens(self) -> Iterator[str]:
        self.gate.hang()
        yield "too late. "

    async def stream_reply(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        s = self.settings
        async for t in self.worker.stream(
            self._tokens, first_s=s.first_token_timeout_s, item_s=s.token_timeout_s
        ):
            yield t


class HangingSynth:
    def __init__(self, name: str, gate: Gate) -> None:
        self.name = name
        self.gate = gate

    def synthesize(self, text: str) -> SpeechAudio:
        self.gate.hang()
        return FakeSynth("late").synthesize(text)


class Builder:
    """Builds voices by name: the first neural voice hangs, later ones work; espeak-ng works."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.built: list[str] = []

    def build(self, lang: str, name: str) -> Synthesizer:
        self.built.append(name)
        if name.startswith("espeak-ng:"):
            synth = FakeSynth(lang)
            synth.name = name
            return synth
        if self.built.count(name) == 1:
            return HangingSynth(name, self.gate)
        synth = FakeSynth(lang)
        synth.name = name
        return synth

    def close(self) -> None:
        return None


def settings_for(tmp: Path, faq_dir: Path) -> Settings:
    return Settings(
        root=tmp,
        faq_dir=faq_dir,
        var_dir=tmp / "var",
        retrieval=RetrievalSettings(domain_threshold=-0.9, timeout_s=LIMIT),
        llm=replace(LlmSettings(), first_token_timeout_s=LIMIT, token_timeout_s=LIMIT),
        tts=replace(TtsSettings(), timeout_s=LIMIT, timeout_per_char_s=0.0, reply_cache=False),
    )


def engine_with(
    tmp: Path,
    faq_dir: Path,
    *,
    stt: FakeStt | None = None,
    embedder: HashEmbedder | None = None,
    llm: WorkerLlm | None = None,
    voices: Voices | None = None,
) -> Engine:
    """`tests.fakes.fake_engine` with the parts a fault test swaps in."""
    settings = settings_for(tmp, faq_dir)
    store = FaqStore(settings.db_path)
    worker = ModelWorker("embeddings")
    retriever = Retriever(
        store, embedder or HashEmbedder(), settings.retrieval, default_screener(), worker
    )
    lid = LanguageIdentifier(TextLanguageDetector())
    trusted = frozenset({"en"} if llm is not None else set())
    answerer = Answerer(MESSAGES, lid, llm, trusted)
    parts = Components(
        stt or FakeStt(""),
        lid,
        retriever,
        answerer,
        voices or FakeVoices(),
        lambda: object(),  # type: ignore[arg-type,return-value]
        [worker.close, store.close],
    )
    return Engine(settings, parts, clock=FakeClock())


def faq(tmp: Path) -> Path:
    d = tmp / "faq"
    (d / "entries").mkdir(parents=True)
    (d / "entries" / "sns24-line.yaml").write_text(ENTRY, encoding="utf-8")
    return d
