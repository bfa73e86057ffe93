"""Text -> Kokoro phonemes: espeak-ng IPA through the project's own libespeak-ng binding, or
misaki's Chinese G2P (jieba + pypinyin + cn2an) for zh.

The IPA clean-up follows misaki's `EspeakG2P` (the front end hexgrad's Kokoro uses for es,
fr, hi, it, pt): multi-letter phonemes become Kokoro's single symbols (t^s -> ʦ), language
switch flags are dropped, and the punctuation espeak swallows is put back, since Kokoro
phrases by it. European Portuguese gets the espeak voice `pt`, not `pt-br`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from voice_agent.errors import ModelMissing
from voice_agent.speech_out.espeak_lib import TIE, EspeakLibrary

VOCAB_FILE = Path(__file__).resolve().parents[1] / "data" / "kokoro_vocab.json"

# espeak's multi-letter phonemes (joined by TIE) -> Kokoro's single symbols (misaki E2M)
_E2M = (
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("d^z", "ʣ"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("o^ʊ", "O"),
    ("ə^ʊ", "Q"), ("s^s", "S"), ("t^s", "ʦ"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"),
)  # fmt: skip
_FLAGS_RE = re.compile(r"\([a-z^\-]+\)")
_PUNCT = ';:,.!?—…"()“”'
_PUNCT_RE = re.compile(rf"([{re.escape(_PUNCT)}]+)")
# Native punctuation -> the marks Kokoro knows
_NATIVE_PUNCT = str.maketrans(
    {
        "،": ",", "؛": ";", "؟": "?", "।": ".", "॥": ".", "۔": ".", "«": "“", "»": "”",
        "„": "“", "–": "—", "¿": None, "¡": None, "，": ",", "。": ".", "！": "!",
        "？": "?", "：": ":", "；": ";", "、": ",", "（": "(", "）": ")",
    }
)  # fmt: skip
_OPENERS = "(“"

Phonemizer = Callable[[str], str]


def load_vocab(path: Path = VOCAB_FILE) -> dict[str, int]:
    """Kokoro's phoneme -> token id table (kokoro-onnx, from hexgrad's config; see README)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): int(v) for k, v in data["vocab"].items()}


def clean_ipa(ipa: str) -> str:
    """espeak IPA (with TIE) -> Kokoro symbols."""
    ipa = _FLAGS_RE.sub("", ipa)
    for old, new in _E2M:
        ipa = ipa.replace(old, new)
    return ipa.replace(TIE, "").replace("-", "")


def join_with_punctuation(parts: list[tuple[bool, str]]) -> str:
    """(is_punctuation, text) pieces -> one phoneme string, marks attached like written text."""
    out = ""
    for is_punct, text in parts:
        if not text:
            continue
        if not is_punct:
            out = f"{out} {text}" if out and not out.endswith(tuple(_OPENERS)) else out + text
            continue
        for mark in text:  # openers take a space before them, the rest stick to the word
            opener = f"{out} {mark}" if out else mark
            out = opener if mark in _OPENERS else out.rstrip() + mark
    return re.sub(r"\s+", " ", out).strip()


class EspeakG2P:
    """IPA from libespeak-ng for one espeak voice, punctuation kept, in Kokoro's symbols."""

    def __init__(self, library: EspeakLibrary, voice: str) -> None:
        self._library = library
        self.voice = voice

    def __call__(self, text: str) -> str:
        parts: list[tuple[bool, str]] = []
        for i, piece in enumerate(_PUNCT_RE.split(text.translate(_NATIVE_PUNCT))):
            if i % 2:
                parts.append((True, piece))
            elif piece.strip():
                clauses = self._library.phonemize(piece, self.voice)
                parts.append((False, " ".join(clean_ipa(c).strip() for c in clauses if c)))
        return join_with_punctuation(parts)


class ChineseG2P:
    """misaki's ZHG2P (jieba words -> pypinyin -> IPA with tone arrows; cn2an for numbers).

    Latin-script runs (office names such as "Loja do Cidadão", spelled acronyms) are read by
    espeak-ng's Portuguese voice, the way the citizen will hear them at the counter.
    """

    _LATIN_RE = re.compile(r"([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'\- ]*[A-Za-zÀ-ÿ]|[A-Za-zÀ-ÿ])")

    def __init__(self, latin: EspeakG2P) -> None:
        try:
            from misaki.zh import ZHG2P
        except ImportError as exc:
            raise ModelMissing(
                "the Chinese Kokoro voice needs misaki, jieba, pypinyin and cn2an (Python "
                "packages); install the project again (`make run` or `pip install -e .`)"
            ) from exc
        self._zh = ZHG2P()
        self._latin = latin

    def __call__(self, text: str) -> str:
        parts: list[tuple[bool, str]] = []
        for i, piece in enumerate(self._LATIN_RE.split(text)):
            if not piece.strip():
                continue
            if i % 2:
                parts.append((False, self._latin(piece)))
                continue
            ps = self._zh(piece)[0]
            for j, chunk in enumerate(_PUNCT_RE.split(ps)):
                parts.append((bool(j % 2), chunk.strip()))
        return join_with_punctuation(parts)
