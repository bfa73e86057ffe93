"""A browser reconnecting (a network blip, a reload) names its previous session: the old peer
connection is closed and told why (`replaced`), and the new session goes on with the
conversation's memory (language, last answer). Only the same client address may do that; an
unknown id starts a fresh session. Real aiortc offers, no network (as tests/unit/test_manager)."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import fake_engine
from tests.faults.kit import QUESTION, faq
from tests.unit.test_manager import data_offer
from voice_agent.config import ServerSettings
from voice_agent.conversation.engine import Session, TurnInput
from voice_agent.transports.rtc.manager import SessionManager


async def test_a_reconnect_replaces_the_old_connection_and_keeps_the_conversation(
    tmp_path: Path,
) -> None:
    engine = fake_engine(tmp_path, faq(tmp_path))
    await engine.load_faq()
    manager = SessionManager(engine, ServerSettings(max_active_sessions=1), engine.bus)
    bus = engine.bus.subscribe()
    old_pc, sdp = await data_offer()
    old = (await manager.offer(sdp, "offer", "pt", "10.0.0.7"))["session_id"]
    conversation = manager.sessions[old].conversation
    # the citizen asked something: the conversation remembers the answer and the language
    async for _ in engine.turn(TurnInput(text=QUESTION, language="pt"), conversation.session):
        pass
    remembered = conversation.session.context
    assert remembered is not None and remembered.faq_id == "sns24-line"

    new_pc, sdp = await data_offer()
    answer = await manager.offer(sdp, "offer", None, "10.0.0.7", resume=old)
    new = answer["session_id"]
    assert new != old and set(manager.sessions) == {new}
    assert old_pc not in manager.peer_connections and len(manager.peer_connections) == 1
    goes_on = manager.sessions[new].conversation
    assert goes_on.active  # the old one's place (capacity 1) is its own, not queued behind it
    assert goes_on.session.language == "pt" and goes_on.session.context == remembered
    said = []
    while not bus.empty():
        said.append(bus.get_nowait())
    assert ("closed", "replaced") in [
        (m["type"], m.get("reason")) for m in said if m["session"] == old
    ]

    # another address cannot take a conversation over; an unknown id is just a new session
    other_pc, sdp = await data_offer()
    third = (await manager.offer(sdp, "offer", None, "10.0.0.8", resume=new))["session_id"]
    assert new in manager.sessions and manager.sessions[third].conversation.session == Session(
        handoff=manager.sessions[third].conversation.line
    )
    last_pc, sdp = await data_offer()
    fourth = (await manager.offer(sdp, "offer", "en", "10.0.0.7", resume="gone"))["session_id"]
    assert fourth in manager.sessions and new in manager.sessions
    await manager.close_all()
    for pc in (old_pc, new_pc, other_pc, last_pc):
        await pc.close()
    engine.close()
