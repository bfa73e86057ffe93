"""Small, deterministic fakes for timeline tests of whole turns (no models needed)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np

from voice_agent.answer.answerer import Answerer, Messages
from voice_agent.answer.retrieval import Retriever
from voice_agent.answer.screening import EMBEDDING_DIM
from voice_agent.config import RetrievalSettings, Settings
from voice_agent.content.faq import FaqStore
from voice_agent.conversation.engine import DATA, Components, Engine, default_screener
from voice_agent.language.lid import LanguageIdentifier, TextLanguageDetector
from voice_agent.speech_in.stt import Transcript
from voice_agent.speech_out.engines import SpeechAudio, Synthesizer
from voice_agent.workers import ModelWorker


class HashEmbedder:
    """Bag-of-words vectors: same-language word overlap, enough to exercise retrieval."""

    name = "hash-bow"

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), EMBEDDING_DIM), np.float32)
        for i, t in enumerate(texts):
            for w in "".join(c if c.isalnum() else " " for c in t.lower()).split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % EMBEDDING_DIM] += 1.0
            n = np.linalg.norm(out[i])
            if n:
                out[i] /= n
        return out


class FakeStt:
    name = "fake-stt"

    def __init__(self, text: str, language: str = "en") -> None:
        self.text = text
        self.language = language
        self.calls = 0

    async def load(self) -> None:
        return None

    async def transcribe(
        self, audio: np.ndarray, *, language: str | None = None, prior: str | None = None
    ) -> Transcript:
        self.calls += 1
        lang = language or self.language
        return Transcript(self.text, lang, 0.9, {lang: 0.9}, audio_seconds=len(audio) / 16000)


class FakeSynth:
    def __init__(self, lang: str) -> None:
        self.name = f"fake:{lang}"

    def synthesize(self, text: str) -> SpeechAudio:
        n = 160 * max(1, len(text))
        return SpeechAudio((np.ones(n) * 1000).astype(np.int16), 16000, text)


class FakeVoices:
    def __init__(self) -> None:
        self.spoken: list[str] = []

    def describe(self, lang: str) -> str:
        return f"fake:{lang}"

    async def for_language(self, lang: str) -> Synthesizer:
        return FakeSynth(lang)

    async def synthesize(self, synth: Synthesizer, sentence: str, lang: str) -> SpeechAudio:
        self.spoken.append(sentence)
        return synth.synthesize(sentence)

    def prepare(self, entries: object) -> None:
        return None

    def start_prefill(self) -> None:
        return None

    def status(self) -> dict[str, object]:
        return {}

    def close(self) -> None:
        return None


class FakeLlm:
    name = "fake-llm"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompts: list[list[dict[str, str]]] = []

    async def stream_reply(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        self.prompts.append(messages)
        for word in self.reply.split(" "):
            yield word + " "


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def fake_engine(
    tmp: Path,
    faq_dir: Path,
    *,
    stt: FakeStt | None = None,
    llm: FakeLlm | None = None,
    trusted: tuple[str, ...] = (),
) -> Engine:
    # Bag-of-words vectors put everything unfamiliar far from the FAQ: the domain model's
    # threshold for them sits lower than the e5 one (an exact off-topic exemplar is at -1.0).
    retrieval = RetrievalSettings(domain_threshold=-0.9)
    settings = Settings(root=tmp, faq_dir=faq_dir, var_dir=tmp / "var", retrieval=retrieval)
    store = FaqStore(settings.db_path)
    worker = ModelWorker("fake-embed")
    retriever = Retriever(store, HashEmbedder(), settings.retrieval, default_screener(), worker)
    lid = LanguageIdentifier(TextLanguageDetector())
    answerer = Answerer(Messages(DATA / "messages.yaml"), lid, llm, frozenset(trusted))

    def no_vad() -> object:
        return object()  # tests that feed audio replace `speech_span`

    parts = Components(
        stt or FakeStt(""),
        lid,
        retriever,
        answerer,
        FakeVoices(),
        no_vad,  # type: ignore[arg-type]
        [worker.close, store.close],
    )
    return Engine(settings, parts, clock=FakeClock())
