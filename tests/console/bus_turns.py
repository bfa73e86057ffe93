"""What a conversation publishes on the bus for one spoken turn, built from the real events
and the real serialiser (`wire.bus_message`), so console tests feed exactly the wire's names."""

from __future__ import annotations

from typing import Any

from voice_agent import events as ev
from voice_agent.conversation.wire import bus_message


def opened(sid: str, lang: str) -> dict[str, Any]:
    return bus_message(sid, ev.SessionStarted(turn_id=None, t=0.0, session_id=sid, language=lang))


def spoken_turn(
    sid: str,
    tid: str,
    question: str,
    lang: str,
    kind: str,
    faq: str | None,
    answer: str,
    *,
    confidence: float,
    probability: float,
    best_score: float,
    stages: tuple[float, float, float, float, float],  # stt, lid, retrieval, first audio, total
    handoff: bool = False,
    voice: str | None = None,
    thinking: bool = False,
    sentence: bool = False,
) -> list[dict[str, Any]]:
    """transcript, decision, reply, [sentence], reply_end, metrics (optionally "thinking" first)."""
    stt, lid, retrieval, first_audio, total = stages
    events: list[ev.Event] = []
    if thinking:
        events.append(ev.StateChanged(turn_id=tid, t=0.0, state="thinking"))
    events += [
        ev.Transcribed(turn_id=tid, t=0.1, text=question, language=lang, probability=probability),
        ev.Decided(
            turn_id=tid,
            t=0.2,
            text=question,
            language=lang,
            kind=kind,
            faq_id=faq,
            confidence=confidence,
            best_entry=faq,
            best_score=best_score,
        ),
        ev.ReplyStarted(
            turn_id=tid, t=0.3, language=lang, faq_id=faq, confidence=confidence, handoff=handoff
        ),
    ]
    if sentence:
        events.append(ev.ReplyText(turn_id=tid, t=0.4, text=answer))
    events += [
        ev.ReplyEnded(turn_id=tid, t=0.9, text=answer, voice=voice),
        ev.TurnMetrics(
            turn_id=tid,
            t=1.0,
            stt_ms=stt,
            lid_ms=lid,
            retrieval_ms=retrieval,
            first_audio_ms=first_audio,
            total_ms=total,
            cancelled=False,
            end_of_turn="early",  # prepared at a pause, its answer ready before the end
            pause_to_ready_ms=300.0,
            pause_to_end_ms=350.0,
        ),
    ]
    return [bus_message(sid, e) for e in events]
