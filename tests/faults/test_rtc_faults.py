"""Citizens vanishing over real WebRTC (aiortc clients against a real server with the real
models, loopback only): mid-reply and mid-ICE. The client process is killed with SIGKILL; the
server goes on serving another citizen meanwhile, and the dead session's peer connection,
tasks and conversation are gone within the idle limit (5 s here) plus the reply's length."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.rtc_client import Citizen
from bench.server import ROOT, running_server
from voice_agent.config import load_settings
from voice_agent.transports.rtc.manager import restrict_ice_addresses

IDLE_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    restrict_ice_addresses(("127.0.0.1",))
    # a home folder with this checkout's FAQ and the installed models (wherever the checkout's
    # voice-agent.toml says they are); var/test keeps the FAQ vectors between runs
    home = tmp_path_factory.mktemp("home")
    (home / "models").symlink_to(load_settings(root=ROOT).models_path)
    (home / "faq_db").symlink_to(ROOT / "faq_db")
    extra = (
        f"session_idle_seconds = {IDLE_S}\noffers_per_second = 50.0\noffer_burst = 200\n"
        "[tts]\nreply_cache = false\n"  # no background synthesis competing for the CPU
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICE_AGENT_HOME", str(home))
        with running_server(home / "srv", extra) as (url, _proc):
            yield url


def health(url: str) -> dict:  # type: ignore[type-arg]
    return httpx.get(f"{url}/healthz", timeout=10).json()  # type: ignore[no-any-return]


def vanishing(url: str, mode: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.vanishing_client", url, mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()  # "replying <id>" / "offered <id>"
    assert line and line[0] in ("replying", "offered"), line
    return proc, line[1]


async def answered(c: Citizen) -> float:
    t0 = time.monotonic()
    c.send({"type": "text", "text": "Qual é o número da linha SNS 24?"})
    reply = await c.wait_for(lambda m: m.get("type") == "reply_end", within=90)
    assert "808 24 24 24" in reply["text"]
    return time.monotonic() - t0


async def only_others_left(url: str, others: int, within: float = 60) -> float:
    """Seconds until the server holds only the `others` live sessions (the dead one is gone)."""
    t0 = time.monotonic()
    now: dict = {}  # type: ignore[type-arg]
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() - t0 < within:
            now = (await http.get(f"{url}/healthz")).json()
            if now["sessions"] == others and now["peer_connections"] == others:
                return time.monotonic() - t0
            await asyncio.sleep(0.25)
    raise AssertionError(f"the vanished session is still there after {within} s: {now}")


@pytest.mark.parametrize("mode", ["reply", "ice"])
async def test_a_citizen_vanishing_is_cleaned_up_and_others_are_served(
    server: str, mode: str
) -> None:
    before = health(server)
    proc, _session = vanishing(server, mode)
    other = Citizen(server, lang="pt")  # connected before the kill, until it is answered
    try:
        await other.connect()
        await other.wait_for(lambda m: m.get("state") == "listening")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        took, gone = await asyncio.gather(answered(other), only_others_left(server, 1))
    finally:
        await other.close()
    print(f"{mode}: gone {gone:.1f} s after the kill; the other citizen answered in {took:.1f} s")
    assert gone < IDLE_S + 45  # the idle limit, plus the rest of the reply being played out
    after = health(server)
    deadline = time.monotonic() + 30
    while (after["sessions"] or after["peer_connections"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        after = health(server)
    assert after["sessions"] == 0 and after["peer_connections"] == 0, after
    assert after["threads"] <= before["threads"] + 2, (before, after)


async def test_a_browser_reconnecting_goes_on_with_its_conversation(server: str) -> None:
    first = Citizen(server, lang="pt")
    await first.connect()
    await first.wait_for(lambda m: m.get("state") == "listening")
    first.send({"type": "text", "text": "Qual é o número da linha SNS 24?"})
    await first.wait_for(lambda m: m.get("type") == "reply_end", within=60)
    # the network blips: the browser connects again, naming its session (no language given)
    again = Citizen(server, resume=first.session_id)
    try:
        await again.connect()
        started = await again.wait_for(lambda m: m.get("type") == "session")
        assert started["language"] == "pt"  # the conversation's language carried over
        told = await first.wait_for(lambda m: m.get("type") == "closed", within=10)
        assert told["reason"] == "replaced"
        now = health(server)
        assert now["sessions"] == 1 and now["peer_connections"] == 1
    finally:
        await again.close()
        await first.close()
