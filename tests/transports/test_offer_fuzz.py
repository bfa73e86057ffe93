"""Property-based fuzzing of the WebRTC offer handler: a real offer made by aiortc, mutated
(lines dropped, doubled, cut, replaced with junk, numbers blown up), sent to /api/rtc/offer on
the fake-engine app. Every answer is a 200 or a clear 4xx, never a server error, and the
server still serves afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiortc import RTCPeerConnection
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.content.conftest import make_app, make_settings
from voice_agent.config import ServerSettings


def real_offer() -> str:
    """A browser-like offer from aiortc: a microphone m-line and a data channel."""

    async def make() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="sendrecv")
        pc.createDataChannel("events")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    return asyncio.run(make())


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("offers")
    faq = tmp / "faq"
    (faq / "entries").mkdir(parents=True)
    settings = make_settings(tmp, faq)
    server = ServerSettings(
        offers_per_second=1000.0, offer_burst=1000, ice_host_addresses=("127.0.0.1",)
    )
    settings = replace(settings, server=server)
    with pytest.MonkeyPatch.context() as mp, TestClient(make_app(settings, mp)) as c:
        yield c


BASE = real_offer().splitlines()
JUNK = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@st.composite
def mutated_offer(draw: st.DrawFn) -> str:
    lines = list(BASE)
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "double", "junk", "cut", "number", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "junk":
            lines[i] = draw(JUNK)
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "number":
            big = draw(st.sampled_from(["99999999999999999999", "-1", "0", "65536", "NaN"]))
            lines[i] = "".join(big if ch.isdigit() else ch for ch in lines[i])
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\r\n".join(lines) + "\r\n"


@given(sdp=mutated_offer())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_mutated_offers_never_cause_a_server_error(client: TestClient, sdp: str) -> None:
    r = client.post("/api/rtc/offer", json={"sdp": sdp, "type": "offer"})
    assert r.status_code in (200, 400, 422), (r.status_code, r.text[:300], sdp[:500])
    if r.status_code != 200:
        assert r.json()["detail"]


def test_the_server_still_serves_after_the_fuzzing(client: TestClient) -> None:
    r = client.post("/api/rtc/offer", json={"sdp": "\r\n".join(BASE) + "\r\n", "type": "offer"})
    assert r.status_code == 200 and r.json()["type"] == "answer"
    health = client.get("/healthz").json()
    assert health["status"] == "ok"


def test_offers_that_are_not_text(client: TestClient) -> None:
    for body in ({"sdp": 12, "type": "offer"}, {"sdp": ["v=0"], "type": "offer"}, [], "x"):
        r = client.post("/api/rtc/offer", json=body)
        assert r.status_code == 422
