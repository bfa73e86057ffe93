"""Process-wide memory settings: glibc's malloc arenas, and Python's cyclic garbage collector.

Malloc arenas are capped once at start-up, before any worker thread allocates. glibc gives
each thread that allocates its own malloc arena, up to 8 per core, and an arena keeps its freed
pages. A server with a dozen worker threads (model workers, the asyncio executor, aiortc's
encoders) then holds hundreds of megabytes that nothing uses, and more after every busy hour:
`bench.soak` measured +163 MB per 10 minutes of constant load with the default, and +10 MB
(flat after minute 8) with two arenas, the ratio glibc's own MALLOC_ARENA_MAX environment
variable sets. Setting it in the process means every way of starting `voice-agent` (by hand,
systemd, compose) gets it without remembering the variable.

The garbage collector: see `Heap`.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import time

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at `arenas`; True when applied. Nothing is done for 0 (the
    glibc default), when the operator set MALLOC_ARENA_MAX (theirs wins), or on a C library
    that is not glibc (musl, macOS)."""
    if arenas <= 0 or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


class Heap:
    """When the cyclic garbage collector runs: a closed WebRTC session is a web of reference
    cycles (the peer connection, its transports and senders, the session's callbacks), and
    PyAV's filter graphs are cycles too, each holding a pool of FFmpeg threads. Python frees
    cycles only in a full collection, which ran 6 times in a whole soak here, so every
    closed session kept its threads and buffers: the short soak found 17 more threads after
    all citizens had left than before (20 of them freed by one `gc.collect()`).

    `freeze` (once the models are loaded) moves every object alive then into the permanent
    generation, which no collection scans again: a full collection took 160 ms before and
    15 ms after (233,000 objects frozen). `sweep_soon` (when a session closes) runs one
    full collection `delay` seconds later, once for any number of sessions closing together.

    Frozen objects are still freed by reference counting; only a cycle among them would be
    kept. Publishing the FAQ (what replaces start-up objects later) was checked to leave
    none: three publishes after `freeze`, then `gc.unfreeze(); gc.collect()` found 0."""

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self.sweeps = 0
        self._pending: asyncio.TimerHandle | None = None

    def freeze(self) -> int:
        """Collect what start-up left, then freeze the rest; the number of objects frozen."""
        gc.collect()
        gc.freeze()
        return gc.get_freeze_count()

    def sweep_soon(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.delay, self.sweep)

    def sweep(self) -> int:
        """One full collection now; the number of objects it freed."""
        self._pending = None
        start = time.perf_counter()
        freed = gc.collect()
        self.sweeps += 1
        ms = (time.perf_counter() - start) * 1000
        log.debug("heap: %d objects freed in %.1f ms", freed, ms)
        return freed

    def close(self) -> None:
        """The server is stopping: no more sweeps, and what was frozen can be collected again
        (a process that runs the app more than once, as the tests do, frees each one's)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        gc.unfreeze()
