"""Speech-to-text with faster-whisper: one encoder pass serves language ID and decoding.

faster-whisper's `transcribe()` encodes the audio once to detect the language and again to
decode. Questions are at most one 30 s window, so this runs the encoder once, reads the
language distribution from it (restricted to the supported set and weighted by the session's
prior), then decodes greedily (temperature 0, no fallback retries) with that language.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from voice_agent.config import SttSettings
from voice_agent.errors import EngineFailure, ModelMissing
from voice_agent.language.languages import CODES
from voice_agent.models import FIX, check_file, expected_size
from voice_agent.workers import ModelWorker


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str
    probability: float
    language_probs: Mapping[str, float] = field(default_factory=dict)
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0
    audio_seconds: float = 0.0
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    unclear: bool = False  # the recogniser's own signals say nothing usable was said

    @property
    def unintelligible(self) -> bool:
        return self.unclear or not self.text.strip()


def unclear(
    no_speech_prob: float, avg_logprob: float, compression_ratio: float, settings: SttSettings
) -> bool:
    """Whisper's signals that nothing usable was said: noise or silence (likely no speech and
    an unsure decode), a very unsure decode, or a loop (text that compresses too well)."""
    return (
        (no_speech_prob > settings.no_speech_threshold and avg_logprob < -0.7)
        or avg_logprob < settings.min_avg_logprob
        or compression_ratio > 2.4
    )


class SpeechToText(Protocol):
    @property
    def name(self) -> str: ...

    async def load(self) -> None: ...

    async def transcribe(
        self, audio: np.ndarray, *, language: str | None = None, prior: str | None = None
    ) -> Transcript: ...


def collapse_repeats(ids: list[int], min_unit: int = 4) -> list[int]:
    """Whisper sometimes loops: it decodes the question, then the question again (or one
    phrase over and over) until the token limit. Keep the text up to the end of the first
    copy of a repeating tail: a unit of >= `min_unit` tokens seen twice, or a shorter unit
    seen three times ("du, du, du")."""
    n = len(ids)
    for p in range(1, n // 2 + 1):
        run = 0  # how many tokens at the end equal the token p places earlier
        while run < n - p and ids[n - 1 - run] == ids[n - 1 - run - p]:
            run += 1
        copies = (run + p) / p
        if copies >= (2 if p >= min_unit else 3):
            return ids[: n - run]
    return ids


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw))) if raw else 1.0


class WhisperStt:
    def __init__(self, model_dir: Path, settings: SttSettings, models_dir: Path) -> None:
        self._dir = model_dir
        self._settings = settings
        self._models_dir = models_dir
        self._worker = ModelWorker("stt", on_abandon=self._drop)
        self._model: object | None = None

    @property
    def name(self) -> str:
        return f"faster-whisper:{self._dir.name}"

    def _load(self) -> object:
        if self._model is None:
            from faster_whisper import WhisperModel

            weights = self._dir / "model.bin"
            check_file(weights, expected_size(self._models_dir, weights), what="speech-to-text")
            try:
                self._model = WhisperModel(
                    str(self._dir),
                    device="cpu",
                    compute_type=self._settings.compute_type,
                    cpu_threads=self._settings.cpu_threads,
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelMissing(
                    f"speech-to-text model in {self._dir} failed to load ({exc}); {FIX}"
                ) from exc
        return self._model

    def _drop(self) -> None:
        """A transcription hung: its thread keeps that model, the next job loads a fresh one
        (CTranslate2 would queue the next call behind the stuck one)."""
        self._model = None

    async def load(self) -> None:
        await self._worker.run(self._load)

    async def transcribe(
        self, audio: np.ndarray, *, language: str | None = None, prior: str | None = None
    ) -> Transcript:
        await self._worker.run(self._load)  # (re)loading is not held to the stage's limit
        s = self._settings
        limit = s.timeout_s + s.timeout_per_audio_s * len(audio) / 16000
        return await self._worker.run_for(limit, self._transcribe, audio, language, prior)

    def _transcribe(self, audio: np.ndarray, language: str | None, prior: str | None) -> Transcript:
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self._load()
        t0 = time.perf_counter()
        fe = model.feature_extractor  # type: ignore[attr-defined]
        frames = fe.nb_max_frames
        window = audio
        if self._settings.adaptive_window:
            # CTranslate2 encodes shorter windows too: a 4 s question padded to 6 s encodes
            # ~8x faster than the 30 s window (bench.stages). The padding is real silence, as
            # in training: zero-valued features made Whisper repeat the question more often
            # (18/160 English questions; 3-11/160 with silence; collapse_repeats does the rest).
            frames = min(
                frames,
                max(
                    len(audio) // fe.hop_length + self._settings.window_padding_frames,
                    self._settings.min_window_frames,
                ),
            )
            window = np.pad(audio, (0, max(0, frames * fe.hop_length - len(audio))))
        features = fe(window)[..., :frames]
        encoder_output = model.encode(pad_or_trim(features, frames))  # type: ignore[attr-defined]
        t1 = time.perf_counter()
        probs: dict[str, float] = {}
        if language is None:
            raw = model.model.detect_language(encoder_output)[0]  # type: ignore[attr-defined]
            allp = {tok[2:-2]: float(p) for tok, p in raw}
            total = sum(allp.get(c, 0.0) for c in CODES) or 1.0
            probs = {c: allp.get(c, 0.0) / total for c in CODES}
            weighted = dict(probs)
            if prior in weighted:
                weighted[prior] += 0.25
            language = max(weighted, key=lambda c: weighted[c])
            probability = probs[language]
        else:
            probability = 1.0
        t2 = time.perf_counter()
        tok = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)  # type: ignore[attr-defined]
        try:
            result = model.model.generate(  # type: ignore[attr-defined]
                encoder_output,
                [[*tok.sot_sequence, tok.no_timestamps]],
                beam_size=self._settings.beam_size,
                # a loop stops early: no question needs more than ~30 tokens a second
                max_length=min(224, 16 + int(30 * len(audio) / 16000)),
                return_scores=True,
                return_no_speech_prob=True,
                suppress_blank=True,
                suppress_tokens=[-1],
            )[0]
        except RuntimeError as exc:
            raise EngineFailure(f"speech-to-text failed: {exc}", retryable=True) from exc
        ids = collapse_repeats([t for t in result.sequences_ids[0] if t < tok.eot])
        text = tok.decode(ids).strip()
        t3 = time.perf_counter()
        no_speech = float(result.no_speech_prob)
        logprob = float(result.scores[0]) if result.scores else 0.0
        ratio = _compression_ratio(text)
        return Transcript(
            text=text,
            language=language,
            probability=probability,
            language_probs=probs,
            no_speech_prob=no_speech,
            avg_logprob=logprob,
            compression_ratio=ratio,
            unclear=unclear(no_speech, logprob, ratio, self._settings),
            audio_seconds=len(audio) / 16000,
            timings_ms={
                "encode": (t1 - t0) * 1000,
                "detect": (t2 - t1) * 1000,
                "decode": (t3 - t2) * 1000,
            },
        )

    def close(self) -> None:
        self._worker.close()
