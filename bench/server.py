"""Start a real voice-agent server on loopback for tests and benchmarks, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH_VAR = ROOT / "var" / "test"  # the servers' data and reply-audio cache, kept across runs
START_TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    folder: Path,
    extra_server_settings: str = "",
    var_dir: Path = BENCH_VAR,
    checkout: Path = ROOT,
    top_settings: str = "",
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`voice-agent serve` on 127.0.0.1 with ICE on loopback only; yields (url, process).
    `checkout`: whose code runs (another worktree: an earlier release, side by side);
    `top_settings`: top-level TOML lines (database_url, faq_dir), before `[server]`;
    `env`: extra environment variables for the server (e.g. MALLOC_ARENA_MAX)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "voice-agent.toml"
    models = f'models_dir = "{ROOT / "models"}"\n' if checkout != ROOT else ""
    cfg.write_text(
        models
        + f'var_dir = "{var_dir}"\n'
        + top_settings
        + '[server]\nice_host_addresses = ["127.0.0.1"]\n'
        + extra_server_settings,
        encoding="utf-8",
    )
    log = (folder / "server.log").open("wb")
    env = dict(os.environ, HF_HUB_OFFLINE="1", ORT_DISABLE_TELEMETRY="1", **(env or {}))
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
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # The first start on a fresh checkout embeds every FAQ text (~9,000: about 2.5 min on
        # 2 quiet cores, far longer on a busy machine); later starts reuse var/test's vectors.
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(
                    f"server exited ({proc.returncode}): see {folder / 'server.log'}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in {START_TIMEOUT_S} s")
            time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
