"""Turning inbox clusters into drafts, dismissing them, and importing files as drafts.

All of these create drafts only: nothing goes live until a reviewer publishes it.
"""

from __future__ import annotations

from typing import Any

from voice_agent.content.body import body_from_questions, with_paraphrases
from voice_agent.content.errors import InvalidState, NotFound
from voice_agent.content.inbox import InboxRepo
from voice_agent.content.records import Cluster, Version
from voice_agent.content.workflow import Workflow
from voice_agent.language.languages import CODES


class InboxActions:
    def __init__(self, workflow: Workflow, inbox: InboxRepo) -> None:
        self.wf = workflow
        self.inbox = inbox

    # --- database worker ------------------------------------------------------------------
    def _open_cluster(self, cluster_id: int) -> Cluster:
        c = self.inbox.get(cluster_id)
        if c is None:
            raise NotFound(f"no inbox cluster {cluster_id}")
        if c.status == "resolved":
            raise InvalidState(f"cluster {cluster_id} was already turned into entry {c.entry_id}")
        return c

    @staticmethod
    def _questions(c: Cluster) -> list[tuple[str, str]]:
        return [(q.language, q.text) for q in c.questions if q.language in CODES]

    def _new_entry(self, user: str, cluster_id: int, entry_id: str | None, topic: str) -> Version:
        c = self._open_cluster(cluster_id)
        entry_id = entry_id or f"inbox-{cluster_id}"
        body = body_from_questions(entry_id, topic, self._questions(c))
        v = self.wf.draft_new(user, body, f"from inbox cluster {cluster_id}", "create-from-inbox")
        self.inbox.set_status(cluster_id, "resolved", entry_id)
        return v

    def _paraphrase(self, user: str, cluster_id: int, entry_id: str) -> Version:
        c = self._open_cluster(cluster_id)
        latest = self.wf.latest_or_404(entry_id)
        body = with_paraphrases(latest.body, self._questions(c))
        v = self.wf.draft_on(
            user,
            entry_id,
            latest.version,
            body,
            f"paraphrases from inbox cluster {cluster_id}",
            "paraphrase-from-inbox",
        )
        self.inbox.set_status(cluster_id, "resolved", entry_id)
        return v

    def _dismiss(self, user: str, cluster_id: int) -> Cluster:
        c = self.inbox.get(cluster_id)
        if c is None:
            raise NotFound(f"no inbox cluster {cluster_id}")
        self.inbox.set_status(cluster_id, "dismissed")
        self.wf.repo.record(
            self.wf.now(), user, "dismiss", [f"inbox cluster {cluster_id} ({c.size} questions)"]
        )
        out = self.inbox.get(cluster_id, 20)
        assert out is not None
        return out

    def _import(self, user: str, bodies: list[dict[str, Any]], what: str) -> list[Version]:
        out = []
        for body in bodies:
            latest = self.wf.repo.latest(body["id"])
            if latest is None or latest.state == "deleted":
                out.append(self.wf.draft_new(user, body, f"imported from {what}", "import"))
            else:
                out.append(
                    self.wf.draft_on(
                        user, body["id"], latest.version, body, f"imported from {what}", "import"
                    )
                )
        return out

    # --- async ----------------------------------------------------------------------------
    async def clusters(self, status: Any = "open", limit: int = 100) -> list[Cluster]:
        return await self.wf.db.run(self.inbox.clusters, status, limit)

    async def new_entry(
        self, user: str, cluster_id: int, entry_id: str | None, topic: str
    ) -> Version:
        return await self.wf.db.run(self._new_entry, user, cluster_id, entry_id, topic)

    async def paraphrase(self, user: str, cluster_id: int, entry_id: str) -> Version:
        return await self.wf.db.run(self._paraphrase, user, cluster_id, entry_id)

    async def dismiss(self, user: str, cluster_id: int) -> Cluster:
        return await self.wf.db.run(self._dismiss, user, cluster_id)

    async def import_drafts(
        self, user: str, bodies: list[dict[str, Any]], what: str
    ) -> list[Version]:
        """Drafts for checked bodies (see importer.read_import: the whole file passed)."""
        return await self.wf.db.run(self._import, user, bodies, what)
