"""A citizen that vanishes: run as a process, killed with SIGKILL by the test (no goodbye, no
DTLS close, no ICE consent answers: what a phone losing its network looks like to the server).

`python -m tests.faults.vanishing_client URL reply`: connects, asks a typed question, prints
"replying" once reply audio arrives, then waits to be killed. `... URL ice`: posts an offer,
prints "offered" and never completes ICE (it never reads the answer)."""

from __future__ import annotations

import asyncio
import sys

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection

from bench.rtc_client import Citizen
from voice_agent.transports.rtc.manager import restrict_ice_addresses


async def mid_reply(url: str) -> None:
    c = Citizen(url, lang="pt")
    await c.connect()
    await c.wait_for(lambda m: m.get("state") == "listening")
    c.send({"type": "text", "text": "Como tiro o NIF?"})
    await c.wait_for(lambda m: m.get("type") == "reply")
    await c.wait_audio_after(0.0, within=60)
    print("replying", c.session_id, flush=True)
    await asyncio.sleep(3600)


async def mid_ice(url: str) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("events")
    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{url}/api/rtc/offer",
            json={"sdp": pc.localDescription.sdp, "type": "offer", "lang": "en"},
        )
    print("offered", r.json()["session_id"], flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    restrict_ice_addresses(("127.0.0.1",))
    url, mode = sys.argv[1], sys.argv[2]
    asyncio.run(mid_reply(url) if mode == "reply" else mid_ice(url))
