"""Visemes for voices without phoneme timings, and the espeak IPA -> Kokoro symbol clean-up."""

from __future__ import annotations

import numpy as np

from voice_agent.speech_out.g2p import EspeakG2P, clean_ipa, join_with_punctuation
from voice_agent.speech_out.lipsync import spread_visemes, voiced_spans

RATE = 24_000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 220 * t) * 10_000).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def test_visemes_follow_the_voiced_parts_and_rest_in_pauses() -> None:
    pcm = np.concatenate([silence(0.2), tone(1.0), silence(0.4), tone(1.0), silence(0.2)])
    assert [(round(a, 2), round(b, 2)) for a, b in voiced_spans(pcm, RATE)] == [
        (0.2, 1.2),
        (1.6, 2.6),
    ]
    cues = spread_visemes("bˈoŋ dˈiɐ, kˈomʊ ɛʃtˈa?", pcm, RATE)
    times = [t for t, _ in cues]
    assert times == sorted(times) and cues[0] == (0.2, "M")  # "b" at the start of the voice
    assert (1.2, "rest") in cues  # the mouth closes in the pause...
    assert all(not (1.2 < t < 1.6) for t, v in cues if v != "rest")  # ...and stays closed
    assert cues[-1] == (2.6, "rest") and times[-1] <= len(pcm) / RATE


def test_no_phonemes_or_no_sound_gives_no_mouth_movement() -> None:
    assert spread_visemes("", tone(0.5), RATE) == ((0.5, "rest"),)
    assert spread_visemes("abc", silence(0.5), RATE) == ((0.5, "rest"),)


def test_espeak_ipa_becomes_kokoro_symbols() -> None:
    assert clean_ipa("t^sˈa^ɪt (^e^n)hˌa^ʊ(^p^t)") == "ʦˈIt hˌW"
    assert join_with_punctuation([(False, "ɔlˈa"), (True, "!"), (False, "bˈoŋ"), (True, "(")]) == (
        "ɔlˈa! bˈoŋ ("
    )


class FakeLibrary:
    def phonemize(self, text: str, voice: str) -> list[str]:
        return [f"[{voice}:{text.strip()}]"]


def test_punctuation_is_kept_and_native_marks_are_mapped() -> None:
    g2p = EspeakG2P(FakeLibrary(), "ar")  # type: ignore[arg-type]
    assert g2p("مرحبا، كيف حالك؟") == "[ar:مرحبا], [ar:كيف حالك]?"


def test_lead_silence_is_trimmed_and_visemes_move_with_it() -> None:
    """Kokoro starts every piece with 0.21 s of silence: the citizen should not wait for it."""
    import numpy as np

    from voice_agent.speech_out.engines import LEAD_KEPT_S, SpeechAudio, trim_lead

    rate = 24000
    tone = (np.sin(np.arange(rate // 2) / 3) * 8000).astype(np.int16)
    pcm = np.concatenate([np.zeros(int(0.208 * rate), np.int16), tone])
    audio = SpeechAudio(pcm, rate, "Olá.", visemes=((0.0, "rest"), (0.1, "A"), (0.3, "O")))
    out = trim_lead(audio)
    lead = np.flatnonzero(np.abs(out.pcm) > 200)[0] / rate
    assert abs(lead - LEAD_KEPT_S) < 0.002 and len(out.pcm) < len(pcm)
    assert out.visemes[0] == (0.0, "A") and out.visemes[1][1] == "O"
    assert abs(out.visemes[1][0] - (0.3 - (0.208 - LEAD_KEPT_S))) < 0.002
    assert trim_lead(out) == out  # nothing more to cut
