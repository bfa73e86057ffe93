"""Stage benchmarks on this machine: `python -m bench.stages [--runs N]`.

Prints one table. Each stage is compared with a baseline measured in the same run (ratios,
since machines are noisy): faster-whisper's default `transcribe()` for STT, and a
non-streaming reply (whole answer synthesised before the first audio) for end-to-end.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from voice_agent import events as ev
from voice_agent.config import load_settings
from voice_agent.conversation.engine import Engine, Session, TurnInput
from voice_agent.speech_in.audio import DecodedAudio, decode_audio
from voice_agent.speech_out.normalize import split_sentences

UTTERANCES = [  # (lang, text) ~3-6 s when spoken
    ("en", "Where do I get a tax number in Portugal?"),
    ("en", "My residence permit expires next month. How do I renew it?"),
    ("en", "How can I register my child in a school near my home?"),
    ("pt", "Bom dia. Preciso de marcar uma consulta no centro de saúde."),
    ("es", "¿Dónde puedo pedir el número de la seguridad social?"),
    ("fr", "Comment est-ce que je peux échanger mon permis de conduire?"),
]
TEXTS = [
    "Como tiro o NIF?",
    "How do I renew my residence permit?",
    "¿Cómo pido cita en el centro de salud?",
    "Як отримати номер NISS?",
    "मुझे टैक्स नंबर कैसे मिलेगा?",
    "我在哪里可以办理居留许可？",
    "Qual é o número do SNS 24?",
    "Wo kann ich Portugiesisch lernen?",
]


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def row(name: str, value: str, note: str = "") -> None:
    print(f"| {name:<46} | {value:>18} | {note:<44} |")


async def synth_wav(engine: Engine, lang: str, text: str, folder: Path) -> DecodedAudio:
    path = folder / f"{lang}-{abs(hash(text))}.wav"
    if lang == "en":
        synth = await engine.voices.for_language("en")
        parts = [await engine.voices.synthesize(synth, s, "en") for s in split_sentences(text)]
        from voice_agent.speech_in.audio import write_wav

        write_wav(path, np.concatenate([p.pcm for p in parts]), parts[0].sample_rate)
    else:
        cmd = ["espeak-ng", "-v", lang, "-s", "150", "-w", str(path), text]
        await asyncio.to_thread(subprocess.run, cmd, check=True)
    return decode_audio(path, max_seconds=30)


async def main(runs: int) -> None:
    settings = replace(load_settings(), var_dir=Path("var/bench"))
    engine = Engine.create(settings)
    t = time.perf_counter()
    await engine.load_faq()
    faq_load = time.perf_counter() - t
    await engine.stt.load()
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    clips = [(lang, await synth_wav(engine, lang, text, folder)) for lang, text in UTTERANCES]

    print(f"\nvoice-agent stage benchmark ({runs} runs per item; 2-core CPU, default models)\n")
    print(f"| {'stage':<46} | {'measured':>18} | {'note':<44} |")
    print(f"|{'-' * 48}|{'-' * 20}|{'-' * 46}|")
    row(
        "FAQ load (entries + cached embeddings)",
        f"{faq_load * 1000:.0f} ms",
        f"{len(engine.retriever.entries)} entries",
    )

    # --- STT -----------------------------------------------------------------------------
    stt = engine.stt
    whisper = stt._load()  # type: ignore[attr-defined]
    for mode in ("auto", "given"):
        lat, rtf, right = [], [], 0
        for _ in range(runs):
            for lang, clip in clips:
                t = time.perf_counter()
                tr = await stt.transcribe(clip.samples, language=None if mode == "auto" else lang)
                dt = time.perf_counter() - t
                lat.append(dt)
                rtf.append(dt / clip.seconds)
                right += tr.language == lang
        row(
            f"STT latency p50, language {mode}",
            f"{pct(lat, 50) * 1000:.0f} ms",
            f"RTF p50 {pct(rtf, 50):.2f}; LID right {right}/{len(lat)}",
        )
    base = []
    for _lang, clip in clips:
        t = time.perf_counter()
        segs, _info = whisper.transcribe(clip.samples)  # faster-whisper defaults
        " ".join(s.text for s in segs)
        base.append((time.perf_counter() - t) / clip.seconds)
    ours = []
    for _lang, clip in clips:
        t = time.perf_counter()
        await stt.transcribe(clip.samples)
        ours.append((time.perf_counter() - t) / clip.seconds)
    row(
        "STT RTF baseline: faster-whisper defaults",
        f"{pct(base, 50):.2f}",
        f"ours/baseline = {pct(ours, 50) / pct(base, 50):.2f}",
    )

    # --- LID, retrieval -----------------------------------------------------------------
    lid_t, ret_t = [], []
    for _ in range(runs):
        for text in TEXTS:
            t = time.perf_counter()
            engine.lid.identify(text)
            lid_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            await engine.retriever.search_async(text)
            ret_t.append(time.perf_counter() - t)
    row("text LID p50 / p95", f"{pct(lid_t, 50) * 1000:.1f} / {pct(lid_t, 95) * 1000:.1f} ms", "")
    row(
        "retrieval p50 / p95 (e5 + FTS5)",
        f"{pct(ret_t, 50) * 1000:.1f} / {pct(ret_t, 95) * 1000:.1f} ms",
        f"{len(engine.retriever._rows)} texts indexed",
    )

    # --- LLM ----------------------------------------------------------------------------
    from voice_agent.answer.llm import LlamaGenerator

    llm = LlamaGenerator(
        settings.model_path(settings.llm.model_file), settings.llm, settings.models_path
    )
    t = time.perf_counter()
    await llm.load()
    load = time.perf_counter() - t
    curated = engine.retriever.entries["nif"].languages["en"].answer
    ttft, tps = [], []
    for _ in range(max(1, runs // 2)):
        msgs = [
            {"role": "system", "content": "Rephrase the official answer in two short sentences."},
            {
                "role": "user",
                "content": f"Official answer:\n{curated}\n\nQuestion: how do I get a NIF?",
            },
        ]
        t = time.perf_counter()
        first, n = None, 0
        async for _tok in llm.stream_reply(msgs):
            first = first or time.perf_counter()
            n += 1
        end = time.perf_counter()
        if first:
            ttft.append(first - t)
            tps.append((n - 1) / max(1e-6, end - first))
    llm.close()
    row("LLM load", f"{load * 1000:.0f} ms", "Qwen2.5-Coder-0.5B Q4_K_M")
    row(
        "LLM time to first token p50",
        f"{pct(ttft, 50) * 1000:.0f} ms",
        f"{pct(tps, 50):.0f} tokens/s",
    )

    # --- TTS ----------------------------------------------------------------------------
    sentence = "Call the SNS 24 line on 808 24 24 24. It works 24 hours a day."
    for lang in ("en", "pt"):
        synth = await engine.voices.for_language(lang)
        first_t, rtfs = [], []
        for _ in range(runs):
            t = time.perf_counter()
            audio = await engine.voices.synthesize(synth, split_sentences(sentence)[0], lang)
            dt = time.perf_counter() - t
            first_t.append(dt)
            rtfs.append(dt / (len(audio.pcm) / audio.sample_rate))
        row(
            f"TTS first audio p50, {synth.name}",
            f"{pct(first_t, 50) * 1000:.0f} ms",
            f"RTF {pct(rtfs, 50):.3f}",
        )

    # --- end to end ---------------------------------------------------------------------
    async def first_audio(inp: TurnInput, streaming: bool) -> float:
        t = time.perf_counter()
        texts: list[str] = []
        async for e in engine.turn(inp, Session()):
            if streaming and isinstance(e, ev.AudioChunk):
                return time.perf_counter() - t
            if isinstance(e, ev.ReplyEnded):
                texts.append(e.text)
        return time.perf_counter() - t  # non-streaming: everything synthesised first

    for label, inputs in (
        ("text", [TurnInput(text=x) for x in TEXTS]),
        ("5 s spoken question", [TurnInput(audio=c) for _lang, c in clips]),
    ):
        stream, batch = [], []
        for _ in range(runs):
            for inp in inputs:
                stream.append(await first_audio(inp, True))
                batch.append(await first_audio(inp, False))
        row(
            f"ask: {label} -> first audio p50 / p95",
            f"{pct(stream, 50) * 1000:.0f} / {pct(stream, 95) * 1000:.0f} ms",
            f"non-streaming p50 {pct(batch, 50) * 1000:.0f} ms; "
            f"ratio {pct(stream, 50) / pct(batch, 50):.2f}",
        )
    engine.close()
    print()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    asyncio.run(main(p.parse_args().runs))
