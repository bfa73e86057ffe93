"""Kokoro-82M, real model: a Portuguese and a Chinese sentence, heard back by Whisper base."""

from __future__ import annotations

import asyncio
import unicodedata

import numpy as np
import pytest

from voice_agent.config import Settings
from voice_agent.conversation.engine import Engine
from voice_agent.speech_in.audio import resample_int16
from voice_agent.speech_out.espeak_lib import EspeakLibrary
from voice_agent.speech_out.normalize import speakable
from voice_agent.speech_out.voice_plan import VoiceFactory, report_to_log

# bench/voices.py measured pf_dora at CER <= 0.05 on FAQ sentences, zf_xiaoxiao at 0.0-0.1 on
# sentences without Portuguese names; the limits leave room for Whisper's variation.
CASES = [
    ("pt", "kokoro:pf_dora", "Leve o passaporte ou outro documento de identificação e um "
     "comprovativo de morada.", 0.15),
    ("zh", "kokoro:zf_xiaoxiao", "请携带护照或其他身份证件，以及地址证明。", 0.3),
]  # fmt: skip


def letters(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")


def cer(ref: str, hyp: str) -> float:
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1] / max(1, len(ref))


@pytest.mark.parametrize(("lang", "voice", "text", "limit"), CASES)
def test_kokoro_sentence_is_heard_back(
    engine: Engine, settings: Settings, lang: str, voice: str, text: str, limit: float
) -> None:
    failures: dict[str, str] = {}
    library = EspeakLibrary()
    factory = VoiceFactory(settings, lambda: library, 2, report_to_log(failures))
    synth = factory.build(lang, voice)
    audio = synth.synthesize(speakable(text, lang))
    assert synth.name == voice and not failures, failures  # Kokoro spoke, not the fallback
    assert audio.sample_rate == 24000 and len(audio.pcm) > 24000
    assert audio.visemes and audio.visemes[-1][1] == "rest"  # lip sync from the phonemes
    assert audio.visemes[-1][0] <= len(audio.pcm) / 24000 + 0.01
    pcm16 = resample_int16(audio.pcm, 24000, 16000).astype(np.float32) / 32768
    heard = asyncio.run(engine.stt.transcribe(pcm16, language=lang)).text
    if lang == "zh":
        from misaki.zh_normalization.char_convert import tranditional_to_simplified

        heard = tranditional_to_simplified(heard)
    assert cer(letters(text), letters(heard)) < limit, heard
