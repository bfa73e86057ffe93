"""Fan-out to the open consoles: each has its own bounded queue (a slow one loses its oldest
messages, never slows anyone else), and gets what concerns it: the session list and the
hand-off queue for everyone; a conversation's turns only for those who opened it.

The first console to open a conversation, and the last to leave it, are reported through
`on_watch(session_id, watching)` (the citizen's screen says when a person is reading).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

TO_WATCHERS = ("turn", "times", "flag")


class Viewer:
    def __init__(self, username: str, role: str, queue_size: int) -> None:
        self.username = username
        self.role = role
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self.watching: set[str] = set()
        self.dropped = 0

    def put(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class Hub:
    def __init__(self, on_watch: Callable[[str, bool], None]) -> None:
        self._on_watch = on_watch
        self.viewers: set[Viewer] = set()

    def add(self, viewer: Viewer) -> None:
        self.viewers.add(viewer)

    def remove(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)
        for session_id in list(viewer.watching):
            self.unwatch(viewer, session_id)

    def watchers(self, session_id: str) -> list[str]:
        return sorted({v.username for v in self.viewers if session_id in v.watching})

    def watch(self, viewer: Viewer, session_id: str) -> None:
        first = not self.watchers(session_id)
        viewer.watching.add(session_id)
        if first:
            self._on_watch(session_id, True)

    def unwatch(self, viewer: Viewer, session_id: str) -> None:
        if session_id not in viewer.watching:
            return
        viewer.watching.discard(session_id)
        if not self.watchers(session_id):
            self._on_watch(session_id, False)

    def publish(self, event: dict[str, Any]) -> None:
        if event.get("type") in TO_WATCHERS:
            session_id = event.get("session_id")
            for v in self.viewers:
                if session_id in v.watching:
                    v.put(event)
            return
        for v in self.viewers:
            v.put(event)

    @property
    def dropped(self) -> int:
        return sum(v.dropped for v in self.viewers)
