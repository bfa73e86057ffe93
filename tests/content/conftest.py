"""Fixtures for the content backend: a small real FAQ (all 20 languages), the server app on
a fake engine (HashEmbedder, no models), three accounts, and a client that acts as any of them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fakes import fake_engine
from voice_agent.config import ContentSettings, Settings
from voice_agent.content.accounts import AccountRepo
from voice_agent.content.db import connect
from voice_agent.transports import server

ROOT = Path(__file__).resolve().parents[2]
FILES = ("nif.yaml", "sns24-line.yaml", "emergency-112.yaml", "niss.yaml")
PASSWORD = "correct horse battery staple"
USERS = {"ed": "editor", "rita": "reviewer", "ana": "admin"}


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    d = tmp_path / "faq"
    (d / "entries").mkdir(parents=True)
    for name in FILES:
        shutil.copy(ROOT / "faq_db" / "entries" / name, d / "entries" / name)
    return d


def make_settings(
    tmp_path: Path, faq_dir: Path, *, watch: bool = False, database_url: str = ""
) -> Settings:
    return Settings(
        root=tmp_path,
        faq_dir=faq_dir,
        var_dir=tmp_path / "var",
        database_url=database_url,
        content=ContentSettings(watch_files=watch),
    )


def add_users(settings: Settings) -> None:
    conn = connect(settings.database)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # verify reads these
    repo = AccountRepo(conn)
    for name, role in USERS.items():
        repo.add_user(name, role, hasher.hash(PASSWORD), time.time())  # type: ignore[arg-type]
    conn.close()


class FakeServices(server.Services):
    """server.Services on the fake engine."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, engine=fake_engine(settings.root, settings.faq_dir))


def make_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(server, "Services", FakeServices)
    add_users(settings)
    return server.create_app(settings, web_dir=settings.root / "no-web")


@pytest.fixture
def settings(tmp_path: Path, faq_dir: Path, database_url: str) -> Settings:
    """On SQLite and on PostgreSQL (tests/conftest.py)."""
    return make_settings(tmp_path, faq_dir, database_url=database_url)


@pytest.fixture
def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    return make_app(settings, monkeypatch)


class Api:
    """One TestClient; each call acts as a given user (or nobody), with or without CSRF."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._sessions: dict[str, tuple[str, str]] = {}

    def login(self, user: str) -> tuple[str, str]:
        if user not in self._sessions:
            self.client.cookies.clear()
            r = self.client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._sessions[user] = (r.cookies["va_session"], r.json()["csrf_token"])
        return self._sessions[user]

    def __call__(
        self, method: str, url: str, user: str | None = None, *, csrf: bool = True, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        cookie = None
        if user is not None:
            token, token_csrf = self.login(user)
            cookie = token
            if csrf:
                headers["X-CSRF-Token"] = token_csrf
        self.client.cookies.clear()
        if cookie:
            self.client.cookies.set("va_session", cookie)
        return self.client.request(method, url, headers=headers, **kw)


@pytest.fixture
def api(app: FastAPI) -> Iterator[Api]:
    with TestClient(app) as client:
        yield Api(client)


def entry_file(settings: Settings, entry_id: str) -> Path:
    return settings.path(settings.faq_dir) / "entries" / f"{entry_id}.yaml"
