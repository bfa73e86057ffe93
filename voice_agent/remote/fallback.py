"""What the remote engines share: their error, the failure streak, the lazy local engine.

A remote engine that fails is skipped for `RETRY_AFTER_S` (the local engine answers at once
instead of every request waiting for the same timeout), then tried again. Each streak of
failures is logged once, with its first reason, and its end once, with how many requests the
local engine answered meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from voice_agent.errors import EngineFailure

log = logging.getLogger("voice_agent.remote")
T = TypeVar("T")

RETRY_AFTER_S = 15.0


class RemoteFailure(EngineFailure):
    """A remote engine did not give a usable answer (down, timed out, or not its protocol)."""

    code = "remote_failure"


class Streak:
    """One remote engine's health: is it failing, since when, why (logged once per streak)."""

    def __init__(self, what: str, url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.url = url
        self._clock = clock
        self.failing = False
        self.fallbacks = 0  # requests the local engine answered in this streak
        self.reason = ""
        self._since = 0.0

    def resting(self) -> bool:
        """True while a recent failure says: do not wait for the remote engine again yet."""
        return self.failing and self._clock() - self._since < RETRY_AFTER_S

    def failed(self, reason: str) -> None:
        if not self.failing:
            log.warning(
                "remote %s at %s failed (%s): the local engine answers until it is back",
                self.what, self.url, reason,
            )  # fmt: skip
            self.reason = reason
        self.failing = True
        self._since = self._clock()

    def fell_back(self) -> None:
        self.fallbacks += 1

    def succeeded(self) -> None:
        if self.failing:
            log.warning(
                "remote %s at %s answers again (the local engine answered %d requests)",
                self.what, self.url, self.fallbacks,
            )  # fmt: skip
        self.failing = False
        self.fallbacks = 0
        self.reason = ""

    def status(self) -> dict[str, object]:
        return {"url": self.url, "failing": self.failing, "reason": self.reason}


class Lazy(Generic[T]):
    """The local engine, built the first time a request needs it."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self.built: T | None = None

    def get(self) -> T:
        if self.built is None:
            self.built = self._build()
        return self.built
