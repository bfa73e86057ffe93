"""The speech-to-text thresholds in the settings are the ones used (they were ignored)."""

from __future__ import annotations

from voice_agent.config import SttSettings
from voice_agent.speech_in.stt import Transcript, unclear


def test_the_not_understood_thresholds_come_from_the_settings() -> None:
    default = SttSettings()
    lenient = SttSettings(no_speech_threshold=0.95, min_avg_logprob=-2.0)
    # an unsure decode
    assert unclear(0.1, -1.5, 1.0, default) and not unclear(0.1, -1.5, 1.0, lenient)
    # likely no speech, and a somewhat unsure decode
    assert unclear(0.8, -0.9, 1.0, default) and not unclear(0.8, -0.9, 1.0, lenient)
    # a decoding loop is never understood
    assert unclear(0.0, -0.1, 3.0, lenient)


def test_empty_text_is_never_understood() -> None:
    assert Transcript(" ", "en", 0.9).unintelligible
    assert not Transcript("hello", "en", 0.9).unintelligible
    assert Transcript("hello", "en", 0.9, unclear=True).unintelligible
