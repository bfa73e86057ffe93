"""The deployment files are valid: nginx accepts its site (with a throwaway certificate), the
kiosk policy is JSON that grants the microphone to the assistant's site alone, and the units
name the service's home."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.nginx_kit import local_site, running_site, write_conf

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx not installed (make test installs it)"
)


@needs_nginx
@pytest.mark.parametrize("name", ["voice-agent.conf", "voice-agent-workers.conf"])
def test_nginx_accepts_the_site(tmp_path: Path, name: str) -> None:
    site, _port = local_site(name, tmp_path)
    conf = write_conf(site, tmp_path, daemon=True)
    r = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@needs_nginx
def test_nginx_refuses_a_flood_from_one_address_on_every_route(tmp_path: Path) -> None:
    """The shipped site limits every route per address (the application limits only the
    routes that start work): a page's worth of requests passes, a flood gets 429."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    replace = {"127.0.0.1:8080": f"127.0.0.1:{upstream.server_address[1]}"}
    try:
        with (
            running_site("voice-agent.conf", tmp_path / "nginx", replace) as url,
            httpx.Client(base_url=url, verify=False) as client,
        ):
            codes = [client.get(f"/static/{i}.js").status_code for i in range(200)]
            assert codes[:80] == [200] * 80, codes  # a page and its files
            assert codes.count(429) >= 20 and set(codes) == {200, 429}, codes
            assert client.get("/healthz").status_code == 429  # every route
            time.sleep(1.0)  # 20 a second come back
            assert client.get("/healthz").status_code == 200
    finally:
        upstream.shutdown()


def test_kiosk_policy_grants_the_microphone_to_the_site_only() -> None:
    policy = json.loads((DEPLOY / "kiosk" / "chromium-policy.json").read_text())
    assert policy["AudioCaptureAllowed"] is True
    assert policy["AudioCaptureAllowedUrls"] == ["https://assistant.example.gov.pt"]
    assert policy["URLBlocklist"] == ["*"]
    assert policy["VideoCaptureAllowed"] is False
    assert policy["MetricsReportingEnabled"] is False


def test_units_point_at_the_home_folder() -> None:
    unit = (DEPLOY / "systemd" / "voice-agent.service").read_text()
    assert "Environment=VOICE_AGENT_HOME=/opt/voice-agent" in unit
    assert "ExecStart=/opt/voice-agent/.venv/bin/voice-agent serve" in unit
    kiosk = (DEPLOY / "kiosk" / "voice-agent-kiosk.service").read_text()
    assert "--kiosk" in kiosk and "/kiosk" in kiosk
