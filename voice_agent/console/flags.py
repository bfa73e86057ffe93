"""Flags raised automatically on a conversation, so staff see first where help is needed.

Kinds: `asked_person` (a hand-off was requested: asked for, the button, or after misses),
`misses` (no answer or a weak one twice in a row), `negative_feedback` (thumbs down, or a
staff rating of wrong / incomplete), `repeated` (the same question again), `language_switch`,
`stage_failed` (a stage reported an error), `slow` (first audio later than the configured
limit), `injection` (prompt injection or abuse cues).
`stage_failed` also covers the conversation log itself: its database refused a write (locked,
read-only, disk full), so the saved record of this conversation has gaps (once per session).
`FlagRules` keeps what it needs of one conversation; each `on_*` returns the new flags.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from voice_agent.answer.refusal_cues import InjectionCues

KINDS = (
    "asked_person",
    "misses",
    "negative_feedback",
    "repeated",
    "language_switch",
    "stage_failed",
    "slow",
    "injection",
)
MISSES_IN_A_ROW = 2
SAME_QUESTION = 0.8  # overlap of word (or, without spaces, character-pair) sets
LOW_STT_PROBABILITY = 0.5
ANSWERED = "faq"
# not questions to the FAQ ("staff": asked while a person holds the conversation)
NOT_QUESTIONS = ("greeting", "thanks", "goodbye", "identity", "human", "didnt_hear", "staff")


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str
    detail: str = ""


def _shingles(text: str) -> frozenset[str]:
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"[^\w\s]", " ", t)
    words = t.split()
    if len(words) >= 3:
        return frozenset(words)
    joined = "".join(words)  # Chinese, or a very short question: character pairs
    return frozenset(joined[i : i + 2] for i in range(max(1, len(joined) - 1)))


def similar(a: str, b: str) -> bool:
    x, y = _shingles(a), _shingles(b)
    if not x or not y:
        return False
    return len(x & y) / len(x | y) >= SAME_QUESTION


@dataclass(slots=True)
class FlagRules:
    cues: InjectionCues | None
    low_confidence: float
    slow_first_audio_ms: float
    misses: int = 0
    last_language: str | None = None
    last_faq: str | None = None
    questions: list[str] = field(default_factory=list)
    asked: bool = False
    weak_hearing: bool = False
    storage_flagged: bool = False

    def on_heard(self, probability: float | None) -> None:
        self.weak_hearing = probability is not None and probability < LOW_STT_PROBABILITY

    def on_question(
        self, raw_text: str, language: str | None, kind: str, faq_id: str | None, conf: float
    ) -> list[Flag]:
        out: list[Flag] = []
        if kind == "human":
            out += self.on_handoff()
        if self.cues is not None and (cue := self.cues.match(raw_text)):
            out.append(Flag("injection", cue.language))
        if kind in NOT_QUESTIONS:
            self.weak_hearing = False
            return out
        if language and self.last_language and language != self.last_language:
            out.append(Flag("language_switch", f"{self.last_language} -> {language}"))
        self.last_language = language or self.last_language
        miss = kind != ANSWERED or conf < self.low_confidence or self.weak_hearing
        self.weak_hearing = False
        self.misses = self.misses + 1 if miss else 0
        if self.misses == MISSES_IN_A_ROW:
            out.append(Flag("misses", kind))
        if any(similar(raw_text, q) for q in self.questions[-10:]):
            out.append(Flag("repeated", "same words"))
        elif kind == ANSWERED and faq_id is not None and faq_id == self.last_faq:
            out.append(Flag("repeated", f"same answer: {faq_id}"))
        self.last_faq = faq_id if kind == ANSWERED else None
        self.questions.append(raw_text)
        return out

    def on_handoff(self) -> list[Flag]:
        if self.asked:
            return []
        self.asked = True
        return [Flag("asked_person")]

    def on_handoff_over(self) -> None:
        self.asked = False

    @staticmethod
    def on_rating(rating: str) -> list[Flag]:
        return (
            [Flag("negative_feedback", rating)] if rating in ("down", "wrong", "incomplete") else []
        )

    @staticmethod
    def on_error(code: str) -> list[Flag]:
        return [Flag("stage_failed", code)]

    def on_storage_failed(self, reason: str) -> list[Flag]:
        if self.storage_flagged:
            return []
        self.storage_flagged = True
        return [Flag("stage_failed", f"storage: {reason}")]

    def on_times(self, first_audio_ms: float | None) -> list[Flag]:
        if first_audio_ms is not None and first_audio_ms > self.slow_first_audio_ms:
            return [Flag("slow", f"first audio {first_audio_ms:.0f} ms")]
        return []
