"""The deployment files are valid: nginx accepts its site (with a throwaway certificate), the
kiosk policy is JSON that grants the microphone to the assistant's site alone, and the units
name the service's home."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx not installed (make test installs it)"
)
@pytest.mark.parametrize("name", ["voice-agent.conf", "voice-agent-workers.conf"])
def test_nginx_accepts_the_site(tmp_path: Path, name: str) -> None:
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=assistant.example.gov.pt",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx" / name).read_text()
    site = site.replace("/etc/ssl/voice-agent/", f"{tmp_path}/").replace(
        "listen 443", "listen 127.0.0.1:18443"
    )
    site = (
        site.replace("listen [::]:443 ssl;", "")
        .replace("listen [::]:80;", "")
        .replace("listen 80;", "listen 127.0.0.1:18080;")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n include {tmp_path}/site.conf;\n}}\n"
    )
    r = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr


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
