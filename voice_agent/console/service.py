"""The console as one service, built by the server next to the content service.

It owns the staff desk (`desk`, the `HandoffDesk` the conversations talk to), the conversation
log (an observer of the bus), the consoles' fan-out hub, metrics, and the daily retention purge.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import voice_agent
from voice_agent.answer.refusal_cues import InjectionCues
from voice_agent.cluster import Cluster
from voice_agent.config import Settings
from voice_agent.console import store
from voice_agent.console.db import ConsoleDb
from voice_agent.console.desk import Desk, Handoff
from voice_agent.console.flags import FlagRules
from voice_agent.console.hub import Hub
from voice_agent.console.metrics import Metrics
from voice_agent.console.observer import ConversationLog
from voice_agent.console.remote import RemoteSessions
from voice_agent.console.remote_desk import RemoteDesk, desk_action
from voice_agent.content.errors import NotFound
from voice_agent.content.faq import FaqEntry
from voice_agent.content.redact import Redactor
from voice_agent.conversation.bus import EventBus
from voice_agent.health import Health

log = logging.getLogger(__name__)
DAY = 86_400.0
CUES = Path(voice_agent.__file__).resolve().parent / "data" / "injection_cues.yaml"


class Writer:
    """Writes the desk's changes in order, off the event loop, without making it wait."""

    def __init__(self, db: ConsoleDb) -> None:
        self._db = db
        self._queue: asyncio.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def put(self, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.put_nowait((fn, args))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="console-writer")

    async def _run(self) -> None:
        while True:
            fn, args = await self._queue.get()
            try:
                await self._db.run(fn, *args)
            except Exception:  # noqa: BLE001 - one failed write must not stop the others
                log.exception("console: a write failed")
            finally:
                self._queue.task_done()

    async def stop(self) -> None:
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class ConsoleService:
    def __init__(
        self,
        settings: Settings,
        bus: EventBus,
        redactor: Redactor,
        entries: Callable[[], Mapping[str, FaqEntry]],
        clock: Callable[[], float] = time.time,
        health: Health | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.entries = entries
        self.redactor = redactor
        self.db = ConsoleDb(settings.database)
        self.writer = Writer(self.db)
        self.metrics = Metrics()
        c = settings.console
        self.desk = Desk(
            settings.handoff, c.reconnect_grace_s, redactor.redact, self._handoff, clock
        )
        self.hub = Hub(self._watched)
        self.remote: RemoteSessions | None = None  # other workers' sessions (join)
        self.remote_desk: RemoteDesk | None = None  # other workers' hand-offs (join)
        self.desk.duty_listeners.append(lambda on: self.hub.publish(self.presence()))
        cues = InjectionCues(CUES) if CUES.exists() else None
        self.log = ConversationLog(
            self.db,
            bus,
            redactor.redact,
            lambda: FlagRules(cues, c.low_confidence, c.slow_first_audio_ms),
            self.metrics,
            lambda: {k: e.topic for k, e in entries().items()},
            self._notify,
            clock,
            c.low_confidence,
            health,
        )
        self._bus = bus
        self._purger: asyncio.Task[None] | None = None
        self._gauges()

    def join(self, cluster: Cluster) -> None:
        """Other workers on the same database: share the live feed, list their sessions."""
        local = lambda: [s.summary() for s in self.log.live.values()]  # noqa: E731
        self.remote = RemoteSessions(cluster, self.hub.publish, local, self.desk.viewing)
        self.remote_desk = RemoteDesk(
            cluster, self.desk, self._local_queue, self.handoff_row, self._publish_queue
        )

    def _publish_queue(self) -> None:
        self.hub.publish({"type": "handoffs", "items": self.queue_view()})

    async def handoff_action(
        self, op: str, handoff_id: str, username: str, **args: Any
    ) -> dict[str, Any]:
        """A console's action on a hand-off (accept, message, return, close): on this
        worker's desk, or asked of the worker whose desk holds it."""
        if self.remote_desk is not None and not self.desk.has(handoff_id):
            found = self.remote_desk.find(handoff_id)
            if found is not None:
                worker = found[0]
                return await self.remote_desk.call(
                    worker, op, handoff_id=handoff_id, username=username, **args
                )
        a = {"handoff_id": handoff_id, "username": username, **args}
        return desk_action(self.desk, self.handoff_row, op, a)

    def handoff_language(self, handoff_id: str) -> str:
        if self.desk.has(handoff_id) or self.remote_desk is None:
            return self.desk.get(handoff_id).language
        found = self.remote_desk.find(handoff_id)
        if found is None:
            raise NotFound(f"no hand-off {handoff_id!r}")
        return str(found[1]["language"])

    def _notify(self, message: dict[str, Any]) -> None:
        self.hub.publish(message)
        if self.remote is not None:
            self.remote.share(message)

    def _watched(self, session_id: str, viewing: bool) -> None:
        self.desk.viewing(session_id, viewing)
        if self.remote is not None:
            self.remote.watching(session_id, viewing)

    def live_summaries(self) -> list[dict[str, Any]]:
        """Every live session: this worker's, and the other workers' (cluster)."""
        mine = [s.summary() for s in self.log.live.values()]
        return mine + (self.remote.summaries() if self.remote is not None else [])

    def remote_summary(self, session_id: str) -> dict[str, Any] | None:
        return self.remote.get(session_id) if self.remote is not None else None

    def _gauges(self) -> None:
        m = self.metrics

        def sessions() -> dict[str, float]:
            live = self.log.live.values()
            queued = sum(1 for s in live if s.state == "queued")
            return {"active": len(self.log.live) - queued, "queued": queued}

        m.gauge("voice_agent_sessions", "Voice sessions now, by state.", sessions)
        m.gauge(
            "voice_agent_handoffs_waiting",
            "Hand-offs waiting for a staff member.",
            lambda: {"": sum(1 for h in self.desk.queue() if h.state == "waiting")},
        )
        m.gauge(
            "voice_agent_staff_on_duty",
            "Staff with a console open (within opening hours: 'on_duty').",
            lambda: {
                "present": self.desk.presence.count(),
                "on_duty": float(self.desk.on_duty()),
            },
        )
        m.gauge(
            "voice_agent_dropped_messages",
            "Messages dropped by slow observers (bus) and slow consoles.",
            lambda: {"bus": self._bus.dropped, "consoles": self.hub.dropped},
        )

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.writer.start()
        await self.purge()
        await self.log.start()
        self.desk.start()
        if self.remote is not None:
            self.remote.start()
        self._purger = asyncio.create_task(self._purge_daily(), name="console-purge")

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            await asyncio.gather(self._purger, return_exceptions=True)
        self.desk.stop()
        await self.log.stop()
        await self.writer.stop()
        self.db.close()

    async def purge(self) -> dict[str, int]:
        now = self.clock()
        p = self.settings.privacy
        removed = await self.db.run(
            store.purge,
            now - p.transcript_retention_days * DAY,
            now - self.settings.console.audit_retention_days * DAY,
        )
        if any(removed.values()):
            log.info("console retention: purged %s", removed)
        return removed

    async def _purge_daily(self) -> None:
        while True:
            await asyncio.sleep(DAY)
            try:
                await self.purge()
            except Exception:  # noqa: BLE001
                log.exception("console retention purge failed")

    # --- the desk's changes --------------------------------------------------------------------
    def _handoff(self, h: Handoff) -> None:
        self.metrics.handoffs[str(h.state)] += 1
        self.writer.put(store.save_handoff, self.handoff_row(h))
        live = h.state in ("waiting", "accepted")
        summary = {"id": h.id, "state": str(h.state), "staff": h.staff} if live else None
        self.log.handoff_changed(h.session_id, summary, str(h.state))
        self._publish_queue()
        if self.remote_desk is not None:
            self.remote_desk.share_queue()

    @staticmethod
    def handoff_row(h: Handoff) -> dict[str, Any]:
        return {
            "id": h.id,
            "session_id": h.session_id,
            "language": h.language,
            "reason": h.reason,
            "question": h.question,
            "state": str(h.state),
            "created_at": h.created_at,
            "accepted_at": h.accepted_at,
            "ended_at": h.ended_at,
            "staff": h.staff,
            "outcome": h.outcome,
        }

    def queue_view(self) -> list[dict[str, Any]]:
        """Every live hand-off: this worker's, then the other workers' (cluster)."""
        out = self._local_queue()
        if self.remote_desk is not None:
            now = self.clock()
            out += [
                {**row, "waiting_s": round(now - float(row["created_at"]), 1)}
                for row in self.remote_desk.rows()
            ]
        return out

    def _local_queue(self) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        for h in self.desk.queue():
            row = self.handoff_row(h)
            row["position"] = self.desk.position(h)
            row["waiting_s"] = round(now - h.created_at, 1)
            s = self.log.live.get(h.session_id)
            row["location"] = s.location if s else ""
            out.append(row)
        return out

    def presence(self) -> dict[str, Any]:
        return {
            "type": "presence",
            "on_duty": self.desk.on_duty(),
            "open": self.desk.hours.is_open(self.clock()),
            "staff": self.desk.presence.names(),
        }

    async def audit(
        self,
        username: str,
        action: str,
        session_id: str | None = None,
        handoff_id: str | None = None,
        detail: str = "",
    ) -> None:
        await self.db.run(
            store.audit, self.clock(), username, action, session_id, handoff_id, detail
        )
