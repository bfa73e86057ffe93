"""The unanswered-question log: an observer of the engine's bus, never on the audio path.

It subscribes to `engine.bus` (a bounded queue that drops the oldest message when full) and,
in its own task, records questions the assistant did not answer well: `no_answer`, `faq`
answers with confidence below the threshold, and `off_topic` (flagged, so the inbox can tell
refusals from gaps). Text is redacted first; the redacted text is embedded (e5, through the
retrieval worker) and clustered by meaning. Questions older than the retention period are
purged at start-up and daily.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from voice_agent.content.db import ContentDb
from voice_agent.content.inbox import InboxRepo
from voice_agent.content.records import Question
from voice_agent.content.redact import Redactor
from voice_agent.conversation.bus import EventBus

log = logging.getLogger(__name__)

DAY = 86_400.0
BATCH = 32


class QuestionEmbedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim)


class EngineEmbedder:
    """The engine's own e5 query embedder, run in the retrieval worker (serialised with
    searches; a search never waits for more than one small batch)."""

    def __init__(self, retriever: Any) -> None:
        self._retriever = retriever

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await self._retriever.embed_queries(texts)  # type: ignore[no-any-return]


def worth_logging(msg: dict[str, Any], confidence_below: float) -> bool:
    if msg.get("type") != "decision" or not str(msg.get("text") or "").strip():
        return False
    kind = msg.get("kind")
    if kind in ("no_answer", "off_topic"):
        return True
    return kind == "faq" and float(msg.get("confidence") or 0.0) < confidence_below


class UnansweredLog:
    def __init__(
        self,
        db: ContentDb,
        bus: EventBus,
        embedder: QuestionEmbedder,
        redactor: Redactor,
        *,
        confidence_below: float,
        cluster_similarity: float,
        retention_days: float,
        clock: Callable[[], float],
    ) -> None:
        self.db = db
        self.repo = InboxRepo(db.conn)
        self._bus = bus
        self._embedder = embedder
        self._redactor = redactor
        self._confidence_below = confidence_below
        self._similarity = cluster_similarity
        self._retention = retention_days * DAY
        self._clock = clock
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.recorded = 0

    async def start(self) -> None:
        await self.purge()
        self._queue = self._bus.subscribe()
        self._tasks = [
            asyncio.create_task(self._consume(self._queue), name="unanswered-log"),
            asyncio.create_task(self._purge_daily(), name="unanswered-purge"),
        ]

    async def stop(self) -> None:
        if self._queue is not None:
            self._bus.unsubscribe(self._queue)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _consume(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < BATCH:
                batch.append(queue.get_nowait())
            try:
                await self.record(batch)
            except Exception:  # noqa: BLE001 - the log must outlive one bad batch
                log.exception("recording %d unanswered questions failed", len(batch))

    async def record(self, messages: Sequence[dict[str, Any]]) -> list[Question]:
        """Redact, embed and cluster the messages worth keeping; return what was stored."""
        keep = [m for m in messages if worth_logging(m, self._confidence_below)]
        if not keep:
            return []
        texts = [self._redactor.redact(" ".join(str(m["text"]).split())) for m in keep]
        vectors = await self._embedder.embed(texts)
        now = self._clock()

        def store() -> list[Question]:
            out = []
            for m, text, vec in zip(keep, texts, vectors, strict=True):
                score = m.get("best_score")
                out.append(
                    self.repo.add(
                        at=now,
                        language=str(m.get("language") or ""),
                        text=text,
                        kind=str(m["kind"]),
                        flagged=m["kind"] == "off_topic",
                        best_entry=m.get("best_entry"),
                        score=None if score is None else float(score),
                        confidence=float(m.get("confidence") or 0.0),
                        vector=vec,
                        threshold=self._similarity,
                    )
                )
            return out

        stored = await self.db.run(store)
        self.recorded += len(stored)
        return stored

    async def purge(self) -> int:
        removed = await self.db.run(self.repo.purge, self._clock() - self._retention)
        if removed:
            log.info("purged %d unanswered questions older than the retention period", removed)
        return removed

    async def _purge_daily(self) -> None:
        while True:
            await asyncio.sleep(DAY)
            try:
                await self.purge()
            except Exception:  # noqa: BLE001
                log.exception("purging unanswered questions failed")
