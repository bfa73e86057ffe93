"""The reply-audio cache: filled ahead in the background, read by turns, evicted on publish."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import fake_engine
from voice_agent.config import Settings, TtsSettings
from voice_agent.content.faq import FaqEntry, LocalizedText
from voice_agent.language.languages import CODES
from voice_agent.speech_out import voices as voices_module
from voice_agent.speech_out.engines import SpeechAudio, Synthesizer
from voice_agent.speech_out.prefill import Prefill
from voice_agent.speech_out.reply_cache import ReplyAudioCache, audio_key, known_replies, pieces
from voice_agent.speech_out.voices import VoiceRegistry

FAQ = Path(__file__).resolve().parents[2] / "faq_db"
# No Kokoro here, so every language plans espeak-ng: store its audio too (off by default).
CACHING = replace(TtsSettings(), reply_cache=True, reply_cache_espeak=True)


class CountingSynth:
    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name = name
        self._log = log

    def synthesize(self, text: str) -> SpeechAudio:
        self._log.append((self.name, text))
        pcm = (np.sin(np.arange(80 * len(text)) / 5) * 8000).astype(np.int16)
        return SpeechAudio(pcm, 16000, text, visemes=((0.0, "A"), (0.1, "rest")))


class CountingBuilder:
    """Stands in for VoiceFactory: every voice is a CountingSynth; records each synthesis."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log

    def build(self, lang: str, name: str) -> Synthesizer:
        return CountingSynth(name, self.log)

    def close(self) -> None:
        return None


def entry(answer_pt: str, entry_id: str = "nif") -> FaqEntry:
    langs = {
        c: LocalizedText(f"q {c}", ("a", "b", "c"), f"{answer_pt} ({c}).", "reviewed")
        for c in CODES
    }
    langs["pt"] = LocalizedText("Como tiro o NIF?", ("a", "b", "c"), answer_pt, "reviewed")
    return FaqEntry(entry_id, "tax", "team", ("https://x.pt",), langs)


@pytest.fixture
def registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[VoiceRegistry, list[tuple[str, str]]]:
    monkeypatch.setattr(voices_module, "IDLE_GRACE_S", 0.01)
    settings = Settings(root=tmp_path, tts=CACHING)
    log: list[tuple[str, str]] = []
    reg = VoiceRegistry(settings, builders=lambda threads: CountingBuilder(log))
    yield reg, log
    reg.close()


async def fill(reg: VoiceRegistry, entries: list[FaqEntry]) -> None:
    reg.prepare(entries)
    reg.start_prefill()
    for _ in range(12000):  # the filler runs at nice 19: slow on a busy machine
        await asyncio.sleep(0.01)
        if reg.status()["reply_audio"]["state"] == "done":
            return
    raise AssertionError(f"the prefill did not finish: {reg.status()}")


def test_pieces_follow_the_turns_split() -> None:
    text = (
        "Pode pedir o NIF num Serviço de Finanças ou numa Loja do Cidadão; em regra, é "
        "preciso marcar o atendimento antes. Leve o passaporte."
    )
    assert pieces(text) == [
        "Pode pedir o NIF num Serviço de Finanças ou numa Loja do Cidadão;",
        "em regra, é preciso marcar o atendimento antes.",
        "Leve o passaporte.",
    ]


def test_cache_round_trip_and_corrupt_file(tmp_path: Path) -> None:
    cache = ReplyAudioCache(tmp_path)
    audio = SpeechAudio(
        np.arange(100, dtype=np.int16), 24000, "Olá.", visemes=((0.0, "O"), (0.004, "rest"))
    )
    cache.put("k1", audio)
    got = cache.get("k1")
    assert got is not None and got.sample_rate == 24000 and got.visemes == audio.visemes
    assert np.array_equal(got.pcm, audio.pcm)
    (tmp_path / "k1.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert cache.get("k1") is None and cache.corrupt == 1 and not (tmp_path / "k1.npz").exists()
    assert cache.get("never-made") is None and cache.corrupt == 1


async def test_hit_miss_eviction_and_resynthesis(
    registry: tuple[VoiceRegistry, list[tuple[str, str]]],
) -> None:
    reg, log = registry
    first = [entry("Pode pedir o NIF num Serviço de Finanças. Leve o passaporte.")]
    await fill(reg, first)
    wanted = {p for r in known_replies(first) for p in pieces(r.text)}
    made = len(log)
    assert made > 0 and reg.status()["reply_audio"]["ready"] == reg.status()["reply_audio"]["total"]
    assert reg.cache is not None and len(reg.cache.keys()) == made
    assert len(wanted) >= 20  # every language's answer and every system message

    # hit: a turn's sentence comes from disk, nothing is synthesised live
    synth = await reg.for_language("pt")
    audio = await reg.synthesize(synth, "Leve o passaporte.", "pt")
    assert len(log) == made and reg.hits == 1 and audio.visemes
    # miss: a new text (e.g. an LLM rephrasing) is synthesised live and never stored
    await reg.synthesize(synth, "Uma frase nova.", "pt")
    assert len(log) == made + 1 and reg.misses == 1 and len(reg.cache.keys()) == made

    # publish a new version: old pieces evicted, only the new sentence is made
    log.clear()
    await fill(
        reg, [entry("Pode pedir o NIF num Serviço de Finanças. Leve o cartão de residência.")]
    )
    new = [t for _, t in log]
    assert new == ["Leve o cartão de residência."] * len(CODES)  # the one new sentence, 20 voices
    old_key = audio_key(reg.voice_tag(reg.describe("pt")), "pt", "Leve o passaporte.")
    assert not reg.cache.has(old_key) and reg.status()["reply_audio"]["evicted"] > 0

    # a corrupted file: the turn synthesises live, the next fill makes it again
    key = audio_key(reg.voice_tag(reg.describe("pt")), "pt", "Leve o cartão de residência.")
    (reg.cache.folder / f"{key}.npz").write_bytes(b"garbage")
    log.clear()
    await reg.synthesize(synth, "Leve o cartão de residência.", "pt")
    assert log == [(reg.describe("pt"), "Leve o cartão de residência.")]
    assert reg.cache.corrupt == 1
    log.clear()
    await fill(
        reg, [entry("Pode pedir o NIF num Serviço de Finanças. Leve o cartão de residência.")]
    )
    assert log == [(reg.describe("pt"), "Leve o cartão de residência.")] and reg.cache.has(key)


async def test_a_whole_turn_is_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache's split into pieces is the engine's: a curated reply needs no live synthesis."""
    faq = FAQ
    engine = fake_engine(tmp_path, faq)
    monkeypatch.setattr(voices_module, "IDLE_GRACE_S", 0.01)
    log: list[tuple[str, str]] = []
    reg = VoiceRegistry(
        replace(engine.settings, tts=CACHING),
        builders=lambda threads: CountingBuilder(log),
    )
    engine.voices = reg
    try:
        from voice_agent.content.faq import load_entries

        entries = [e for e in load_entries(faq) if e.id in {"nif", "sns24-line"}]
        await engine.publish(entries)
        await fill(reg, entries)
        log.clear()
        from voice_agent.conversation.engine import Session, TurnInput

        chunks = [
            e
            async for e in engine.turn(
                TurnInput(text="Qual é o número do SNS 24?", language="pt"), Session()
            )
        ]
        assert any(type(e).__name__ == "AudioChunk" for e in chunks)
        assert log == [] and reg.hits >= 2 and reg.misses == 0
    finally:
        reg.close()
        engine.close()


async def test_espeak_audio_is_not_stored_by_default(tmp_path: Path) -> None:
    log: list[tuple[str, str]] = []
    settings = Settings(root=tmp_path)
    reg = VoiceRegistry(settings, builders=lambda threads: CountingBuilder(log))
    try:
        assert reg._prefill is not None
        planned, _ = reg._prefill.plan_pieces(known_replies([entry("Leve o passaporte.")]))
        assert planned == []  # every voice here is espeak-ng: ~20 ms live, nothing to gain
        synth = await reg.for_language("pt")
        await reg.synthesize(synth, "Leve o passaporte.", "pt")
        assert reg.misses == 0 and log == [("espeak-ng:pt", "Leve o passaporte.")]
    finally:
        reg.close()


def filler(
    tmp_path: Path,
    log: list[tuple[str, str]],
    *,
    builder: type[CountingBuilder] = CountingBuilder,
    background: bool = False,
    **only: list[str],
) -> tuple[VoiceRegistry, Prefill]:
    """A registry with counting voices and a filler at normal priority (`only`: the
    `languages` / `entries` it is limited to, as `voice-agent voices fill` limits it)."""
    tts = CACHING if background else replace(CACHING, reply_cache_background=False)
    settings = Settings(root=tmp_path, tts=tts)
    reg = VoiceRegistry(settings, builders=lambda threads: CountingBuilder(log))
    assert reg.cache is not None

    async def idle() -> None:
        return None

    prefill = Prefill(
        settings, reg.cache, reg.describe, reg.voice_tag, lambda: builder(log),
        lambda voice, why: None, idle, lowest_priority=False, **only,
    )  # fmt: skip
    return reg, prefill


async def test_fill_now_for_some_languages_and_entries(tmp_path: Path) -> None:
    """`voice-agent voices fill --lang pt --entry nif`: only those pieces (and the system
    messages) are made, at once; nothing else is evicted; the server does not fill in the
    background when `reply_cache_background = false`."""
    log: list[tuple[str, str]] = []
    reg, prefill = filler(tmp_path, log, languages=["pt"], entries=["nif"])
    assert reg.cache is not None
    entries = [
        entry("Pode pedir o NIF num Serviço de Finanças.", "nif"),
        entry("Ligue para o SNS 24.", "sns"),
    ]
    reg.cache.put("unrelated", SpeechAudio(np.zeros(10, np.int16), 16000, "x"))
    try:
        progress = await prefill.fill(entries)
    finally:
        prefill.close()
    said = {t for _, t in log}
    assert "Pode pedir o N I F num Serviço de Finanças." in said  # as it is spoken
    assert not any("SNS" in t for t in said)  # another entry
    assert not any(t.endswith("(es).") for t in said)  # another language
    messages = {p for r in known_replies([]) if r.language == "pt" for p in pieces(r.text)}
    assert progress["made"] == len(log) == len(messages) + 1
    assert progress["state"] == "done" and progress["ready"] < progress["total"]

    # a server that only reads the cache: no background fill, the made piece is a hit
    log.clear()
    reg.prepare(entries)
    reg.start_prefill()
    await asyncio.sleep(0.2)
    assert log == [] and reg.status()["reply_audio"]["state"] == "waiting"
    synth = await reg.for_language("pt")
    await reg.synthesize(synth, "Pode pedir o NIF num Serviço de Finanças.", "pt")
    assert log == [] and reg.hits == 1
    reg.close()


async def test_fill_now_with_no_entries_makes_only_the_system_messages(tmp_path: Path) -> None:
    """`voice-agent voices fill --lang it --entry`: what a misheard question may need in a
    language nobody asked in, and nothing else."""
    from voice_agent.cli import _parser

    assert _parser().parse_args(["voices", "fill", "--lang", "it", "--entry"]).entry == []
    log: list[tuple[str, str]] = []
    reg, prefill = filler(tmp_path, log, languages=["it"], entries=[])
    try:
        progress = await prefill.fill([entry("Ligue para o SNS 24.", "sns")])
    finally:
        prefill.close()
        reg.close()
    messages = {p for r in known_replies([]) if r.language == "it" for p in pieces(r.text)}
    assert not any("SNS" in t for _, t in log)  # the entry
    assert len(log) == progress["made"] == len(messages) > 0


class SlowSynth(CountingSynth):
    def synthesize(self, text: str) -> SpeechAudio:
        time.sleep(0.05)
        return super().synthesize(text)


class SlowBuilder(CountingBuilder):
    def build(self, lang: str, name: str) -> Synthesizer:
        return SlowSynth(name, self.log)


async def test_the_server_stopping_mid_fill_ends_the_fill_quietly(tmp_path: Path) -> None:
    """Shutting down while pieces are being made cancels the fill; its clean-up finds the
    worker closed and says nothing (no "Task exception was never retrieved" at exit)."""
    log: list[tuple[str, str]] = []
    reg, prefill = filler(tmp_path, log, builder=SlowBuilder, background=True)
    prefill.set_entries([entry("Pode pedir o NIF num Serviço de Finanças.")])
    prefill.start()
    for _ in range(500):
        await asyncio.sleep(0.01)
        if log:
            break
    task = prefill._task
    assert task is not None and log
    prefill.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    reg.close()
