"""A stage hanging inside the real server app: the citizen is told (in their language), the
console flags the conversation, /metrics counts the error by kind, /healthz reports it until
the stage works again, and the conversation goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.kit import MESSAGES, QUESTION, Gate, HangingEmbedder, engine_with
from tests.faults.server_kit import errors_metric, eventually, flags, running_app, until
from voice_agent.config import Settings
from voice_agent.conversation.engine import Engine


def test_a_hung_stage_is_told_flagged_counted_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()

    def make(s: Settings) -> Engine:
        return engine_with(s.root, s.path(s.faq_dir), embedder=HangingEmbedder(gate))

    try:
        with (
            running_app(tmp_path, monkeypatch, make) as (client, api),
            client.websocket_connect("/api/text?lang=pt") as ws,
        ):
            session = until(ws, "session")[-1]["session_id"]
            ws.send_json({"type": "text", "text": "HANG qual é o número da linha SNS 24?"})
            got = until(ws, "reply_end")
            error = next(m for m in got if m["type"] == "error")
            assert error["code"] == "retrieval_timeout"
            assert got[-1]["text"] == MESSAGES.get("error", "pt")
            health = client.get("/healthz").json()
            assert health["status"] == "degraded"
            assert health["problems"]["retrieval"]["code"] == "retrieval_timeout"
            flagged = eventually(lambda: flags(client, session))
            assert [(f["kind"], f["detail"]) for f in flagged] == [
                ("stage_failed", "retrieval_timeout")
            ]
            assert errors_metric(api) == {"retrieval_timeout": 1}
            # the same conversation goes on, answered on the worker's fresh thread
            ws.send_json({"type": "text", "text": QUESTION})
            got = until(ws, "reply_end")
            assert "808 24 24 24" in got[-1]["text"]
            assert client.get("/healthz").json()["status"] == "ok"
    finally:
        gate.open()
