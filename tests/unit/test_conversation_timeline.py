"""Whole conversations on a timeline: a manual clock, the real streaming VAD (its model
faked), fake engines; only the conversation's public interface, only what it sends."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from tests.unit.conversation_kit import COUGH, build
from voice_agent.config import ServerSettings


def turn_ids(out, kinds: tuple[str, ...]) -> set[str]:  # type: ignore[no-untyped-def]
    return {m["turn_id"] for m in out.sent if m["type"] in kinds}


class TurnEnds:
    """The per-turn metrics on the engine's bus: how each spoken turn ended, and the times
    from the pause to the prepared answer and to the end of the turn."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self._q = engine.bus.subscribe()
        self.seen: list[dict] = []  # type: ignore[type-arg]

    def __call__(self) -> list[dict]:  # type: ignore[type-arg]
        while not self._q.empty():
            m = self._q.get_nowait()
            if m["type"] == "metrics" and m.get("end_of_turn"):
                self.seen.append(m)
        return self.seen


async def test_a_pause_then_more_words_is_one_question_with_one_turn_id(tmp_path: Path) -> None:
    engine, conv, out, citizen, model = await build(tmp_path)
    await citizen.quiet(0.2)
    await citizen.speak(1.2)
    await citizen.quiet(0.25)  # a pause: the turn is prepared, nothing is answered
    await citizen.until(lambda: out.of("transcript"))  # the words so far, shown as partial
    assert [m["final"] for m in out.of("transcript")] == [False]
    assert not out.of("reply")
    await citizen.speak(0.6)  # goes on: the prepared turn is dropped
    await citizen.quiet(0.7)  # stops: end of turn
    end = await citizen.reply_done()
    assert not end["cancelled"]
    finals = [m for m in out.of("transcript") if m["final"]]
    assert len(finals) == 1 and finals[0]["text"] == "What is the SNS 24 health line number?"
    reply = out.of("reply")[0]
    assert reply["faq_id"] == "sns24-line"
    # one id from the final transcript to the last viseme and the end of the reply
    assert turn_ids(out, ("reply", "sentence", "visemes", "reply_end", "language")) == {
        finals[0]["turn_id"]
    }
    # the streaming VAD's utterance is not run through a VAD again: every window was heard once
    assert model.windows == citizen.samples // 512
    await conv.close()
    engine.close()


async def test_a_prepared_turn_is_released_at_the_end_of_the_turn(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path)
    await citizen.speak(1.0)
    await citizen.quiet(0.3)
    partial = await citizen.until(lambda: out.of("transcript"))
    await asyncio.sleep(0.3)  # the prepared turn runs to its end meanwhile (held back)
    assert not out.of("reply")
    await citizen.quiet(0.36)  # the pause was the end of the question
    # the whole reply was ready: it goes out at the end of the turn, nothing is waited for
    assert out.of("reply_end") and out.of("visemes")
    final = [m for m in out.of("transcript") if m["final"]][0]
    assert final["turn_id"] == partial[0]["turn_id"] == out.of("reply")[0]["turn_id"]
    await conv.close()
    engine.close()


async def test_a_cough_during_the_reply_pauses_it_and_it_plays_on(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path)
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.reply_done()
    turn = out.of("reply")[0]["turn_id"]
    await citizen.quiet(0.5)
    before = out.played_s[turn]
    await citizen.sound(0.1, COUGH)  # likely speech, never confident: the reply holds
    assert out.held
    held_at = out.played_s[turn]
    await citizen.quiet(0.4)  # no confirmation within barge_in_confirm_ms: it plays on
    assert not out.held
    assert out.played_s[turn] > held_at > before
    assert not any(m["cancelled"] for m in out.of("reply_end"))
    await conv.close()
    engine.close()


async def test_speaking_over_the_reply_cancels_it_and_the_new_question_is_answered(
    tmp_path: Path,
) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path)
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.reply_done()
    first = out.of("reply")[0]["turn_id"]
    await citizen.quiet(0.5)
    await citizen.speak(1.0)  # a barge-in
    cancelled = [m for m in out.of("reply_end") if m["cancelled"]]
    assert cancelled == [out.of("reply_end")[-1]] and cancelled[0]["reason"] == "barge-in"
    assert cancelled[0]["turn_id"] == first
    assert not out.playing  # nothing of the first reply is left to play
    played = out.played_s[first]
    await citizen.quiet(0.7)
    await citizen.reply_done(2)
    second = out.of("reply")[-1]["turn_id"]
    assert second != first and out.of("reply")[-1]["faq_id"] == "sns24-line"
    await citizen.quiet(1.0)
    assert out.played_s[first] == played and out.played_s[second] > 0
    await conv.close()
    engine.close()


async def test_our_own_echo_neither_pauses_nor_interrupts_the_reply(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path)
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.reply_done()
    out.echo = True
    await citizen.speak(0.6)
    assert not out.held and not any(m["cancelled"] for m in out.of("reply_end"))
    await conv.close()
    engine.close()


async def test_a_cancelled_reply_never_plays_under_the_next_one_without_streaming(
    tmp_path: Path,
) -> None:
    def baseline(engine) -> None:  # type: ignore[no-untyped-def]
        engine.settings = replace(engine.settings, server=ServerSettings(stream_replies=False))

    engine, conv, out, citizen, _ = await build(tmp_path, settings=baseline)
    voices = engine.voices
    voices.block_after = 1  # type: ignore[attr-defined]  # the reply stops after one sentence
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.until(lambda: voices.spoken)  # type: ignore[attr-defined]
    await asyncio.sleep(0.05)
    assert not out.of("reply_end") and not out.of("visemes")  # its audio is held back
    citizen.type({"type": "interrupt"})  # the stop button, before the reply is complete
    voices.block_after = None  # type: ignore[attr-defined]
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.reply_done(1)
    await citizen.quiet(10.0)
    second = out.of("reply")[-1]["turn_id"]
    assert set(out.played_s) == {second}  # the first reply's held audio is gone
    assert out.of("visemes") and {m["turn_id"] for m in out.of("visemes")} == {second}
    await conv.close()
    engine.close()


async def test_each_turn_publishes_its_stage_latencies_on_the_bus(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path, slow=False)
    bus = engine.bus.subscribe()
    await citizen.speak(1.0)
    await citizen.quiet(0.7)
    await citizen.reply_done()
    await citizen.quiet(3.0)  # the reply plays to its end
    await citizen.until(lambda: out.of("state")[-1]["state"] == "listening")
    got = []
    while not bus.empty():
        got.append(bus.get_nowait())
    assert all(m["session"] == "s1" for m in got)
    [metrics] = [m for m in got if m["type"] == "metrics"]
    [decision] = [m for m in got if m["type"] == "decision"]
    assert metrics["turn_id"] == decision["turn_id"] == out.of("reply")[0]["turn_id"]
    assert decision["kind"] == "faq" and decision["text"]
    for stage in ("stt_ms", "lid_ms", "retrieval_ms", "first_audio_ms", "total_ms"):
        assert metrics[stage] is not None and metrics[stage] >= 0, stage
    assert not metrics["cancelled"]
    # client messages reach observers too, as {"session": id, **message}
    assert {m["type"] for m in got} >= {"transcript", "reply", "sentence", "reply_end"}
    await conv.close()
    engine.close()


async def test_feedback_on_an_answer_reaches_observers(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path, slow=False)
    bus = engine.bus.subscribe()
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.reply_done()
    turn = out.of("reply")[0]["turn_id"]
    citizen.type({"type": "feedback", "turn_id": turn, "rating": "down"})
    citizen.type({"type": "feedback", "turn_id": turn, "rating": "meh"})
    citizen.type({"type": "feedback", "turn_id": "not-a-turn", "rating": "up"})
    got = []
    while not bus.empty():
        got.append(bus.get_nowait())
    [fb] = [m for m in got if m["type"] == "feedback"]
    assert fb == {
        "session": "s1",
        "type": "feedback",
        "turn_id": turn,
        "t": fb["t"],
        "rating": "down",
        "faq_id": "sns24-line",
    }
    assert len([m for m in out.of("error") if m["code"] == "bad_message"]) == 2
    await conv.close()
    engine.close()


async def test_reset_forgets_the_person_and_closing_tells_the_client(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path)
    citizen.type({"type": "lang", "lang": "pt"})
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    await citizen.until(lambda: out.of("sentence"))
    citizen.type({"type": "reset"})
    assert out.of("reply_end")[-1]["reason"] == "reset" and not out.playing
    await conv.close("shutdown")
    assert out.sent[-1]["type"] == "closed" and out.sent[-1]["reason"] == "shutdown"
    engine.close()


async def test_garbage_from_the_client_is_answered_and_changes_nothing(tmp_path: Path) -> None:
    engine, conv, out, citizen, _ = await build(tmp_path)
    for raw in ["not json", "[1, 2]", '{"type": "launch"}', '{"type": "text"}', "x" * 9000]:
        conv.receive(raw)
    citizen.type({"type": "lang", "lang": "klingon"})
    citizen.type({"type": "text", "text": "hi", "extra": 1})
    errors = out.of("error")
    assert len(errors) == 7 and {e["code"] for e in errors} == {"bad_message"}
    assert "unsupported language" in errors[5]["message"]
    citizen.type({"type": "text", "text": "What is the SNS 24 health line number?"})
    assert (await citizen.reply_done())["text"].startswith("Call the SNS 24 line")
    await conv.close()
    engine.close()


async def test_a_finished_question_with_its_answer_ready_ends_the_turn_early(
    tmp_path: Path,
) -> None:
    """At the pause the question was transcribed and answered (held back); it reads as
    finished ("...number?"), so the turn ends after early_end_ms of silence, not 600 ms."""
    engine, conv, out, citizen, _ = await build(tmp_path)
    ends = TurnEnds(engine)
    assert engine.settings.vad.early_end_ms < engine.settings.vad.end_of_turn_silence_ms
    await citizen.speak(1.0)
    await citizen.quiet(0.3)
    await citizen.until(lambda: out.of("transcript"))  # the prepared turn heard it...
    await asyncio.sleep(1.0)  # ...and decides meanwhile (the manual clock stands still)
    assert not out.of("reply")
    await citizen.quiet(0.14)  # 0.44 s of silence in all
    assert out.of("reply") and out.of("reply")[0]["faq_id"] == "sns24-line"
    await citizen.quiet(1.0)  # the VAD does not end the same utterance a second time
    assert len(out.of("reply")) == 1 and len([m for m in out.of("transcript") if m["final"]]) == 1
    # the metrics (once the reply has played) say so: ended early, its answer ready first
    await citizen.quiet(7.0)
    (m,) = await citizen.until(ends)
    assert m["end_of_turn"] == "early"
    assert m["pause_to_ready_ms"] >= 0 and m["pause_to_end_ms"] > 0
    await conv.close()
    engine.close()


async def test_an_unfinished_question_waits_the_whole_end_of_turn_silence(
    tmp_path: Path,
) -> None:
    engine, conv, out, citizen, _ = await build(
        tmp_path, stt_text="What is the SNS 24 health line number and"
    )
    ends = TurnEnds(engine)
    await citizen.speak(1.0)
    await citizen.quiet(0.3)
    await citizen.until(lambda: out.of("transcript"))
    await asyncio.sleep(1.0)
    await citizen.quiet(0.14)  # 0.44 s: no early end, the citizen may go on
    assert not out.of("reply")
    await citizen.quiet(0.22)  # 0.66 s: the end of the turn
    await citizen.until(lambda: out.of("reply"))
    await citizen.quiet(7.0)  # (the metrics come once the reply has played)
    (m,) = await citizen.until(ends)  # why it was not early, for the metrics
    assert m["end_of_turn"] == "unfinished" and m["pause_to_end_ms"] > 0
    await conv.close()
    engine.close()


async def test_words_after_an_early_end_are_a_new_question(tmp_path: Path) -> None:
    """The citizen goes on after the early end: the reply stops (a barge-in, held to the
    barge-in thresholds) and what they say next is heard and answered as a new turn."""
    engine, conv, out, citizen, _ = await build(tmp_path)
    await citizen.speak(1.0)
    await citizen.quiet(0.3)
    await citizen.until(lambda: out.of("transcript"))
    await asyncio.sleep(1.0)
    await citizen.quiet(0.14)
    first = out.of("reply")[0]["turn_id"]
    await citizen.speak(1.0)
    cancelled = [m for m in out.of("reply_end") if m["cancelled"]]
    assert cancelled and cancelled[0]["turn_id"] == first and cancelled[0]["reason"] == "barge-in"
    await citizen.quiet(0.7)
    await citizen.reply_done(2)  # (the first reply was all produced before it was cut)
    assert out.of("reply")[-1]["turn_id"] != first
    await conv.close()
    engine.close()
