"""Admission and idle timeouts on the manager's own clock (real aiortc offers, no network)."""

from __future__ import annotations

from pathlib import Path

from aiortc import RTCConfiguration, RTCPeerConnection

from tests.fakes import fake_engine
from tests.unit.conversation_kit import ManualClock
from voice_agent.config import ServerSettings
from voice_agent.transports.rtc.manager import SessionManager


async def data_offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("events")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_idle_sessions_close_by_the_managers_clock_and_the_queue_moves_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    engine = fake_engine(tmp_path, tmp_path / "faq")
    clock = ManualClock()
    settings = ServerSettings(session_idle_seconds=60, max_active_sessions=1)
    manager = SessionManager(engine, settings, engine.bus, clock=clock)
    bus = engine.bus.subscribe()
    clients = [await data_offer() for _ in range(2)]
    first = (await manager.offer(clients[0][1], "offer", "en", "1.2.3.4"))["session_id"]
    clock.now += 30
    second = (await manager.offer(clients[1][1], "offer", "en", "1.2.3.4"))["session_id"]
    assert [s.id for s in manager.queue] == [second]
    clock.now += 29
    assert await manager.close_idle() == 0  # 59 s for the first: not yet
    clock.now += 2
    assert await manager.close_idle() == 1
    assert set(manager.sessions) == {second} and not manager.queue
    assert manager.sessions[second].conversation.active  # promoted when the first closed
    got = []
    while not bus.empty():
        got.append(bus.get_nowait())
    mine = [(m["type"], m.get("state"), m.get("reason")) for m in got if m["session"] == first]
    assert mine[-2:] == [("state", "idle", None), ("closed", None, "idle")]
    clock.now += 61
    assert await manager.close_idle() == 1 and not manager.sessions
    await manager.close_all()
    for pc, _ in clients:
        await pc.close()
    engine.close()
