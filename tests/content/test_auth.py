"""Every content endpoint: anonymous -> 401, below its role -> 403, writes without the
CSRF header -> 403. Login cookies, the login rate limit and account rules."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.content.conftest import FILES, PASSWORD, ROOT, Api, make_app, make_settings
from voice_agent.config import ContentSettings
from voice_agent.content.accounts import Accounts
from voice_agent.content.db import ContentDb
from voice_agent.content.errors import BadAccount, NotLoggedIn, TooManyAttempts

NEW = {
    "id": "new-entry",
    "topic": "misc",
    "languages": {"en": {"question": "A new question?", "answer": "An answer."}},
}
BODY_V1 = {"id": "nif", "topic": "taxes", "languages": {"en": {"question": "q", "answer": "a"}}}

# method, path, least role, keyword arguments of the request
ROUTES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("POST", "/api/auth/logout", "editor", {}),
    ("GET", "/api/auth/me", "editor", {}),
    ("GET", "/api/users", "admin", {}),
    (
        "POST",
        "/api/users",
        "admin",
        {"json": {"username": "zed", "role": "editor", "password": "a long enough pw"}},
    ),
    ("GET", "/api/faq/entries", "editor", {}),
    ("GET", "/api/faq/entries/nif", "editor", {}),
    ("GET", "/api/faq/entries/nif/versions", "editor", {}),
    ("POST", "/api/faq/entries", "editor", {"json": {"body": NEW}}),
    ("PUT", "/api/faq/entries/nif", "editor", {"json": {"base_version": 1, "body": BODY_V1}}),
    ("POST", "/api/faq/entries/nif/submit", "editor", {"json": {"version": 1}}),
    ("POST", "/api/faq/entries/nif/publish", "reviewer", {"json": {"version": 1}}),
    ("POST", "/api/faq/entries/nif/reject", "reviewer", {"json": {"version": 1}}),
    ("POST", "/api/faq/entries/nif/rollback", "reviewer", {"json": {"version": 1}}),
    ("DELETE", "/api/faq/entries/nif", "reviewer", {}),
    ("GET", "/api/faq/search?q=nif", "editor", {}),
    ("POST", "/api/faq/try", "editor", {"json": {"text": "How do I get a NIF?"}}),
    ("GET", "/api/faq/audit", "editor", {}),
    ("GET", "/api/faq/inbox", "editor", {}),
    ("POST", "/api/faq/inbox/1/new-entry", "editor", {"json": {}}),
    ("POST", "/api/faq/inbox/1/paraphrase", "editor", {"json": {"entry_id": "nif"}}),
    ("POST", "/api/faq/inbox/1/dismiss", "editor", {}),
    ("GET", "/api/faq/export?format=csv", "editor", {}),
    (
        "POST",
        "/api/faq/import?format=yaml",
        "editor",
        {"content": b"id: x", "headers": {"Content-Type": "text/yaml"}},
    ),
]
BELOW = {"reviewer": "ed", "admin": "rita"}  # a user one role short
HOLDER = {"editor": "ed", "reviewer": "rita", "admin": "ana"}
WRITES = [r for r in ROUTES if r[0] != "GET"]
ids = [f"{m} {p}" for m, p, _r, _k in ROUTES]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for the refusal matrix: a refused request changes nothing."""
    tmp = tmp_path_factory.mktemp("auth")
    faq = tmp / "faq"
    (faq / "entries").mkdir(parents=True)
    for name in FILES:
        shutil.copy(ROOT / "faq_db" / "entries" / name, faq / "entries" / name)
    with (
        pytest.MonkeyPatch.context() as mp,
        TestClient(make_app(make_settings(tmp, faq), mp)) as client,
    ):
        yield Api(client)


def test_the_table_covers_every_content_route(app: FastAPI) -> None:
    mine = {
        (m.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith(("/api/auth", "/api/users", "/api/faq"))
        for m in ops
    }
    table = {
        (m, p.split("?")[0].replace("/nif", "/{entry_id}").replace("/1/", "/{cluster_id}/"))
        for m, p, _r, _k in ROUTES
    }
    assert mine - {("POST", "/api/auth/login")} == table


@pytest.mark.parametrize(("method", "path", "role", "kw"), ROUTES, ids=ids)
def test_anonymous_is_401(
    shared: Api, method: str, path: str, role: str, kw: dict[str, Any]
) -> None:
    r = shared(method, path, None, **kw)
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "not_logged_in"


@pytest.mark.parametrize(
    ("method", "path", "role", "kw"),
    [r for r in ROUTES if r[2] in BELOW],
    ids=[i for i, r in zip(ids, ROUTES, strict=True) if r[2] in BELOW],
)
def test_wrong_role_is_403(
    shared: Api, method: str, path: str, role: str, kw: dict[str, Any]
) -> None:
    r = shared(method, path, BELOW[role], **kw)
    assert r.status_code == 403, r.text
    assert "role" in r.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "role", "kw"), WRITES, ids=[f"{m} {p}" for m, p, _r, _k in WRITES]
)
def test_write_without_csrf_is_403(
    shared: Api, method: str, path: str, role: str, kw: dict[str, Any]
) -> None:
    r = shared(method, path, HOLDER[role], csrf=False, **kw)
    assert r.status_code == 403, r.text
    assert "X-CSRF-Token" in r.json()["detail"]
    headers = {**kw.pop("headers", {}), "X-CSRF-Token": "forged"}
    r = shared(method, path, HOLDER[role], csrf=False, headers=headers, **kw)
    assert r.status_code == 403


def test_login_sets_a_strict_httponly_cookie(app: FastAPI) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(app, base_url=base) as client:
            r = client.post("/api/auth/login", json={"username": "ed", "password": PASSWORD})
            assert r.status_code == 200
            cookie = r.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert ("secure" in cookie.split("; ")) is secure
            me = client.get("/api/auth/me").json()
            assert me["username"] == "ed" and me["role"] == "editor"
            assert me["csrf_token"] == r.json()["csrf_token"]
            r = client.post("/api/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
            assert r.status_code == 200
            assert client.get("/api/auth/me").status_code == 401


def test_logout_ends_the_session_server_side(api: Api) -> None:
    token, csrf = api.login("ed")
    assert api("POST", "/api/auth/logout", "ed").status_code == 200
    api.client.cookies.set("va_session", token)  # a stolen copy of the cookie is now useless
    assert api.client.get("/api/auth/me").status_code == 401


def test_login_rate_limit_per_username_and_per_address(api: Api) -> None:
    c = api.client
    for _ in range(5):
        r = c.post("/api/auth/login", json={"username": "rita", "password": "wrong password"})
        assert r.status_code == 401
    r = c.post("/api/auth/login", json={"username": "rita", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0 and r.json()["retry_after"] > 0
    # the same address trying other names is limited too
    assert (
        c.post("/api/auth/login", json={"username": "ana", "password": PASSWORD}).status_code == 429
    )


async def test_rate_limit_window_passes(tmp_path: Path) -> None:
    now = [1000.0]
    db = ContentDb(tmp_path / "db.sqlite3")
    accounts = Accounts(db, ContentSettings(), lambda: now[0])
    try:
        await accounts.add_user("maria", "editor", "a good long password")
        for _ in range(5):
            with pytest.raises(NotLoggedIn):
                await accounts.login("maria", "nope nope nope", "10.0.0.1")
        with pytest.raises(TooManyAttempts) as limited:
            await accounts.login("maria", "a good long password", "10.0.0.2")
        assert 0 < limited.value.retry_after <= 300
        now[0] += 301
        token, principal = await accounts.login("maria", "a good long password", "10.0.0.2")
        assert principal.role == "editor"
        assert (await accounts.resolve(token)) == principal
        now[0] += 13 * 3600  # sessions expire
        assert await accounts.resolve(token) is None
    finally:
        await asyncio.to_thread(db.close)


async def test_weak_passwords_and_bad_names_are_refused(tmp_path: Path) -> None:
    db = ContentDb(tmp_path / "db.sqlite3")
    accounts = Accounts(db, ContentSettings(), lambda: 0.0)
    try:
        cases = (("joao", "short"), ("joao", "aaaaaaaaaaaa"), ("Bad Name", "long enough pw"))
        for name, pw in cases:
            with pytest.raises(BadAccount):  # WeakPassword is one
                await accounts.add_user(name, "editor", pw)
    finally:
        await asyncio.to_thread(db.close)


def test_admin_adds_users_through_the_api(api: Api) -> None:
    r = api(
        "POST",
        "/api/users",
        "ana",
        json={"username": "zed", "role": "reviewer", "password": "short"},
    )
    assert r.status_code == 422
    r = api(
        "POST",
        "/api/users",
        "ana",
        json={"username": "zed", "role": "reviewer", "password": "a long enough pw"},
    )
    assert r.status_code == 201 and r.json()["role"] == "reviewer"
    assert "zed" in {u["username"] for u in api("GET", "/api/users", "ana").json()}
    again = {"username": "zed", "role": "editor", "password": "a long enough pw"}
    assert api("POST", "/api/users", "ana", json=again).status_code == 409
