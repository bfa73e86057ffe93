"""Kokoro-82M (int8 ONNX) voices: espeak-ng or misaki phonemes -> onnxruntime -> 24 kHz audio.

One `KokoroModel` (an onnxruntime session) serves every Kokoro voice of a registry; a voice
is a 510x256 style table (`models/kokoro/voices/<name>.bin`, from npm `kokoro-js`). Inputs
are the phoneme token ids, the style row for the sentence's length, and the speed. Calls run
in the TTS worker thread, one sentence at a time. Which language gets which voice, and
whether Kokoro was trained on it, is `KOKORO_LANGUAGES` (defaults follow `bench/voices.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_agent.errors import EngineFailure, ModelMissing
from voice_agent.models import FIX, check_file
from voice_agent.speech_out.engines import SpeechAudio
from voice_agent.speech_out.g2p import Phonemizer, load_vocab
from voice_agent.speech_out.lipsync import spread_visemes

SAMPLE_RATE = 24_000
MAX_TOKENS = 510  # the style table's rows; the model's context is 512 with the two pads
STYLE_DIM = 256
MODEL_FILE = "kokoro/kokoro-v1.0.int8.onnx"
VOICES_DIR = "kokoro/voices"
_GAP = np.zeros(int(0.12 * SAMPLE_RATE), np.float32)


@dataclass(frozen=True, slots=True)
class KokoroLanguage:
    voice: str  # style file stem, e.g. pf_dora
    phonemes: str  # espeak-ng voice for the phonemes, or "misaki-zh"
    trained: bool  # Kokoro was trained on this language (else: accented, opt-in)
    default: bool  # measured better than espeak-ng (bench/voices.py) and trained


# Measured with bench/voices.py (CER of Whisper base on every FAQ answer's first sentence;
# table in docs/voices.md). Accented voices are used only where `[tts] accented_voices` lists
# the language. Languages not listed keep espeak-ng (or a Piper voice).
KOKORO_LANGUAGES: dict[str, KokoroLanguage] = {
    "pt": KokoroLanguage("pf_dora", "pt", trained=True, default=True),
    "es": KokoroLanguage("ef_dora", "es", trained=True, default=True),
    "fr": KokoroLanguage("ff_siwis", "fr", trained=True, default=True),
    "it": KokoroLanguage("if_sara", "it", trained=True, default=True),
    "hi": KokoroLanguage("hm_omega", "hi", trained=True, default=True),
    "zh": KokoroLanguage("zf_xiaoxiao", "misaki-zh", trained=True, default=True),
    "de": KokoroLanguage("hf_alpha", "de", trained=False, default=False),
    "ro": KokoroLanguage("ef_dora", "ro", trained=False, default=False),
    "uk": KokoroLanguage("hf_alpha", "uk", trained=False, default=False),
    "ru": KokoroLanguage("hf_alpha", "ru", trained=False, default=False),
    "tr": KokoroLanguage("hf_alpha", "tr", trained=False, default=False),
    "ur": KokoroLanguage("hf_alpha", "ur", trained=False, default=False),
    "fa": KokoroLanguage("hf_alpha", "fa", trained=False, default=False),
    "ar": KokoroLanguage("af_heart", "ar", trained=False, default=False),
    "ne": KokoroLanguage("hf_alpha", "ne", trained=False, default=False),
}
# The languages hexgrad trained Kokoro-82M v1.0 on (of ours; pt through Brazilian voices)
TRAINED = frozenset({"en", "es", "fr", "hi", "it", "pt", "zh"})
# Every style file the installer extracts: the table's voices and the alternatives
# bench/voices.py compares (af_heart: the English voice, for comparison with Piper joe).
INSTALLED_VOICES: tuple[str, ...] = (
    "af_heart", "ef_dora", "em_alex", "ff_siwis", "hf_alpha", "hm_omega", "if_sara",
    "im_nicola", "pf_dora", "pm_alex", "zf_xiaoxiao", "zm_yunxi",
)  # fmt: skip


class KokoroModel:
    """The shared onnxruntime session; `run` is called from one thread at a time."""

    def __init__(self, path: Path, threads: int, size: int | None = None) -> None:
        import onnxruntime as ort  # after voice_agent/__init__ turned telemetry off

        check_file(path, size, what="Kokoro")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises several unrelated types
            raise ModelMissing(f"Kokoro model file {path} failed to load ({exc}); {FIX}") from exc
        self.path = path
        self.vocab = load_vocab()
        self._options = ort.RunOptions()
        # Give the arena's free chunks back after every run. Kept, they grow with the longest
        # sentence seen (measured, 30 sentences: 437 MB held vs 216 MB) for 2-3% more time.
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def interrupt(self) -> None:
        """Abort the run in progress (from another thread) and every later one."""
        self._options.terminate = True

    def run(self, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        try:
            out = self._session.run(
                None,
                {
                    "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                    "style": style.reshape(1, STYLE_DIM).astype(np.float32),
                    "speed": np.array([speed], dtype=np.float32),
                },
                self._options,
            )[0]
        except Exception as exc:
            raise EngineFailure(f"Kokoro ({self.path.name}) failed: {exc}") from exc
        return np.asarray(out, np.float32).ravel()


def load_style(path: Path) -> np.ndarray:
    """A voice's style table (510 x 256 float32), checked."""
    check_file(path, MAX_TOKENS * STYLE_DIM * 4, what="Kokoro voice")
    return np.fromfile(path, dtype="<f4").reshape(MAX_TOKENS, STYLE_DIM)


def chunks(phonemes: str, limit: int = MAX_TOKENS) -> list[str]:
    """Split an over-long phoneme string at punctuation, else at spaces, into <= limit."""
    out: list[str] = []
    rest = phonemes.strip()
    while len(rest) > limit:
        head = rest[:limit]
        cut = max(head.rfind(m) for m in ".!?;:,") + 1 or head.rfind(" ") + 1 or limit
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


class KokoroTts:
    """One Kokoro voice for one language: a `Synthesizer`."""

    def __init__(
        self, model: KokoroModel, voice_file: Path, g2p: Phonemizer, speed: float = 1.0
    ) -> None:
        self.name = f"kokoro:{voice_file.stem}"
        self.sample_rate = SAMPLE_RATE
        self._model = model
        self._style = load_style(voice_file)
        self._g2p = g2p
        self._speed = speed

    def phonemes(self, text: str) -> str:
        """The phoneme string the model reads (symbols outside its vocabulary dropped)."""
        vocab = self._model.vocab
        return re.sub(r" +", " ", "".join(c for c in self._g2p(text) if c in vocab)).strip()

    def synthesize(self, text: str) -> SpeechAudio:
        phonemes = self.phonemes(text)
        pieces: list[np.ndarray] = []
        for part in chunks(phonemes):
            tokens = [self._model.vocab[c] for c in part]
            style = self._style[min(len(tokens), MAX_TOKENS) - 1]
            pieces += [self._model.run(tokens, style, self._speed), _GAP]
        audio = np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        visemes = spread_visemes(phonemes, pcm, SAMPLE_RATE)
        return SpeechAudio(pcm, SAMPLE_RATE, text, tuple(phonemes), visemes)
