"""The console's app on the fake engine, served by uvicorn on loopback in a thread, for the
browser tests of the console page (axe, keyboard, screenshots): conversations are played onto
its session bus as the conversation core publishes them, and fake conversations (`Listener`)
stand in for citizens on the desk. No models are needed."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bench.server import free_port
from tests.console.bus_turns import spoken_turn
from tests.console.conftest import FILES, ROOT, Listener, console_settings, make_console_app


@dataclass
class LiveConsole:
    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Any, *args: Any) -> Any:
        async def run() -> Any:
            out = fn(*args)
            return await out if asyncio.iscoroutine(out) else out

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def publish(self, *messages: dict[str, Any]) -> None:
        async def run() -> None:
            for m in messages:
                await self.app.state.console.log.handle(m)  # in order, fully handled

        asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def citizen(self, session_id: str) -> Listener:
        listener = Listener()
        self.call(self.app.state.console.desk.attach, session_id, listener)
        return listener


@contextmanager
def live_console(tmp: Path) -> Iterator[LiveConsole]:
    faq = tmp / "faq"
    (faq / "entries").mkdir(parents=True)
    for name in FILES:
        shutil.copy(ROOT / "faq_db" / "entries" / name, faq / "entries" / name)
    mp = pytest.MonkeyPatch()
    settings = console_settings(tmp, faq, reconnect_grace_s=1.0)
    app = make_console_app(settings, mp, ROOT / "web_client")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console test server did not start")
        time.sleep(0.05)
    loop = app.state.console.writer._task.get_loop()
    try:
        yield LiveConsole(f"http://127.0.0.1:{port}", app, loop)
    finally:
        server.should_exit = True
        thread.join(30)
        mp.undo()


def turn(
    sid: str,
    tid: str,
    question: str,
    lang: str,
    kind: str,
    faq: str | None,
    answer: str,
    *,
    first_audio: float = 850.0,
    voice: str = "espeak-ng",
) -> list[dict[str, Any]]:
    """One spoken turn on the bus, as the conversation core publishes it (docs/WIRE.md)."""
    return spoken_turn(
        sid, tid, question, lang, kind, faq, answer,
        confidence=0.93 if kind == "faq" else 0.12,
        probability=0.91,
        best_score=0.2,
        stages=(412.0, 3.1, 28.4, first_audio, 2210.0),
        handoff=kind == "no_answer",
        voice=f"{voice}:{lang}",
    )  # fmt: skip
