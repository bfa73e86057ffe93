"""Who may call what, generated from the app's own route table: one test per console/admin
endpoint (HTTP and websocket) and role, plus anonymous. A route added without a rule in
voice_agent/console/access.py fails `test_every_route_has_a_rule` (and is refused to everyone
at run time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.console.conftest import FILES, ROOT, Api, console_settings, make_console_app
from voice_agent.config import Settings
from voice_agent.console.access import EVERY_ROLE, PUBLIC, RULES, Access, route_table
from voice_agent.content.api_deps import ContentRoute
from voice_agent.transports.server import create_app

# Routes other parts of the product own, and their own tests guard: the citizen's public API
# and pages, and the content team's API (tests/content/test_auth.py checks every one of those).
CITIZEN = {
    ("GET", "/healthz"),
    ("GET", "/api/languages"),
    ("POST", "/api/ask"),
    ("POST", "/api/rtc/offer"),
    ("POST", "/api/handoff"),
    ("WS", "/api/text"),  # the conversation core's text transport (the citizen's)
    ("GET", "/"),
    ("GET", "/kiosk"),
    ("GET", "/editor"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
CONTENT_PREFIXES = ("/api/auth/", "/api/users", "/api/faq/", "/api/faq")
GUARDED_PREFIXES = ("/api/console", "/api/feedback", "/metrics")

ROUTES = route_table(create_app(Settings(), web_dir=ROOT / "web_client").routes)
GUARDED = [r for r in ROUTES if r[1].startswith(GUARDED_PREFIXES)]
CASES = [(m, p, role) for m, p in GUARDED for role in (None, *EVERY_ROLE)]
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/console/handoffs/{handoff_id}/message"): {"text": "Olá"},
    ("POST", "/api/console/handoffs/{handoff_id}/close"): {"outcome": "resolved"},
    ("POST", "/api/console/ratings"): {"session_id": "nosuch", "turn_id": "t", "rating": "good"},
}
PARAMS = {"{session_id}": "nosuch", "{handoff_id}": "abc123", "{feedback_id}": "1"}


def concrete(path: str) -> str:
    for k, v in PARAMS.items():
        path = path.replace(k, v)
    return path


def test_every_route_has_a_rule() -> None:
    unruled = [
        r
        for r in ROUTES
        if r not in RULES
        and r not in PUBLIC
        and r not in CITIZEN
        and not r[1].startswith(CONTENT_PREFIXES)
    ]
    assert unruled == [], (
        "routes without an access rule: add them to RULES (or PUBLIC) in "
        "voice_agent/console/access.py, or to CITIZEN here if they are the citizen's"
    )
    assert not (set(RULES) - set(ROUTES)), "rules for routes that do not exist"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for the whole matrix: a refused request changes nothing."""
    import shutil

    tmp = tmp_path_factory.mktemp("console-access")
    faq = tmp / "faq"
    (faq / "entries").mkdir(parents=True)
    for name in FILES:
        shutil.copy(ROOT / "faq_db" / "entries" / name, faq / "entries" / name)
    with (
        pytest.MonkeyPatch.context() as mp,
        TestClient(make_console_app(console_settings(tmp, faq), mp)) as client,
    ):
        yield Api(client)


USER_OF = {"staff": "sam", "supervisor": "sue", "editor": "ed", "reviewer": "rita", "admin": "ana"}


@pytest.mark.parametrize(
    ("method", "path", "role"), CASES, ids=[f"{m} {p} {r}" for m, p, r in CASES]
)
def test_route_and_role(shared: Api, method: str, path: str, role: str | None) -> None:
    rule = RULES.get((method, path))
    allowed = rule is not None and role in rule.roles
    user = USER_OF[role] if role else None
    if method == "WS":
        code = ws_outcome(shared, path, user)
        assert code == ("open" if allowed else 4401 if role is None else 4403), code
        return
    r = shared(method, concrete(path), user, json=BODIES.get((method, path)))
    if role is None:
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "not_logged_in"
    elif not allowed:
        assert r.status_code == 403, r.text
        assert "role" in r.json()["detail"]
    else:
        assert r.status_code not in (401, 405), r.text
        assert not (r.status_code == 403 and "role" in r.json().get("detail", "")), r.text


def ws_outcome(api: Api, path: str, user: str | None) -> str | int:
    api.client.cookies.clear()
    csrf = ""
    if user is not None:
        token, csrf = api.login(user)
        api.client.cookies.set("va_session", token)
    try:
        with api.client.websocket_connect(path) as ws:
            ws.send_json({"type": "hello", "seq": 1, "csrf": csrf})
            first = ws.receive_json()
            return "open" if first["type"] == "hello" else str(first)
    except WebSocketDisconnect as exc:
        return exc.code


WRITES = [(m, p) for m, p in GUARDED if m not in ("GET", "WS")]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_writes_need_the_csrf_token(shared: Api, method: str, path: str) -> None:
    rule = RULES[(method, path)]
    user = USER_OF[sorted(rule.roles)[0]]
    r = shared(method, concrete(path), user, csrf=False, json=BODIES.get((method, path)))
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"], r.text
    forged = {"X-CSRF-Token": "forged"}
    r = shared(
        method, concrete(path), user, csrf=False, headers=forged, json=BODIES.get((method, path))
    )
    assert r.status_code == 403


def test_a_route_without_a_rule_is_refused_to_everyone(tmp_path: Path, faq_dir: Path) -> None:
    settings = console_settings(tmp_path, faq_dir)
    with pytest.MonkeyPatch.context() as mp:
        app = make_console_app(settings, mp)
        access = Access(lambda c: c.app.state.content.accounts, "")

        async def gate(request: Request) -> None:
            await access.check(request, request.method)

        router = APIRouter(route_class=ContentRoute, dependencies=[Depends(gate)])

        @router.get("/api/console/forgotten")
        async def forgotten() -> dict[str, str]:
            return {"leak": "yes"}

        app.include_router(router)

        with TestClient(app) as client:
            api = Api(client)
            r = api("GET", "/api/console/forgotten", "sue")
            assert r.status_code == 403 and "no access rule" in r.json()["detail"]


def test_metrics_accept_a_configured_scraper_token(tmp_path: Path, faq_dir: Path) -> None:
    settings = console_settings(tmp_path, faq_dir, metrics_token="s3cret-token-for-prometheus")
    with pytest.MonkeyPatch.context() as mp, TestClient(make_console_app(settings, mp)) as c:
        assert c.get("/metrics").status_code == 401
        bad = c.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert bad.status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer s3cret-token-for-prometheus"})
        assert ok.status_code == 200 and "voice_agent_turns_total" in ok.text
