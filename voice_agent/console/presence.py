"""Who is at the desk: staff members with a console open (a live websocket).

A staff member is present from their first open console until `grace_s` after their last one
closed (a reload must not throw their hand-offs back into the queue). `on_gone(username)` is
called when that grace runs out; `on_change()` whenever the number present changes. Staff
with a console open on another worker of the same database count too (`set_remote`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Presence:
    def __init__(
        self,
        grace_s: float,
        on_gone: Callable[[str], None],
        on_change: Callable[[], None],
    ) -> None:
        self.grace_s = grace_s
        self._on_gone = on_gone
        self._on_change = on_change
        self._sockets: dict[str, int] = {}
        self._leaving: dict[str, asyncio.TimerHandle] = {}
        self._names: dict[str, str] = {}  # the first name a staff member shows citizens
        # staff with a console open on another worker (cluster): worker -> username -> name
        self._remote: dict[str, dict[str, str | None]] = {}
        self.local_listeners: list[Callable[[], None]] = []  # this worker's consoles changed

    def join(self, username: str, display_name: str | None = None) -> None:
        before = self.count()
        timer = self._leaving.pop(username, None)
        if timer is not None:
            timer.cancel()
        self._sockets[username] = self._sockets.get(username, 0) + 1
        if display_name is not None:
            self._names[username] = display_name
        if self.count() != before:
            self._on_change()
        self._local_changed()

    def leave(self, username: str) -> None:
        n = self._sockets.get(username, 0) - 1
        if n > 0:
            self._sockets[username] = n
            return
        self._sockets.pop(username, None)
        self._local_changed()
        self._start_grace(username)

    def _start_grace(self, username: str) -> None:
        if username in self._leaving or self._here(username):
            return
        loop = asyncio.get_running_loop()
        self._leaving[username] = loop.call_later(self.grace_s, self._gone, username)

    def _here(self, username: str) -> bool:
        return username in self._sockets or any(username in r for r in self._remote.values())

    def _local_changed(self) -> None:
        for listener in self.local_listeners:
            listener()

    def local(self) -> dict[str, str | None]:
        """Staff with a console open on this worker, and the name each shows citizens."""
        return {u: self._names.get(u) for u in self._sockets}

    def set_remote(self, worker: str, staff: dict[str, str | None]) -> None:
        """Who has a console open on another worker: present here too (on duty for this
        worker's citizens); one who closes it there keeps the same grace as here."""
        before_count = self.count()
        before = self._remote.get(worker, {})
        if staff:
            self._remote[worker] = dict(staff)
        else:
            self._remote.pop(worker, None)
        for username, name in staff.items():
            if name:
                self._names[username] = name
            timer = self._leaving.pop(username, None)
            if timer is not None:
                timer.cancel()
        for username in before.keys() - staff.keys():
            self._start_grace(username)
        if self.count() != before_count:
            self._on_change()

    def _gone(self, username: str) -> None:
        self._leaving.pop(username, None)
        if self._here(username):
            return
        self._names.pop(username, None)
        self._on_gone(username)
        self._on_change()

    def is_present(self, username: str) -> bool:
        return self._here(username) or username in self._leaving

    def _present(self) -> set[str]:
        remote = {u for r in self._remote.values() for u in r}
        return set(self._sockets) | set(self._leaving) | remote

    def count(self) -> int:
        """Staff present (within their grace too; on any worker)."""
        return len(self._present())

    def names(self) -> list[str]:
        return sorted(self._present())

    def display_name(self, username: str) -> str | None:
        return self._names.get(username)

    def close(self) -> None:
        for timer in self._leaving.values():
            timer.cancel()
        self._leaving.clear()
        self._sockets.clear()
        self._remote.clear()
