"""A text-only transport: the same conversation and wire messages over a websocket, no audio.

`GET /api/text` (websocket): the client sends the client messages of docs/WIRE.md as JSON
text frames and receives every server message, in order. Replies are not synthesised (a
text chat, a telephony bridge's control channel, the tests); turn-taking, the hand-off and
staff messages work exactly as over WebRTC, because they live in the `Conversation`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from voice_agent import events as ev
from voice_agent.conversation.conversation import Conversation
from voice_agent.conversation.engine import Engine
from voice_agent.conversation.handoff import HandoffDesk
from voice_agent.conversation.wire import encode
from voice_agent.language.languages import UnsupportedLanguage, normalize_code

OUTBOX = 256  # messages waiting for a slow client; beyond that the session is closed


class TextSink:
    """A `ReplySink` that writes wire messages to a queue and has nothing to play."""

    def __init__(self) -> None:
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=OUTBOX)
        self.overflowed = False

    def send(self, event: ev.Event) -> None:
        try:
            self.outbox.put_nowait(encode(event))
        except asyncio.QueueFull:
            self.overflowed = True

    def play(self, turn_id: str, pcm: np.ndarray, sample_rate: int) -> None:
        return None

    def clear(self, turn_id: str) -> None:
        return None

    @property
    def playing(self) -> bool:
        return False

    def hold(self, paused: bool) -> None:
        return None

    def echoes(self, heard: np.ndarray) -> bool:
        return False


class TextSessions:
    """The open text conversations of a server (closed together at shutdown)."""

    def __init__(self, engine: Engine, desk: HandoffDesk | None = None) -> None:
        self.engine = engine
        self.desk = desk
        self.open: dict[str, Conversation] = {}

    async def serve(self, websocket: WebSocket, lang: str | None) -> None:
        await websocket.accept()
        try:
            language = normalize_code(lang) if lang else None
        except UnsupportedLanguage as exc:
            await websocket.close(code=1008, reason=str(exc)[:120])
            return
        sink = TextSink()
        conversation = Conversation(
            uuid.uuid4().hex[:16],
            self.engine,
            sink,
            language=language,
            desk=self.desk,
            speak=False,
        )
        self.open[conversation.id] = conversation
        writer = asyncio.ensure_future(_write(websocket, sink))
        conversation.activate()
        try:
            while not sink.overflowed:
                conversation.receive(await websocket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            self.open.pop(conversation.id, None)
            await conversation.close()
            with contextlib.suppress(asyncio.QueueFull):
                sink.outbox.put_nowait(None)  # the writer sends what is left, then stops
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 1.0)

    async def close_all(self, reason: str = "shutdown") -> None:
        await asyncio.gather(
            *(c.close(reason) for c in list(self.open.values())), return_exceptions=True
        )


async def _write(websocket: WebSocket, sink: TextSink) -> Any:
    while (data := await sink.outbox.get()) is not None:
        await websocket.send_text(data)
