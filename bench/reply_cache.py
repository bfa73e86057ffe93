"""The reply-audio cache: its size for 20 languages and first audio from cache vs live.

`python -m bench.reply_cache [--sample N] [--runs N] [--with-espeak] [--voices V ...]`

Size: every piece of every published answer and system message is planned with the voice its
language uses (espeak-ng's only with `--with-espeak`: not stored by default). Pieces of fast
voices (espeak-ng, Piper) are all synthesised into a scratch cache and measured; for Kokoro,
`--sample` pieces per language, spread over the list, are synthesised and the size is
extrapolated by spoken characters (`--sample 0` makes them all: slow, about 30 minutes a
Kokoro voice on 2 cores with other work running). `--runs 0` skips the latency part;
`--voices` limits the size table.
Latency: the same pt question through `ask` with the answer's audio on disk and without.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from voice_agent.config import load_settings
from voice_agent.content.faq import load_entries
from voice_agent.conversation.ask import ask
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.speech_out.espeak_lib import EspeakLibrary
from voice_agent.speech_out.prefill import Piece
from voice_agent.speech_out.reply_cache import ReplyAudioCache, known_replies
from voice_agent.speech_out.voice_plan import VoiceFactory, report_to_log
from voice_agent.speech_out.voices import VoiceRegistry

QUESTION = ("pt", "Como tiro o NIF?", "nif")


def size_table(sample: int, with_espeak: bool, voices: list[str] | None = None) -> None:
    base = load_settings()
    settings = replace(base, tts=replace(base.tts, reply_cache_espeak=with_espeak))
    entries = load_entries(settings.path(settings.faq_dir))
    registry = VoiceRegistry(settings)
    assert registry._prefill is not None
    wanted, _ = registry._prefill.plan_pieces(known_replies(entries))
    registry.close()
    library = EspeakLibrary()
    factory = VoiceFactory(settings, lambda: library, settings.tts.kokoro_threads,
                           report_to_log({}))  # fmt: skip
    by_voice: dict[str, list[Piece]] = defaultdict(list)
    for p in wanted:
        if not voices or p.voice in voices:
            by_voice[p.voice].append(p)
    total = 0.0
    print("| voice | pieces | made | MB (measured or extrapolated) |\n|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        cache = ReplyAudioCache(Path(tmp))
        for voice, items in sorted(by_voice.items()):
            lang = items[0].language
            synth = factory.build(lang, voice)
            todo = items
            if voice.startswith("kokoro:") and sample:  # spread over every entry and message
                todo = items[:: max(1, len(items) // sample)][:sample]
            for p in todo:
                cache.put(p.key, synth.synthesize(p.spoken))
            made = sum((Path(tmp) / f"{p.key}.npz").stat().st_size for p in todo)
            chars = sum(len(p.spoken) for p in items) / max(1, sum(len(p.spoken) for p in todo))
            mb = made * chars / 1e6
            total += mb
            print(f"| {voice} | {len(items)} | {len(todo)} | {mb:.1f} |", flush=True)
    label = "**all 20 languages**" if not voices else "**these voices**"
    pieces = sum(len(items) for items in by_voice.values())
    print(f"| {label} | {pieces} | | **{total:.0f}** |")


async def latency(runs: int) -> None:
    base = load_settings()
    lang, text, entry_id = QUESTION
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.create(replace(base, tts=replace(base.tts, reply_cache=True)))
        try:
            registry = engine.voices
            assert isinstance(registry, VoiceRegistry) and registry._prefill is not None
            assert registry.cache is not None
            registry.cache.folder = Path(tmp)  # a scratch cache: this bench fills it by hand
            await engine.load_faq()
            await engine.warm_up()
            registry._prefill.enabled = False
            if registry._prefill._task:
                registry._prefill._task.cancel()
            live, cached = [], []
            for _ in range(runs):
                assert registry.cache is not None
                registry.cache.evict(set())
                out = await ask(engine, TurnInput(text=text, language=lang))
                live.append(out.result["timings_ms"])
                entries = [e for e in engine.retriever.entries.values() if e.id == entry_id]
                wanted, _ = registry._prefill.plan_pieces(known_replies(entries))
                synth = await registry.for_language(lang)
                for p in [p for p in wanted if p.language == lang]:
                    audio = await registry._worker.run(synth.synthesize, p.spoken)
                    registry.cache.put(p.key, audio)
                out = await ask(engine, TurnInput(text=text, language=lang))
                cached.append(out.result["timings_ms"])
        finally:
            engine.close()
    print(f"\n{lang} {text!r}, {runs} runs each, median (max) in ms:")
    print("| path | tts_first_audio | first_audio | total |\n|---|---:|---:|---:|")
    for name, rows in (("live synthesis", live), ("from the cache", cached)):
        cells = [f"{np.median([r[k] for r in rows]):.0f} ({max(r[k] for r in rows):.0f})"
                 for k in ("tts_first_audio", "first_audio", "total")]  # fmt: skip
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sample", type=int, default=12, help="Kokoro pieces made per voice")
    p.add_argument("--runs", type=int, default=3, help="0: the size table only")
    p.add_argument("--skip-size", action="store_true")
    p.add_argument("--with-espeak", action="store_true", help="size with espeak-ng audio stored")
    p.add_argument("--voices", nargs="*", help="only these voices, e.g. kokoro:pf_dora")
    args = p.parse_args()
    if args.runs > 0:
        asyncio.run(latency(args.runs))
    if not args.skip_size:
        size_table(args.sample, args.with_espeak, args.voices)


if __name__ == "__main__":
    main()
