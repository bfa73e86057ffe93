"""Process-wide memory settings, applied once at start-up before any worker thread allocates.

glibc gives each thread that allocates its own malloc arena, up to 8 per core, and an arena
keeps its freed pages. A server with a dozen worker threads (model workers, the asyncio
executor, aiortc's encoders) then holds hundreds of megabytes that nothing uses, and more
after every busy hour: `bench.soak` measured +163 MB per 10 minutes of constant load with the
default, and +10 MB (flat after minute 8) with two arenas, the ratio glibc's own
MALLOC_ARENA_MAX environment variable sets. Setting it in the process means every way of
starting `voice-agent` (by hand, systemd, compose) gets it without remembering the variable.
"""

from __future__ import annotations

import ctypes
import os

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
