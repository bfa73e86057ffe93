"""Property-based: schemathesis generates requests from /openapi.json (the fake engine behind
it), logged in as an admin with the CSRF header, and no response may be a server error."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from tests.content.conftest import FILES, PASSWORD, ROOT, make_app, make_settings
from voice_agent.config import Settings
from voice_agent.transports import server


def _spec() -> dict[str, Any]:
    """The app's /openapi.json (building the app loads nothing; its lifespan is not run)."""
    root = Path(tempfile.gettempdir())
    app = server.create_app(Settings(root=root), web_dir=root / "no-web-client")
    return app.openapi()


# Loaded eagerly: schemathesis' lazy `from_fixture` does not work with pytest 9 yet.
schema = (
    schemathesis.openapi.from_dict(_spec())
    # logging out would end the admin session the rest of the run uses; WebRTC offers
    # belong to the RTC suite (they start real peer connections)
    .exclude(path="/api/auth/logout")
    .exclude(path="/api/rtc/offer")
)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    tmp = tmp_path_factory.mktemp("fuzz")
    faq = tmp / "faq"
    (faq / "entries").mkdir(parents=True)
    for name in FILES:
        shutil.copy(ROOT / "faq_db" / "entries" / name, faq / "entries" / name)
    with pytest.MonkeyPatch.context() as mp:
        yield make_app(make_settings(tmp, faq), mp)
        asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def admin(api_app: FastAPI) -> Iterator[asgi.ASGIClient]:
    with asgi.get_client(api_app) as client:
        r = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield client


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, admin: asgi.ASGIClient) -> None:
    # schemathesis fills the cookie and CSRF security schemes with random values; use the
    # admin's real ones instead (refusals are tested in test_auth.py)
    if case.cookies:
        case.cookies.pop("va_session", None)
    if case.headers:
        case.headers.pop("X-CSRF-Token", None)
    response = case.call(base_url="http://testserver", session=admin)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
