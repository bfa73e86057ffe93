"""Who is at the desk: staff members with a console open (a live websocket).

A staff member is present from their first open console until `grace_s` after their last one
closed (a reload must not throw their hand-offs back into the queue). `on_gone(username)` is
called when that grace runs out; `on_change()` whenever the number present changes.
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

    def leave(self, username: str) -> None:
        n = self._sockets.get(username, 0) - 1
        if n > 0:
            self._sockets[username] = n
            return
        self._sockets.pop(username, None)
        if username in self._leaving:
            return
        loop = asyncio.get_running_loop()
        self._leaving[username] = loop.call_later(self.grace_s, self._gone, username)

    def _gone(self, username: str) -> None:
        self._leaving.pop(username, None)
        if username in self._sockets:
            return
        self._names.pop(username, None)
        self._on_gone(username)
        self._on_change()

    def is_present(self, username: str) -> bool:
        return username in self._sockets or username in self._leaving

    def count(self) -> int:
        """Staff present (within their grace too)."""
        return len(set(self._sockets) | set(self._leaving))

    def names(self) -> list[str]:
        return sorted(set(self._sockets) | set(self._leaving))

    def display_name(self, username: str) -> str | None:
        return self._names.get(username)

    def close(self) -> None:
        for timer in self._leaving.values():
            timer.cancel()
        self._leaving.clear()
        self._sockets.clear()
