"""The malloc arena cap (voice_agent/memory.py) is applied in a fresh process and holds there:
threads that each allocate share two arenas instead of getting one each. glibc's malloc_stats()
prints one "Arena N:" block per arena to stderr, which is what is counted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voice_agent.memory import limit_malloc_arenas

CHILD = """
import ctypes, sys, threading
from voice_agent.memory import limit_malloc_arenas
applied = limit_malloc_arenas(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
start, keep = threading.Barrier(8), []
def work():
    start.wait()  # all eight allocate at once: each wants an arena of its own
    keep.extend(libc.malloc(4096) for _ in range(200))
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(applied, flush=True)
libc.malloc_stats()
"""


def arenas(cap: int, env: dict[str, str] | None = None) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(cap)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | (env or {}),
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip(), sum(line.startswith("Arena ") for line in out.stderr.splitlines())


def glibc() -> bool:
    import ctypes

    return hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not glibc(), reason="malloc arenas are glibc's")
def test_two_arenas_for_eight_allocating_threads() -> None:
    applied, n = arenas(2)
    assert applied == "True" and n == 2, n
    # the glibc default for comparison: the same threads get more arenas than the cap
    applied, n = arenas(0)
    assert applied == "False" and n > 2, n


@pytest.mark.skipif(not glibc(), reason="malloc arenas are glibc's")
def test_the_operators_environment_wins() -> None:
    applied, n = arenas(2, {"MALLOC_ARENA_MAX": "3"})
    assert applied == "False" and n <= 3, n


def test_zero_means_the_c_library_default() -> None:
    assert limit_malloc_arenas(0) is False
