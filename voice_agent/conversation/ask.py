"""Run one turn to completion and fold its events into the `ask` result object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voice_agent import events as ev
from voice_agent.conversation.engine import Engine, Session, TurnInput
from voice_agent.conversation.wire import bus_message


@dataclass(slots=True)
class AskOutcome:
    result: dict[str, Any]
    pcm: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    sample_rate: int = 22050


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


def fold(events: list[ev.Event], warnings: list[str]) -> dict[str, Any]:
    """The result object of the CLI contract, with stage timings derived from event times."""

    def first(kind: type[ev.Event]) -> Any:
        return next((e for e in events if isinstance(e, kind)), None)

    speech = first(ev.SpeechEnded)
    transcript = first(ev.Transcribed)
    lang = first(ev.LanguageChosen)
    reply = first(ev.ReplyStarted)
    text = first(ev.ReplyText)
    audio = first(ev.AudioChunk)
    started = first(ev.AudioStarted)
    ended = first(ev.ReplyEnded)
    done = first(ev.TurnEnded)
    errors = [e for e in events if isinstance(e, ev.ErrorEvent)]

    input_done = transcript.t if transcript else 0.0
    lid_done = lang.t if lang else input_done
    timings = {
        "vad": _ms(speech.t) if speech else None,
        "stt": _ms(transcript.t - speech.t) if transcript and speech else 0.0,
        "lid": _ms(lid_done - input_done),
        "retrieve": _ms(reply.t - lid_done) if reply else None,
        "answer": _ms(text.t - reply.t) if text and reply else None,
        "tts_first_audio": _ms(audio.t - text.t) if audio and text else None,
        "first_audio": _ms(audio.t) if audio else None,
        "total": _ms(done.t) if done else None,
    }
    return {
        "language": reply.language if reply else None,
        "transcript": transcript.text if transcript else "",
        "answer": ended.text if ended else "",
        "faq_id": reply.faq_id if reply else None,
        "confidence": reply.confidence if reply else 0.0,
        "handoff": reply.handoff if reply else False,
        "tts": started.voice if started else None,
        "link": reply.link if reply else None,
        "mode": ended.mode if ended else None,  # what was said, not what was planned
        "status": reply.status if reply else None,
        "context_from": reply.context_from if reply else None,
        "timings_ms": timings,
        "warnings": warnings + [e.message for e in errors],
    }


async def ask(
    engine: Engine, inp: TurnInput, session: Session | None = None, *, want_audio: bool = True
) -> AskOutcome:
    session = session or Session()
    collected: list[ev.Event] = []
    pcm: list[np.ndarray] = []
    rate = 22050
    async for event in engine.turn(inp, session, speak=want_audio):
        collected.append(event)
        if event.AUDIENCE == "bus":  # the decision, for observers (the unanswered log)
            engine.bus.publish(bus_message(None, event))
        if isinstance(event, ev.AudioChunk) and want_audio:
            pcm.append(np.frombuffer(event.pcm, dtype=np.int16))
            rate = event.sample_rate
    warnings: list[str] = []
    if inp.audio is not None and inp.audio.truncated:
        warnings.append(
            f"the recording is longer than {engine.settings.limits.max_audio_seconds:.0f} s; "
            "only its beginning was used"
        )
    result = fold(collected, warnings)
    if inp.text is not None:
        result["transcript"] = " ".join(inp.text.split())
    return AskOutcome(result, np.concatenate(pcm) if pcm else np.zeros(0, np.int16), rate)
