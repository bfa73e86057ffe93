"""What is wrong right now, for `/healthz`: the last failure of each part until it works again.

Parts report here (the engine for its stages, the console for its database writes); nothing
reads this on the audio path. A part that works again clears its entry.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(slots=True)
class Problem:
    code: str
    message: str
    since: float  # wall-clock time, for people reading /healthz
    last: float
    count: int = 1


class Health:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.problems: dict[str, Problem] = {}

    def failed(self, part: str, code: str, message: str) -> None:
        now = self._clock()
        p = self.problems.get(part)
        if p is None or p.code != code:
            self.problems[part] = Problem(code, message, now, now)
        else:
            p.message, p.last, p.count = message, now, p.count + 1

    def ok(self, part: str) -> None:
        self.problems.pop(part, None)

    @property
    def status(self) -> str:
        return "degraded" if self.problems else "ok"

    def report(self) -> dict[str, Any]:
        return {part: asdict(p) for part, p in sorted(self.problems.items())}


def storage_problem(exc: sqlite3.Error) -> str:
    """What an operator should look at: the lock, the file's permissions, or the disk."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "locked by another process"
    if "readonly" in text or "read-only" in text:
        return "read-only"
    if "full" in text:
        return "disk full"
    if "postgresql" in text and ("connect" in text or "terminat" in text or "closed" in text):
        return "database server unreachable"
    return "database error"
