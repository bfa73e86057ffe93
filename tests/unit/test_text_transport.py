"""A second transport: the same conversation over a websocket, text only (a real ASGI
websocket through Starlette's test client; fake engines)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient

from tests.fakes import fake_engine
from tests.unit.conversation_kit import ENTRY
from voice_agent import events as ev
from voice_agent.conversation.wire import fields_of
from voice_agent.transports.text import TextSessions

SCHEMA = {c.WIRE: {"type", "turn_id", "t", *fields_of(c)} for c in ev.SERVER_EVENTS}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    (tmp_path / "faq" / "entries" / "sns24-line.yaml").write_text(ENTRY, encoding="utf-8")
    engine = fake_engine(tmp_path, tmp_path / "faq")
    app = FastAPI()
    texts = TextSessions(engine)

    @app.websocket("/api/text")
    async def text(websocket: WebSocket, lang: str | None = None) -> None:
        await texts.serve(websocket, lang)

    with TestClient(app) as c:
        c.portal.call(engine.load_faq)  # type: ignore[union-attr]
        yield c
    engine.close()


def until(ws: Any, kind: str) -> list[dict[str, Any]]:
    got = []
    while True:
        msg = ws.receive_json()
        assert set(msg) == SCHEMA[msg["type"]]  # only what the schema lists
        got.append(msg)
        if msg["type"] == kind:
            return got


def test_a_typed_conversation_over_a_websocket(client: TestClient) -> None:
    with client.websocket_connect("/api/text?lang=en") as ws:
        first = until(ws, "state")
        assert [m["type"] for m in first] == ["session", "state"]
        ws.send_json({"type": "text", "text": "What is the SNS 24 health line number?"})
        got = until(ws, "reply_end")
        reply = next(m for m in got if m["type"] == "reply")
        assert reply["faq_id"] == "sns24-line"
        assert not any(m["type"] == "visemes" for m in got)  # text only: nothing is voiced
        sentences = [m["text"] for m in got if m["type"] == "sentence"]
        assert sentences[0] == "Call the SNS 24 line on 808 24 24 24."
        assert {m["turn_id"] for m in got if m["turn_id"]} == {reply["turn_id"]}
        ws.send_json({"type": "handoff"})
        got = until(ws, "reply_end")
        status = next(m for m in got if m["type"] == "handoff")
        assert status["state"] == "unavailable" and status["helpline"] == "808 257 257"
        ws.send_text("{not json")
        assert until(ws, "error")[-1]["code"] == "bad_message"


def test_an_unsupported_language_closes_the_socket_with_a_reason(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        client.websocket_connect("/api/text?lang=klingon") as ws,
        pytest.raises(WebSocketDisconnect) as info,
    ):
        ws.receive_json()
    assert info.value.code == 1008 and "unsupported language" in info.value.reason
