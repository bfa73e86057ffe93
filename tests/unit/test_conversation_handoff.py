"""Talking to a person, on the citizen's side: what they are told is what the desk reported,
never a promise nobody keeps; while staff hold the conversation the assistant stays silent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_engine
from tests.unit.conversation_kit import ENTRY, QUESTION, Citizen, FakeDesk, Output, build
from voice_agent.conversation.ask import ask
from voice_agent.conversation.conversation import Conversation
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.conversation.handoff import HandoffState

PROMISES = ("notified", "will be with you", "here to help you now")


async def test_nobody_on_duty_gives_the_helpline_and_hours_not_a_promise(tmp_path: Path) -> None:
    desk = FakeDesk(on_duty=False)
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    [status] = out.of("handoff")
    assert status["state"] == "unavailable" and status["on_duty"] is False
    assert status["helpline"] == "808 257 257" and status["helpline_mobile"]
    assert status["hours"] == "Monday–Friday, 09:00–18:00"
    said = out.spoken_text()
    assert "808 257 257" in said and "Monday–Friday, 09:00–18:00" in said
    assert not any(p in said for p in PROMISES)
    assert out.of("reply")[0]["handoff"] is True
    assert desk.requests == [("s1", "en", "button", None)]
    await conv.close()
    engine.close()


async def test_without_a_desk_the_conversation_behaves_as_nobody_on_duty(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path, desk=None)
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    assert out.of("handoff")[0]["state"] == "unavailable"
    assert "808 257 257" in out.spoken_text()
    await conv.close()
    engine.close()


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "I want to talk to a human"), ("pt", "Quero falar com uma pessoa")],
)
async def test_voice_agent_ask_never_promises_a_person(
    tmp_path: Path, lang: str, text: str
) -> None:
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    (tmp_path / "faq" / "entries" / "sns24-line.yaml").write_text(ENTRY, encoding="utf-8")
    engine = fake_engine(tmp_path, tmp_path / "faq")
    await engine.load_faq()
    out = await ask(engine, TurnInput(text=text, language=lang), want_audio=False)
    assert out.result["handoff"] is True
    assert "808 257 257" in out.result["answer"]
    assert "18:00" in out.result["answer"]  # the opening hours, not "I'll call a person"
    engine.close()


async def test_on_duty_the_citizen_waits_in_the_queue_and_may_cancel(tmp_path: Path) -> None:
    desk = FakeDesk(on_duty=True, ahead=1)
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    waiting = out.of("handoff")[-1]
    assert (waiting["state"], waiting["on_duty"], waiting["position"]) == ("waiting", True, 2)
    assert waiting["helpline"] is None
    assert "number 2 in the queue" in out.spoken_text()
    citizen.type({"type": "handoff"})  # asking again does not queue twice
    await citizen.reply_done(2)
    assert len(desk.requests) == 1
    citizen.type({"type": "handoff_cancel"})
    await citizen.reply_done(3)
    assert out.of("handoff")[-1]["state"] == "cancelled"
    assert "cancelled the request" in out.of("sentence")[-2]["text"]
    citizen.type({"type": "handoff_cancel"})  # nothing is waiting any more
    assert out.of("error")[-1]["code"] == "bad_message"
    await conv.close()
    engine.close()


async def test_while_staff_hold_the_conversation_the_assistant_does_not_answer(
    tmp_path: Path,
) -> None:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    bus = engine.bus.subscribe()
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    desk.set_state("s1", HandoffState.ACCEPTED, staff_name="Ana")
    await citizen.reply_done(2)
    assert out.of("handoff")[-1]["staff_name"] == "Ana"
    assert out.of("sentence")[-1]["text"].startswith("Ana, a member of staff")
    conv.staff_viewing(True)
    assert out.of("staff_viewing")[-1]["viewing"] is True
    replies = len(out.of("reply"))
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    seen: list[dict[str, Any]] = []

    def decided() -> list[dict[str, Any]]:
        while not bus.empty():
            seen.append(bus.get_nowait())
        return [m for m in seen if m["type"] == "decision"]

    question = (await citizen.until(decided))[-1]
    await citizen.until(  # that turn is over
        lambda: decided() and any(m["turn_id"] == question["turn_id"] for m in seen[-1:])
    )
    assert len(out.of("reply")) == replies  # not answered by the assistant ...
    assert question["kind"] == "staff" and question["text"].startswith(
        "What is the SNS"
    )  # ... shown to staff
    desk.say("s1", "Please call 808 24 24 24. I can also book you an appointment.")
    await citizen.quiet(6.0)  # said once the news that Ana is here has been said
    await citizen.reply_done(3)
    staff = out.of("reply")[-1]
    assert (staff["speaker"], staff["staff_name"]) == ("staff", "Ana")
    assert out.of("sentence")[-1]["text"] == "I can also book you an appointment."
    await citizen.quiet(10.0)
    assert out.played_s[staff["turn_id"]] > 0  # spoken by the avatar
    desk.set_state("s1", HandoffState.RETURNED)
    await citizen.reply_done(4)
    assert "automatic assistant again" in out.spoken_text()
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.reply_done(5)
    assert out.of("reply")[-1]["faq_id"] == "sns24-line"  # the assistant answers again
    await conv.close()
    assert desk.detached == ["s1"]
    engine.close()


async def test_two_misses_in_a_row_ask_for_a_person(tmp_path: Path) -> None:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    citizen.type({"type": "text", "text": "Where can I renew my fishing licence quickly?"})
    await citizen.reply_done()
    assert not desk.requests and out.of("reply")[-1]["faq_id"] is None
    citizen.type({"type": "text", "text": "Where do I register my boat engine?"})
    await citizen.reply_done(2)
    assert [r[2] for r in desk.requests] == ["misses"]
    assert desk.requests[0][3] == "Where do I register my boat engine?"
    last = out.of("reply")[-1]["turn_id"]
    said = " ".join(m["text"] for m in out.of("sentence") if m["turn_id"] == last)
    assert "could not find an answer" in said and "number 1 in the queue" in said
    await conv.close()
    engine.close()


async def test_a_covered_question_with_a_request_for_a_person_gets_the_answer_and_staff(
    tmp_path: Path,
) -> None:
    """ "... what is the SNS 24 number? I'd rather talk to someone": the decision keeps the entry
    and asks for a person (`asks_person`, judged on the real model in tests/models); the
    citizen hears the answer, then what the desk said, in one reply."""
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    decide = engine._decide

    async def asks_too(question: str, lang: str, context: Any) -> Any:
        decision, event = await decide(question, lang, context)
        assert decision.faq_id == "sns24-line"
        return replace(decision, handoff=True, asks_person=True), event

    engine._decide = asks_too  # type: ignore[method-assign]
    citizen.type({"type": "text", "text": QUESTION})
    await citizen.reply_done()
    assert [r[2] for r in desk.requests] == ["asked"]
    [reply] = out.of("reply")
    assert reply["faq_id"] == "sns24-line" and reply["handoff"] is True
    said = " ".join(m["text"] for m in out.of("sentence") if m["turn_id"] == reply["turn_id"])
    assert said.index("808 24 24 24") < said.index("number 1 in the queue"), said
    assert out.of("handoff")[-1]["state"] == "waiting"
    # the answer counts as the conversation's last one: a follow-up is read in its context
    assert conv.session.context is not None and conv.session.context.faq_id == "sns24-line"
    await conv.close()
    engine.close()


async def test_saying_it_asks_for_a_person(tmp_path: Path) -> None:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(
        tmp_path, desk=desk, stt_text="I want to talk to a human"
    )
    await citizen.speak(1.0)
    await citizen.quiet(0.7)
    await citizen.reply_done()
    assert [r[2] for r in desk.requests] == ["asked"]
    assert out.of("handoff")[-1]["state"] == "waiting"
    await conv.close()
    engine.close()


async def test_a_turn_prepared_during_a_pause_never_asks_for_a_person(tmp_path: Path) -> None:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(
        tmp_path, desk=desk, stt_text="I want to talk to a human"
    )
    await citizen.speak(1.0)
    await citizen.quiet(0.3)  # prepared: it decides "a person", but may not ask yet
    await citizen.until(lambda: out.of("transcript"))
    await citizen.speak(0.5)  # the citizen goes on: it is dropped
    assert desk.requests == []
    await conv.close()
    engine.close()


async def test_staff_leaving_or_the_wait_expiring_is_said(tmp_path: Path) -> None:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    desk.set_state("s1", HandoffState.ACCEPTED)
    await citizen.reply_done(2)
    assert out.of("sentence")[-1]["text"] == "A member of staff is here to help you now."
    desk.set_state("s1", HandoffState.WAITING)  # the console closed: back in the queue
    await citizen.reply_done(3)
    assert "in the queue" in out.of("sentence")[-2]["text"]
    desk.set_state("s1", HandoffState.EXPIRED)
    await citizen.reply_done(4)
    assert out.of("handoff")[-1]["helpline"] == "808 257 257"
    assert "808 257 257" in out.of("sentence")[-1]["text"]
    await conv.close()
    engine.close()


async def test_a_privacy_reset_leaves_the_queue_and_starts_afresh(tmp_path: Path) -> None:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    citizen.type({"type": "reset"})
    assert desk.detached == ["s1"] and "s1" in desk.listeners  # the person left; still listened
    citizen.type({"type": "handoff"})  # the next person asks again: a new request
    await citizen.reply_done(2)
    assert len(desk.requests) == 2
    await conv.close()
    engine.close()


async def _held_by_ana(tmp_path: Path) -> tuple[Engine, Conversation, Output, Citizen, FakeDesk]:
    desk = FakeDesk()
    engine, conv, out, citizen, _ = await build(tmp_path, desk=desk)
    citizen.type({"type": "handoff"})
    await citizen.reply_done()
    desk.set_state("s1", HandoffState.ACCEPTED, staff_name="Ana")
    await citizen.reply_done(2)
    await citizen.quiet(6.0)  # the news that Ana is here is said
    return engine, conv, out, citizen, desk


async def test_the_citizen_talking_over_staff_words_neither_stops_them_nor_is_lost(
    tmp_path: Path,
) -> None:
    """A kiosk's microphone hears the citizen (or the room) while the avatar speaks a staff
    member's message: the message plays to its end, and what was said reaches the person."""
    engine, conv, out, citizen, desk = await _held_by_ana(tmp_path)
    bus = engine.bus.subscribe()
    words = "Please wait a moment, I will print the form for you."
    desk.say("s1", words)
    staff = await citizen.until(lambda: [m for m in out.of("reply") if m["speaker"] == "staff"])
    turn_id = staff[0]["turn_id"]
    await citizen.speak(1.0)
    await citizen.quiet(8.0)
    ends = [m for m in out.of("reply_end") if m["turn_id"] == turn_id]
    assert ends and not ends[0]["cancelled"], ends
    assert out.played_s[turn_id] == pytest.approx(0.1 * len(words), abs=0.05)
    seen = []
    while not bus.empty():
        seen.append(bus.get_nowait())
    asked = [m for m in seen if m["type"] == "decision" and m["turn_id"] != turn_id]
    assert asked and asked[-1]["kind"] == "staff", [m["type"] for m in seen]
    await conv.close()
    engine.close()


async def test_staff_words_are_not_cut_by_their_next_message_or_by_handing_back(
    tmp_path: Path,
) -> None:
    engine, conv, out, citizen, desk = await _held_by_ana(tmp_path)
    before = len(out.of("reply_end")), len(out.of("sentence"))
    desk.say("s1", "Here is the form.")
    desk.say("s1", "Anything else?")  # sent while the first still plays: said after it
    desk.set_state("s1", HandoffState.RETURNED)  # and the person hands back at once
    await citizen.quiet(15.0)
    ends = out.of("reply_end")[before[0] :]
    assert [m["cancelled"] for m in ends] == [False, False, False], ends
    said = [m["text"] for m in out.of("sentence")[before[1] :]]
    assert said[:2] == ["Here is the form.", "Anything else?"], said
    assert "automatic assistant again" in " ".join(said[2:]), said
    await conv.close()
    engine.close()
