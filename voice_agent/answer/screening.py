"""Screening a question before it may be answered from the FAQ.

Four independent signals, all multilingual, and a classifier fitted on all their exemplars:
- injection cues (data/injection_cues.yaml): instruction overrides, role-play, dictated facts,
  requests to write code or poems. These are refused even when they name an FAQ topic.
- a domain model: a linear discriminant on e5 vectors, fitted when the FAQ loads, separating
  the FAQ's own questions (every language) from off-topic exemplars (data/negatives.yaml).
  Its margin is in units of half the distance between the two classes' medians: 0 is the
  midpoint, positive is on-topic.
- small talk (data/smalltalk.yaml): greetings, thanks, goodbyes, "what are you?" and "I want a
  person". A second discriminant of the same kind separates the requests for a person from
  everything else the screener knows (the FAQ's questions, off-topic and uncovered questions,
  the other small talk): "I've waited six months for my card, I need to talk to someone" is
  a request for a person, but its nearest exemplar is not near enough to say so. A third,
  fitted on the two intents' exemplars alone, tells "can I talk to a real person?" from "are
  you a real person?", which e5 puts within 0.02 of each other.
- uncovered questions (data/uncovered.yaml): in-domain questions the FAQ does not answer,
  by the area of the office that can (routes.yaml). The nearest one's similarity and area
  let the decision say "I don't know, ask there" instead of answering the nearest entry
  (answer/decision.py). (Adding them to the domain model's on-topic class was measured: it
  changed nothing on the dev sets, as no uncovered question was refused; so it is not done.)
- the classifier (classifier.py): the FAQ's questions by entry, the uncovered questions by
  area and the off-topic exemplars at once; which of these classes the question's vector
  belongs to, and how sure it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from voice_agent.answer.classifier import NOTHING, OFF_TOPIC, UNCOVERED, Classified, Classifier
from voice_agent.answer.refusal_cues import InjectionCues
from voice_agent.answer.routes import Routes

EMBEDDING_DIM = 384  # multilingual-e5-small vectors, shared by screening and retrieval
TOP = 2  # an uncovered question's area: the one whose 2 best exemplars are nearest on average
PERSON = "human"  # the small-talk intent that asks for a person
IDENTITY = "identity"  # the small-talk intent that asks what the assistant is
QUESTION_MARKS = ("?", "？", "؟")
PERSON_SHRINK = 0.4  # the person model's shrinkage (dev: 0.2-0.6 within 4 of 100 requests)
EVERYDAY = "everyday"  # the negatives' key of off-topic questions the classifier does not learn
NO_MARGIN = -9.0  # a margin when its model could not be fitted (reads as "no")


@dataclass(frozen=True, slots=True)
class Screening:
    injection: str | None  # the matched cue, if any
    domain: float  # discriminant margin; >= domain threshold means on-topic
    intent: str | None  # greeting | thanks | goodbye | identity | human
    intent_score: float
    uncovered: float = 0.0  # cosine to the nearest in-domain question the FAQ does not cover
    area: str | None = None  # the area whose 2 nearest such questions are nearest on average
    uncovered_top: float = 0.0  # that mean (compared with the best entry's `Hit.question_top`)
    classified: Classified = NOTHING  # the classifier's class and posterior
    person: float = NO_MARGIN  # margin of the person model (>= 0: reads as a request for a person)
    # requests for a person vs questions about the assistant ("a real person, please" vs "are
    # you a real person?"): >= 0 reads as the request
    not_me: float = NO_MARGIN
    asked: bool = False  # the text ends with a question mark (? ？ ؟)


class DomainModel:
    """Fisher linear discriminant with shrinkage, one class against another: on-topic (FAQ
    questions) vs off-topic; also requests for a person vs everything else."""

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
    def __init__(
        self,
        negatives_file: Path,
        smalltalk_file: Path,
        cues_file: Path,
        uncovered_file: Path | None = None,  # default: uncovered.yaml beside negatives_file
        routes_file: Path | None = None,  # default: routes.yaml beside negatives_file
    ) -> None:
        self._negatives_file = negatives_file
        self._smalltalk_file = smalltalk_file
        self._uncovered_file = uncovered_file or negatives_file.with_name("uncovered.yaml")
        self.routes = Routes(routes_file or negatives_file.with_name("routes.yaml"))
        self._cues = InjectionCues(cues_file)
        self._domain: DomainModel | None = None
        self._person: DomainModel | None = None
        self._not_me: DomainModel | None = None
        self._classifier: Classifier | None = None
        self._talk = Exemplars.empty()
        self._uncovered = Exemplars.empty()
        self._cache: tuple[list[str], int, Labelled, Labelled] | None = None

    def _exemplars(self) -> tuple[list[str], int, Labelled, Labelled]:
        """(off-topic texts, how many of them the classifier learns, small talk by intent,
        uncovered questions by area), read once. The `everyday` off-topic questions come last
        and teach the domain model only: the classifier's shared covariance moves every entry
        when texts are added (with them, a held-out Ukrainian question lost its entry)."""
        if self._cache is None:
            negatives = _read(self._negatives_file)
            everyday = negatives.pop(EVERYDAY, [])
            uncovered = _read(self._uncovered_file) if self._uncovered_file.exists() else {}
            classified = [t for texts in negatives.values() for t in texts]
            self._cache = (
                classified + everyday,
                len(classified),
                _labelled(_read(self._smalltalk_file)),
                _labelled(uncovered),
            )
        return self._cache

    def fit(
        self,
        faq_vectors: np.ndarray,
        faq_entries: list[str],
        embed: Callable[[list[str]], np.ndarray],
    ) -> None:
        """Fit on the FAQ's question vectors (`faq_entries`: the entry of each) and the
        exemplars."""
        neg_texts, k, (talk_texts, talk_labels), (unc_texts, unc_labels) = self._exemplars()
        vectors = embed(neg_texts + talk_texts + unc_texts)
        n, m = len(neg_texts), len(neg_texts) + len(talk_texts)
        self._talk = Exemplars(vectors[n:m], talk_labels)
        self._uncovered = Exemplars(vectors[m:], unc_labels)
        self._domain = DomainModel(faq_vectors, vectors[:n]) if len(faq_vectors) and n else None
        talk, intents = self._talk.vectors, np.array(talk_labels)
        asks, me = intents == PERSON, intents == IDENTITY
        self._person = self._not_me = None
        if asks.any() and len(faq_vectors) and n:
            rest = np.vstack([faq_vectors, vectors[:n], vectors[m:], talk[~asks]])
            self._person = DomainModel(talk[asks], rest, shrink=PERSON_SHRINK)
        if asks.any() and me.any():
            self._not_me = DomainModel(talk[asks], talk[me], shrink=PERSON_SHRINK)
        self._classifier = None
        if len(faq_vectors):
            labels = faq_entries + [OFF_TOPIC] * k + [UNCOVERED + a for a in unc_labels]
            labelled = np.vstack([faq_vectors, vectors[:k], vectors[m:]])
            self._classifier = Classifier(labelled, labels)

    def screen(self, text: str, q: np.ndarray) -> Screening:
        cue = self._cues.match(text)
        domain = self._domain.margin(q) if self._domain is not None else 1.0
        intent, score, _ = self._talk.nearest(q)
        area, uncovered, top = self._uncovered.nearest(q, by_label_top=TOP)
        classified = self._classifier.classify(q) if self._classifier is not None else NOTHING
        person = self._person.margin(q) if self._person is not None else NO_MARGIN
        not_me = self._not_me.margin(q) if self._not_me is not None else NO_MARGIN
        return Screening(
            cue.span if cue else None,
            domain,
            intent,
            score,
            uncovered,
            area,
            top,
            classified,
            person,
            not_me,
            text.rstrip(" \t\n\"'»”)").endswith(QUESTION_MARKS),
        )


Labelled = tuple[list[str], list[str]]  # texts, and the label of each


def _read(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): [str(t) for t in v or []] for k, v in data.items()}


def _labelled(data: dict[str, list[str]]) -> Labelled:
    return [t for texts in data.values() for t in texts], [k for k, v in data.items() for _ in v]


@dataclass(frozen=True, slots=True)
class Exemplars:
    """Labelled example vectors; `nearest` is the label and cosine of the closest one."""

    vectors: np.ndarray
    labels: list[str]

    @classmethod
    def empty(cls) -> Exemplars:
        return cls(np.zeros((0, 0), np.float32), [])

    def nearest(self, q: np.ndarray, by_label_top: int = 1) -> tuple[str | None, float, float]:
        """(label, highest cosine, mean): the label whose `by_label_top` best exemplars are
        nearest on average, and that mean (one close exemplar is less telling than two)."""
        if not self.labels:
            return None, 0.0, 0.0
        sims = self.vectors @ q
        best = float(sims.max())
        if by_label_top <= 1:
            return self.labels[int(np.argmax(sims))], best, best
        labels = np.array(self.labels)
        means = {
            label: float(np.sort(sims[labels == label])[::-1][:by_label_top].mean())
            for label in dict.fromkeys(self.labels)
        }
        label = max(means, key=lambda k: means[k])
        return label, best, means[label]
