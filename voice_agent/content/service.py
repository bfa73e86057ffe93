"""The content backend as one service: built with the engine, started and stopped by the
server's lifespan.

Start-up: the YAML files are synced into versions and the published set goes to the engine
(this replaces `Engine.load_faq` for the server), old unanswered questions are purged, and
two observers start: the unanswered-question log (on the engine's bus) and the watcher of
faq_db/entries/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from voice_agent.answer.retrieval import EMBED_BATCH
from voice_agent.cluster import Cluster
from voice_agent.config import Settings
from voice_agent.content.accounts import Accounts
from voice_agent.content.db import ContentDb
from voice_agent.content.faq import FaqEntry
from voice_agent.content.filesync import FileSync
from voice_agent.content.inbox import InboxRepo
from voice_agent.content.inbox_actions import InboxActions
from voice_agent.content.mirror import EntriesFolder
from voice_agent.content.redact import Redactor
from voice_agent.content.unanswered import EngineEmbedder, QuestionEmbedder, UnansweredLog
from voice_agent.content.watcher import watch_entries
from voice_agent.content.workflow import Workflow
from voice_agent.conversation.engine import Engine

log = logging.getLogger(__name__)


class ContentService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        embedder: QuestionEmbedder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.db = ContentDb(settings.database)
        self.folder = EntriesFolder(settings.path(settings.faq_dir) / "entries")
        self.redactor = Redactor()
        self.workflow = Workflow(
            self.db,
            self.folder,
            self._go_live,
            clock,
            allow_self_review=settings.content.allow_self_review,
        )
        self.files = FileSync(self.workflow)
        self.inbox = InboxActions(self.workflow, InboxRepo(self.db.conn))
        self.accounts = Accounts(self.db, settings.content, clock)
        self.unanswered = UnansweredLog(
            self.db,
            engine.bus,
            embedder or EngineEmbedder(engine.retriever),
            self.redactor,
            confidence_below=settings.content.log_confidence_below,
            cluster_similarity=settings.content.cluster_similarity,
            retention_days=settings.privacy.transcript_retention_days,
            clock=clock,
        )
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self.cluster: Cluster | None = None

    def join(self, cluster: Cluster) -> None:
        """Other workers on the same database: tell them of each publish, and reload theirs."""
        self.cluster = cluster
        cluster.on("published", self._reload)

    async def _go_live(self, entries: list[FaqEntry]) -> None:
        if self.cluster is not None:  # committed: the others reload while this one does
            self.cluster.send("published", {"entries": len(entries)})
        await self._answer_from(entries)

    async def _answer_from(self, entries: list[FaqEntry]) -> None:
        await self.engine.publish(entries, embedding_logged)
        self.redactor.update(entries)

    async def _reload(self, origin: str, _payload: dict[str, object]) -> None:
        """Another worker published: answer from the published set in the database now."""
        async with self.workflow.publish_lock:
            entries = await self.workflow.published_entries()
            await self._answer_from(entries)
        log.info("faq: reloaded %d published entries (published on %s)", len(entries), origin)

    async def start(self) -> None:
        await self.files.sync_all()
        await self.unanswered.start()
        if self.settings.content.watch_files:
            self._watcher = asyncio.create_task(
                watch_entries(self.folder.dir, self.files.reimport, self._stop),
                name="faq-db-watcher",
            )

    async def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            try:
                await asyncio.wait_for(self._watcher, timeout=5)
            except TimeoutError:
                self._watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watcher
            self._watcher = None
        await self.unanswered.stop()
        self.db.close()


def embedding_logged(done: int, total: int) -> None:
    """Embedding progress in the log. A first start (or a new embedding model) embeds every
    FAQ question, answer and exemplar before the server answers: minutes on 2 cores. A line
    when a run starts, one per 640 texts, and the last; a publish that embeds no more than one
    batch (a few edited texts) stays quiet."""
    if total <= EMBED_BATCH:
        return
    if done <= EMBED_BATCH:
        log.info(
            "embedding %d texts not seen before (a first start or a new embedding model: "
            "the server answers once this is done)",
            total,
        )
    if done >= total or done % 640 == 0:
        log.info("embedding texts not seen before: %d/%d", done, total)
