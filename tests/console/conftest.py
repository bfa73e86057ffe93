"""Fixtures for the console: the server app on the fake engine (no models), accounts of every
role, a desk that is always open, and a fake conversation (`Listener`) for the desk."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.content.conftest import FILES, ROOT, Api, FakeServices, faq_dir  # noqa: F401
from tests.content.conftest import PASSWORD as PASSWORD
from voice_agent.config import ConsoleSettings, ContentSettings, HandoffSettings, Settings
from voice_agent.content.accounts import AccountRepo
from voice_agent.content.db import connect
from voice_agent.conversation.handoff import HandoffStatus, StaffMessage
from voice_agent.transports import server

ALWAYS_OPEN = HandoffSettings(
    opening_days=(0, 1, 2, 3, 4, 5, 6), opening_time="00:00", closing_time="24:00"
)
USERS = {
    "sam": "staff",
    "stan": "staff",
    "sue": "supervisor",
    "ed": "editor",
    "rita": "reviewer",
    "ana": "admin",
}


class Listener:
    """A conversation as the desk sees it: records what it was told."""

    def __init__(self, fail: bool = False) -> None:
        self.statuses: list[HandoffStatus] = []
        self.messages: list[StaffMessage] = []
        self.viewing: list[bool] = []
        self.fail = fail

    def handoff_changed(self, status: HandoffStatus) -> None:
        if self.fail:
            raise RuntimeError("broken conversation")
        self.statuses.append(status)

    def staff_message(self, message: StaffMessage) -> None:
        self.messages.append(message)

    def staff_viewing(self, viewing: bool) -> None:
        self.viewing.append(viewing)


def console_settings(tmp: Path, faq: Path, database_url: str = "", **console: Any) -> Settings:
    return Settings(
        root=tmp,
        faq_dir=faq,
        var_dir=tmp / "var",
        database_url=database_url,
        content=ContentSettings(watch_files=False),
        handoff=ALWAYS_OPEN,
        console=ConsoleSettings(**{"reconnect_grace_s": 0.2, **console}),
    )


def add_users(settings: Settings) -> None:
    conn = connect(settings.database)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    repo = AccountRepo(conn)
    for name, role in USERS.items():
        repo.add_user(name, role, hasher.hash(PASSWORD), time.time())  # type: ignore[arg-type]
    conn.close()


def make_console_app(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, web_dir: Path | None = None
) -> FastAPI:
    monkeypatch.setattr(server, "Services", FakeServices)
    add_users(settings)
    return server.create_app(settings, web_dir=web_dir or settings.root / "no-web")


@pytest.fixture
def csettings(tmp_path: Path, faq_dir: Path, database_url: str) -> Settings:  # noqa: F811
    """On SQLite and on PostgreSQL (tests/conftest.py)."""
    return console_settings(tmp_path, faq_dir, database_url)


@pytest.fixture
def capp(csettings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    return make_console_app(csettings, monkeypatch)


class Desk:
    """The running app seen from a test: an Api per user, and calls into its event loop."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.api = Api(client)
        self.app: Any = client.app
        self.open_sockets: list[Any] = []  # consoles a failed test left open: closed at teardown

    def close_sockets(self) -> None:
        for ws in self.open_sockets:
            with contextlib.suppress(Exception):
                ws._exit(None, None, None)
        self.open_sockets.clear()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the app's event loop (sync or async)."""
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    @property
    def console(self) -> Any:
        return self.app.state.console

    def publish(self, *messages: dict[str, Any]) -> None:
        """Messages on the session bus, as conversations publish them; waits until the
        console's log has handled them."""
        for m in messages:
            self.call(self.app.state.services.bus.publish, m)
        self.settle()

    def settle(self, timeout: float = 60.0) -> None:
        async def drained() -> bool:
            q = self.console.log._queue
            return q is None or q.empty()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.call(drained):
                self.call(_tick)  # the message taken last is handled too
                return
            time.sleep(0.01)
        raise AssertionError("the console log did not catch up")


async def _tick() -> None:
    import asyncio

    for _ in range(20):
        await asyncio.sleep(0.005)


@pytest.fixture
def desk(capp: FastAPI) -> Iterator[Desk]:
    with TestClient(capp) as client:
        desk = Desk(client)
        try:
            yield desk
        finally:
            desk.close_sockets()  # else the app's shutdown waits on them for ever
