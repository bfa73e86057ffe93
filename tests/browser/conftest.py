"""Fixtures for the web-client tests in real headless Chromium (Playwright, sync API).

`base_url` points at a running server that serves the web client and the API contract
(`/`, `/kiosk`, `/static/...`, `/api/languages`, `/api/ask`, `/api/handoff`, `/api/rtc/offer`).
It is VOICE_AGENT_BASE_URL when set, else a real server started on loopback for the session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("VOICE_AGENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: web-client tests in headless Chromium")


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """VOICE_AGENT_BASE_URL if set, else a real server started for these tests."""
    url = os.environ.get("VOICE_AGENT_BASE_URL")
    if url:
        yield url.rstrip("/")
        return
    from bench.server import running_server

    settings = "offers_per_second = 50.0\noffer_burst = 200\nmax_active_sessions = 8\n"
    with running_server(tmp_path_factory.mktemp("browser-srv"), settings) as (real, _proc):
        yield real


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[object]:
    """One Playwright driver per test module (a second sync instance would clash). Not for the
    whole session: its event loop would still be running when later tests call asyncio.run."""
    from playwright import sync_api

    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs the Debian package chromium")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def chromium(playwright_instance) -> Iterator[object]:  # type: ignore[no-untyped-def]
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Recorder:
    """What a page did: console errors, uncaught exceptions and every request URL."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests that leave the page's own origin (data: and blob: stay in the browser)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                out.append(url)
        return out


@pytest.fixture
def recorder(base_url: str) -> Recorder:
    parts = urlsplit(base_url)
    return Recorder(origin=f"{parts.scheme}://{parts.netloc}")


@pytest.fixture
def ui_page(chromium, recorder: Recorder):
    """A fresh page (own context) that records console errors, page errors and requests."""
    context = chromium.new_context(viewport={"width": 1080, "height": 1920}, locale="pt-PT")
    page = context.new_page()

    def on_console(message) -> None:
        if message.type == "error":
            recorder.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: recorder.page_errors.append(str(e)))
    page.on("request", lambda r: recorder.requests.append(r.url))
    yield page
    context.close()


NO_WEBRTC = """
  delete window.RTCPeerConnection;
  delete window.webkitRTCPeerConnection;
"""


@pytest.fixture
def no_webrtc_page(ui_page):
    """A page where the browser has no WebRTC (the client must fall back to text over HTTP)."""
    ui_page.add_init_script(NO_WEBRTC)
    return ui_page


@pytest.fixture(scope="session")
def server_config(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The config file of the server at `base_url`, for `voice-agent --config FILE users ...`.

    With VOICE_AGENT_BASE_URL it is VOICE_AGENT_CONFIG (skipped without it); else the file
    `base_url`'s server was started with (bench.server.running_server writes it into the
    folder `base_url` made).
    """
    if os.environ.get("VOICE_AGENT_BASE_URL"):
        config = os.environ.get("VOICE_AGENT_CONFIG")
        if not config:
            pytest.skip("set VOICE_AGENT_CONFIG to the config of the VOICE_AGENT_BASE_URL server")
        return config
    found = sorted(tmp_path_factory.getbasetemp().glob("browser-srv*/voice-agent.toml"))
    if not found:
        pytest.fail("the base_url server's voice-agent.toml was not found")
    return str(found[-1])
