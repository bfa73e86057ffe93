"""The whole server app (content, console, text transport) on fault-injecting fake engines,
through Starlette's test client: what a citizen and the staff see when something breaks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import add_users, console_settings
from tests.content.conftest import Api
from tests.faults.kit import engine_with, faq
from voice_agent.config import Settings
from voice_agent.conversation.engine import Engine
from voice_agent.transports import server


@contextmanager
def running_app(
    tmp: Path,
    mp: pytest.MonkeyPatch,
    make_engine: Callable[[Settings], Engine],
    var_dir: Path | None = None,
) -> Iterator[tuple[TestClient, Api]]:
    settings = console_settings(tmp, faq(tmp))
    if var_dir is not None:
        settings = replace(settings, var_dir=var_dir)

    class Services(server.Services):
        def __init__(self, s: Settings) -> None:
            super().__init__(s, engine=make_engine(s))

    mp.setattr(server, "Services", Services)
    add_users(settings)
    app = server.create_app(settings, web_dir=settings.root / "no-web")
    with TestClient(app) as client:
        yield client, Api(client)


def plain_engine(s: Settings) -> Engine:
    return engine_with(s.root, s.path(s.faq_dir))


def until(ws: Any, kind: str) -> list[dict[str, Any]]:
    got = []
    while True:
        msg = ws.receive_json()
        got.append(msg)
        if msg["type"] == kind:
            return got


def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    end = time.monotonic() + within
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.02)


def flags(client: TestClient, session: str) -> list[dict[str, Any]]:
    live = client.app.state.console.log.live  # type: ignore[attr-defined]
    return list(live[session].flags) if session in live else []


def errors_metric(api: Api) -> dict[str, int]:
    text = api("GET", "/metrics", "sue").text
    out = {}
    for line in text.splitlines():
        if line.startswith("voice_agent_errors_total{"):
            kind = line.split('kind="')[1].split('"')[0]
            out[kind] = int(line.rsplit(" ", 1)[1])
    return out
