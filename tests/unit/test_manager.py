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


async def test_a_queued_citizen_is_never_closed_as_idle(tmp_path: Path) -> None:
    """Waiting in the queue for many minutes is not being idle (found by bench.soak: queued
    sessions were closed after session_idle_seconds)."""
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    engine = fake_engine(tmp_path, tmp_path / "faq")
    clock = ManualClock()
    settings = ServerSettings(session_idle_seconds=60, max_active_sessions=1)
    manager = SessionManager(engine, settings, engine.bus, clock=clock)
    first, second = [await data_offer() for _ in range(2)]
    await manager.offer(first[1], "offer", "en", "1.2.3.4")
    queued = (await manager.offer(second[1], "offer", "en", "1.2.3.4"))["session_id"]
    for _ in range(10):  # the first talks on (active), the second waits ten minutes
        clock.now += 59
        manager.sessions[[*manager.sessions][0]].conversation.last_activity = clock.now
        assert await manager.close_idle() == 0
    assert [s.id for s in manager.queue] == [queued]
    await manager.close_all()
    for pc, _ in (first, second):
        await pc.close()
    engine.close()


async def test_idle_sessions_close_by_the_managers_clock_and_the_queue_moves_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    engine = fake_engine(tmp_path, tmp_path / "faq")
    clock = ManualClock()
    settings = ServerSettings(session_idle_seconds=60, max_active_sessions=1)
    gone: list[int] = []  # the server sweeps the garbage a closed session leaves
    manager = SessionManager(
        engine, settings, engine.bus, clock=clock, on_closed=lambda: gone.append(len(gone))
    )
    bus = engine.bus.subscribe()
    clients = [await data_offer() for _ in range(2)]
    first = (await manager.offer(clients[0][1], "offer", "en", "1.2.3.4"))["session_id"]
    clock.now += 30
    second = (await manager.offer(clients[1][1], "offer", "en", "1.2.3.4"))["session_id"]
    assert [s.id for s in manager.queue] == [second]
    clock.now += 29
    assert await manager.close_idle() == 0  # 59 s for the first: not yet
    clock.now += 2
    assert await manager.close_idle() == 1 and gone == [0]
    # the second waited 31 s in the queue; that was not idle time
    assert set(manager.sessions) == {second} and not manager.queue
    assert manager.sessions[second].conversation.active  # promoted when the first closed
    got = []
    while not bus.empty():
        got.append(bus.get_nowait())
    mine = [(m["type"], m.get("state"), m.get("reason")) for m in got if m["session"] == first]
    assert mine[-2:] == [("state", "idle", None), ("closed", None, "idle")]
    clock.now += 59
    assert await manager.close_idle() == 0  # 59 s since it was admitted
    clock.now += 2
    assert await manager.close_idle() == 1 and not manager.sessions and gone == [0, 1]
    await manager.close_all()
    for pc, _ in clients:
        await pc.close()
    engine.close()
