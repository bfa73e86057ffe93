"""Watch faq_db/entries/ for changes made outside the editor and re-import them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from voice_agent.content.mirror import is_entry_file

log = logging.getLogger(__name__)


async def watch_entries(
    folder: Path,
    reimport: Callable[[list[Path]], Awaitable[Any]],
    stop: asyncio.Event,
    debounce_ms: int = 300,
) -> None:
    """Until `stop` is set: each batch of changed *.yaml files goes to `reimport`."""
    from watchfiles import awatch

    if not await asyncio.to_thread(folder.is_dir):
        log.warning("not watching %s: no such folder", folder)
        return

    def wanted(_change: object, path: str) -> bool:
        return is_entry_file(Path(path))

    async for changes in awatch(
        folder, stop_event=stop, debounce=debounce_ms, recursive=False, watch_filter=wanted
    ):
        paths = sorted({Path(p) for _change, p in changes})
        try:
            await reimport(paths)
        except Exception:  # noqa: BLE001 - a bad file must not stop the watcher
            log.exception("re-importing %s failed", [p.name for p in paths])
