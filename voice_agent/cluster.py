"""Several `voice-agent serve` workers on one PostgreSQL database tell each other what changed,
over PostgreSQL's LISTEN/NOTIFY: a publish (the others reload the published FAQ), the
consoles' live feed (a console on one worker sees the sessions of all), the staff desk (who is
on duty, the hand-off queues, a console's action on another worker's hand-off), and who is
alive.

Why LISTEN/NOTIFY and not Redis: the workers already share the database, so this adds no
server to run, secure and back up; a notification sent inside a transaction is delivered only
if it commits, and after the data it announces is visible to the others. Its limits suit this
traffic: a payload under 8000 bytes (a long transcript line is shortened for the live view;
the full turn is in the database) and no delivery to a worker that was not listening (one that
reconnects says `hello` and the others repeat their live sessions).

One connection listens; another sends. Handlers run on the event loop, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

log = logging.getLogger(__name__)
CHANNEL = "voice_agent"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
HEARTBEAT_S = 5.0
Handler = Callable[[str, dict[str, Any]], Awaitable[None] | None]  # (origin worker, payload)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _fit(message: dict[str, Any]) -> str | None:
    """The message as JSON under the payload limit: a long text is shortened (the live view
    only; the stored turn is whole), anything else too big is not sent."""
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    if len(data.encode()) <= MAX_PAYLOAD:
        return data
    turn = message.get("p", {}).get("turn")
    if isinstance(turn, dict) and isinstance(turn.get("text"), str):
        short = {
            **message,
            "p": {**message["p"], "turn": {**turn, "text": turn["text"][:600] + "…"}},
        }
        data = json.dumps(short, ensure_ascii=False, separators=(",", ":"))
        if len(data.encode()) <= MAX_PAYLOAD:
            return data
    return None


class Cluster:
    def __init__(self, url: str, name: str | None = None) -> None:
        self.url = url
        self.name = name or worker_name()
        self.handlers: dict[str, list[Handler]] = {}
        self.seen: dict[str, float] = {}  # other worker -> monotonic time last heard
        self.on_connected: list[Callable[[], None]] = []  # (re)connected: missed messages
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    def on(self, kind: str, handler: Handler) -> None:
        """`handler(origin, payload)` for each `kind` message from another worker; "bye" also
        when a worker has been silent for three heartbeats."""
        self.handlers.setdefault(kind, []).append(handler)

    def send(self, kind: str, payload: dict[str, Any]) -> None:
        data = _fit({"w": self.name, "k": kind, "p": payload})
        if data is None:
            log.warning("cluster: a %s message is too large to send; dropped", kind)
            return
        if self._outbox.full():
            log.warning("cluster: the outbox is full (database unreachable?); dropping oldest")
            self._outbox.get_nowait()
        self._outbox.put_nowait(data)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="cluster-listen"),
            asyncio.create_task(self._send(), name="cluster-send"),
            asyncio.create_task(self._beat(), name="cluster-heartbeat"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), 10)

    async def stop(self) -> None:
        self.send("bye", {})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), 2)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def alive(self, within: float = 3 * HEARTBEAT_S) -> set[str]:
        now = time.monotonic()
        return {w for w, at in self.seen.items() if now - at <= within}

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=10
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    self.send("hello", {})
                    for callback in self.on_connected:
                        callback()
                    async for note in conn.notifies():
                        await self._deliver(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect whatever broke
                self.connected.clear()
                log.warning("cluster: listening failed (%s); retrying in 1 s", exc)
                await asyncio.sleep(1.0)

    async def _deliver(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            origin, kind, payload = message["w"], message["k"], message["p"]
        except (ValueError, KeyError, TypeError):
            log.warning("cluster: an unreadable message was ignored")
            return
        if origin == self.name:
            return
        self.seen[origin] = time.monotonic()
        if kind == "bye":
            self.seen.pop(origin, None)
        await self._handle(origin, kind, payload)

    async def _handle(self, origin: str, kind: str, payload: dict[str, Any]) -> None:
        for handler in self.handlers.get(kind, []):
            try:
                result = handler(origin, payload)
                if result is not None:
                    await result
            except Exception:  # noqa: BLE001 - one bad message must not stop the others
                log.exception("cluster: handling a %s message failed", kind)

    async def _send(self) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        while True:
            data = await self._outbox.get()
            try:
                for attempt in range(2):
                    try:
                        if conn is None or conn.closed:
                            conn = await psycopg.AsyncConnection.connect(
                                self.url, autocommit=True, connect_timeout=10
                            )
                        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, data))
                        break
                    except psycopg.Error as exc:
                        conn = None
                        if attempt == 1:
                            log.warning("cluster: a message was not sent (%s)", exc)
            finally:
                self._outbox.task_done()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            self.send("alive", {})
            for worker in set(self.seen) - self.alive():
                log.warning("cluster: worker %s has been silent; it counts as gone", worker)
                self.seen.pop(worker, None)
                await self._handle(worker, "bye", {})
