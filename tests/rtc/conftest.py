"""A real server (subprocess, loopback only) and scripted WebRTC citizens (aiortc)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from voice_agent.audio import decode_audio
from voice_agent.rtc.manager import restrict_ice_addresses

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    restrict_ice_addresses(("127.0.0.1",))  # this process's aiortc clients: loopback only
    port = free_port()
    cfg = tmp_path_factory.mktemp("srv") / "voice-agent.toml"
    cfg.write_text(
        f'var_dir = "{ROOT / "var" / "test"}"\n'
        "[server]\n"
        'ice_host_addresses = ["127.0.0.1"]\n'
        "offers_per_second = 50.0\n"
        "offer_burst = 200\n"
        "session_idle_seconds = 30.0\n",
        encoding="utf-8",
    )
    log = (tmp_path_factory.mktemp("log") / "server.log").open("w")
    env = dict(os.environ, HF_HUB_OFFLINE="1", ORT_DISABLE_TELEMETRY="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voice_agent.cli",
            "--config",
            str(cfg),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: see {log.name}")
        time.sleep(0.25)
    else:
        proc.kill()
        raise RuntimeError("server did not start in 180 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def spoken(text: str, lang: str, folder: Path) -> np.ndarray:
    """A question as 16 kHz audio: Piper for English, espeak-ng otherwise."""
    out = folder / f"{lang}-{abs(hash(text))}.wav"
    if not out.exists():
        subprocess.run(
            [sys.executable, "-m", "voice_agent.cli", "say", "--lang", lang, text, "-o", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return decode_audio(out, max_seconds=60).samples
