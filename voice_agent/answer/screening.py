"""Screening a question before it may be answered from the FAQ.

Three independent signals, all multilingual:
- injection cues (data/injection_cues.yaml): instruction overrides, role-play, dictated facts,
  requests to write code or poems. These are refused even when they name an FAQ topic.
- a domain model: a linear discriminant on e5 vectors, fitted when the FAQ loads, separating
  the FAQ's own questions (every language) from off-topic exemplars (data/negatives.yaml).
  Its margin is in units of half the distance between the two classes' medians: 0 is the
  midpoint, positive is on-topic.
- small talk (data/smalltalk.yaml): greetings, thanks, goodbyes and "I want a person".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from voice_agent.answer.refusal_cues import InjectionCues

EMBEDDING_DIM = 384  # multilingual-e5-small vectors, shared by screening and retrieval


@dataclass(frozen=True, slots=True)
class Screening:
    injection: str | None  # the matched cue, if any
    domain: float  # discriminant margin; >= domain threshold means on-topic
    intent: str | None  # greeting | thanks | goodbye | human
    intent_score: float


class DomainModel:
    """Fisher linear discriminant with shrinkage: on-topic (FAQ questions) vs off-topic."""

    def __init__(self, on_topic: np.ndarray, off_topic: np.ndarray, shrink: float = 0.2) -> None:
        mu1, mu0 = on_topic.mean(0), off_topic.mean(0)
        centred = np.vstack([on_topic - mu1, off_topic - mu0])
        cov = np.cov(centred.T)
        dim = cov.shape[0]
        cov = (1 - shrink) * cov + shrink * np.eye(dim) * np.trace(cov) / dim
        self.w = np.linalg.solve(cov, mu1 - mu0)
        s1, s0 = float(np.median(on_topic @ self.w)), float(np.median(off_topic @ self.w))
        self.mid = (s1 + s0) / 2
        self.half = max(1e-6, (s1 - s0) / 2)

    def margin(self, q: np.ndarray) -> float:
        return float((q @ self.w - self.mid) / self.half)


class Screener:
    def __init__(self, negatives_file: Path, smalltalk_file: Path, cues_file: Path) -> None:
        self._negatives_file = negatives_file
        self._smalltalk_file = smalltalk_file
        self._cues = InjectionCues(cues_file)
        self._domain: DomainModel | None = None
        self._talk = np.zeros((0, EMBEDDING_DIM), np.float32)
        self._talk_intents: list[str] = []
        self._cache: tuple[list[str], list[str], list[str]] | None = None

    def _exemplars(self) -> tuple[list[str], list[str], list[str]]:
        """(off-topic texts, small-talk texts, their intents), read once."""
        if self._cache is None:
            negatives = yaml.safe_load(self._negatives_file.read_text(encoding="utf-8")) or {}
            talk = yaml.safe_load(self._smalltalk_file.read_text(encoding="utf-8")) or {}
            self._cache = (
                [str(t) for texts in negatives.values() for t in texts],
                [str(t) for texts in talk.values() for t in texts],
                [str(k) for k, texts in talk.items() for _ in texts],
            )
        return self._cache

    def fit(self, faq_vectors: np.ndarray, embed: Callable[[list[str]], np.ndarray]) -> None:
        neg_texts, talk_texts, self._talk_intents = self._exemplars()
        vectors = embed(neg_texts + talk_texts)
        self._talk = vectors[len(neg_texts) :]
        if len(faq_vectors) and len(neg_texts):
            self._domain = DomainModel(faq_vectors, vectors[: len(neg_texts)])

    def screen(self, text: str, q: np.ndarray) -> Screening:
        cue = self._cues.match(text)
        domain = self._domain.margin(q) if self._domain is not None else 1.0
        intent, score = None, 0.0
        if len(self._talk_intents):
            sims = self._talk @ q
            j = int(np.argmax(sims))
            intent, score = self._talk_intents[j], float(sims[j])
        return Screening(cue.span if cue else None, domain, intent, score)
