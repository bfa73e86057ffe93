"""The live sessions of the other workers (voice_agent/cluster.py), as this worker's consoles
see them: each worker shares its consoles' live feed (session summaries, turns, times, flags;
already redacted), and keeps here the summaries the others shared, so a console on any worker
lists every live session and can open one (its turns come from the shared database).

A worker that says `bye`, or is not heard from for three heartbeats, takes its sessions with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from voice_agent.cluster import Cluster

log = logging.getLogger(__name__)
SHARED = ("session", "session_gone", "turn", "times", "flag")  # the consoles' live feed


class RemoteSessions:
    def __init__(
        self,
        cluster: Cluster,
        publish: Callable[[dict[str, Any]], None],
        local: Callable[[], list[dict[str, Any]]],
        viewing: Callable[[str, bool], None],
    ) -> None:
        self.cluster = cluster
        self._publish = publish  # to this worker's consoles (the hub)
        self._local = local  # this worker's live session summaries
        self._viewing = viewing  # a console elsewhere opened / left one of ours
        self.sessions: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (worker, summary)
        cluster.on("hub", self._arrived)
        cluster.on("hello", self._hello)
        cluster.on("bye", lambda origin, _p: self._drop_worker(origin))
        cluster.on("viewing", self._viewed)
        cluster.on_connected.append(self._share_all)  # messages sent meanwhile were missed

    def start(self) -> None:
        self.cluster.send("hello", {})  # the others' sessions, now that we listen for them

    # --- ours, to the others ---------------------------------------------------------------
    def share(self, message: dict[str, Any]) -> None:
        if message.get("type") in SHARED:
            self.cluster.send("hub", message)

    def watching(self, session_id: str, viewing: bool) -> None:
        """A console here opened (or left) a session of another worker: its citizen is told."""
        if session_id in self.sessions:
            self.cluster.send("viewing", {"session_id": session_id, "viewing": viewing})

    def _share_all(self) -> None:
        for summary in self._local():
            self.cluster.send("hub", {"type": "session", "session": summary})

    def _hello(self, _origin: str, _payload: dict[str, Any]) -> None:
        self._share_all()

    def _viewed(self, _origin: str, payload: dict[str, Any]) -> None:
        session_id, viewing = payload.get("session_id"), payload.get("viewing")
        if isinstance(session_id, str) and isinstance(viewing, bool):
            self._viewing(session_id, viewing)

    # --- theirs, to our consoles -----------------------------------------------------------
    def _arrived(self, origin: str, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind not in SHARED:
            return
        if kind == "session":
            summary = message.get("session")
            if not isinstance(summary, dict) or not isinstance(summary.get("id"), str):
                return
            self.sessions[summary["id"]] = (origin, summary)
        elif kind == "session_gone":
            self.sessions.pop(str(message.get("session_id")), None)
        self._publish(message)

    def _drop_worker(self, origin: str) -> None:
        for session_id, (worker, _summary) in list(self.sessions.items()):
            if worker == origin:
                del self.sessions[session_id]
                self._publish({"type": "session_gone", "session_id": session_id})

    def summaries(self) -> list[dict[str, Any]]:
        return [summary for _worker, summary in self.sessions.values()]

    def get(self, session_id: str) -> dict[str, Any] | None:
        found = self.sessions.get(session_id)
        return found[1] if found else None
