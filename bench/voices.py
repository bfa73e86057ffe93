"""Which voice is most intelligible per language: `python -m bench.voices [--entries N]`.

Every FAQ answer's first sentence, in every language, is synthesised with each candidate voice
(Kokoro voices from the survey in shared/VOICES.md, espeak-ng, and Piper joe for English),
transcribed back with the project's Whisper base (language given), and scored by character
error rate (CER: edit distance / reference length, after lower-casing and dropping spaces and
punctuation; Chinese compared in simplified characters). For ur, pa, gu, ne, bn and zh,
Whisper gets a short prompt in the language's script; Hindi is compared as espeak-ng IPA
(Whisper base writes it in Urdu script, and loops when prompted in Devanagari).

Prints the table and writes it to docs/voices.md (cited by the README); per-sentence rows go
to var/bench/voices.jsonl, so a run can be resumed (`--resume`) or re-tabled (`--report`).
To save time, alternative voices (a language's second candidate) are scored on the first
`--alt-entries` entries, and Kokoro in languages it was not trained on on the first
`--accented-entries`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import TextIO

import numpy as np

from voice_agent.config import Settings, load_settings
from voice_agent.content.faq import load_entries
from voice_agent.language.languages import CODES
from voice_agent.speech_in.audio import resample_int16
from voice_agent.speech_in.stt import WhisperStt
from voice_agent.speech_out.engines import Synthesizer, espeak_voice
from voice_agent.speech_out.espeak_lib import EspeakLibrary
from voice_agent.speech_out.kokoro import KOKORO_LANGUAGES, TRAINED
from voice_agent.speech_out.normalize import speakable, split_sentences
from voice_agent.speech_out.voice_plan import VoiceFactory, report_to_log

# Kokoro candidates per language (shared/VOICES.md): the first is the main one.
KOKORO_CANDIDATES: dict[str, tuple[str, ...]] = {
    "pt": ("pf_dora", "pm_alex"), "en": ("af_heart",), "es": ("ef_dora", "em_alex"),
    "fr": ("ff_siwis",), "de": ("hf_alpha", "ef_dora"), "it": ("if_sara", "im_nicola"),
    "ro": ("ef_dora",), "pl": ("af_heart",), "uk": ("hf_alpha", "ef_dora"), "ru": ("hf_alpha",),
    "tr": ("hf_alpha",), "ar": ("af_heart",), "fa": ("hf_alpha",), "ur": ("hf_alpha",),
    "hi": ("hm_omega", "hf_alpha"), "pa": ("hf_alpha",), "gu": ("hf_alpha",),
    "ne": ("hf_alpha",), "bn": ("hf_alpha",), "zh": ("zf_xiaoxiao", "zm_yunxi"),
}  # fmt: skip
UNRELIABLE = {"pa", "gu", "ne", "bn", "hi", "ar"}  # whisper-base is weak there (VOICES.md)
# Whisper writes Hindi in Urdu script, Chinese in traditional characters... unless a prompt
# in the expected script comes first (as in shared/VOICES.md): a neutral sentence per language.
PROMPTS = {
    "ur": "یہ اردو میں ایک جملہ ہے۔",
    "pa": "ਇਹ ਪੰਜਾਬੀ ਵਿੱਚ ਇੱਕ ਵਾਕ ਹੈ।", "gu": "આ ગુજરાતીમાં એક વાક્ય છે.",
    "ne": "यो नेपालीमा एउटा वाक्य हो।", "bn": "এটি বাংলায় একটি বাক্য।",
    "zh": "这是一个简体中文的句子。",
}  # fmt: skip
OUT_MD = Path("docs/voices.md")
OUT_JSONL = Path("var/bench/voices.jsonl")


def candidates(lang: str) -> list[tuple[str, bool]]:
    """(voice name, is an alternative) for `lang`."""
    out = [(f"espeak-ng:{espeak_voice(lang)}", False)]
    if lang == "en":
        out.append(("piper:en_US-joe-medium", False))
    out += [(f"kokoro:{v}", i > 0) for i, v in enumerate(KOKORO_CANDIDATES.get(lang, ()))]
    return out


def normalise(text: str, lang: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    if lang == "zh":
        from misaki.zh_normalization.char_convert import tranditional_to_simplified

        text = tranditional_to_simplified(text)
    return "".join(c for c in text if unicodedata.category(c)[0] in "LMN")


def sounds(text: str, lang: str, library: EspeakLibrary) -> str:
    """Hindi is scored on espeak-ng IPA: Whisper base writes spoken Hindi in Urdu script
    (Hindustani is one spoken language), and a Devanagari prompt makes it loop instead."""
    arabic = any("\u0600" <= c <= "\u06ff" for c in text)
    ipa = " ".join(library.phonemize(text, "ur" if arabic and lang == "hi" else lang))
    return "".join(c for c in ipa if c.isalpha() and c not in "ˈˌːˑ")


def cer(ref: str, hyp: str) -> float:
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return min(1.0, prev[-1] / len(ref))


def sentences(settings: Settings, entries: int) -> dict[str, list[tuple[str, str]]]:
    """lang -> [(entry id, first sentence of its answer)]."""
    found = load_entries(settings.path(settings.faq_dir))[:entries]
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for e in found:
        for code in CODES:
            if code in e.languages:
                first = split_sentences(e.languages[code].answer)
                if first:
                    out[code].append((e.id, first[0]))
    return out


def how_many(args: argparse.Namespace, lang: str, voice: str, alternative: bool) -> int:
    if alternative:
        return int(args.alt_entries)
    if voice.startswith("kokoro:") and lang not in TRAINED:
        return int(args.accented_entries)
    return 10_000


async def hear(stt: WhisperStt, audio: np.ndarray, lang: str) -> str:
    """The project's Whisper base, language given; with a script prompt where one is set."""
    if lang not in PROMPTS:
        return (await stt.transcribe(audio, language=lang)).text

    def prompted() -> str:
        model = stt._load()  # the same faster-whisper model, through its own transcribe()
        segments, _ = model.transcribe(  # type: ignore[attr-defined]
            audio, language=lang, beam_size=1, temperature=0, initial_prompt=PROMPTS[lang]
        )
        return " ".join(s.text.strip() for s in segments)

    return await stt._worker.run(prompted)


def measured_before(resume: bool) -> set[tuple[str, str, str]]:
    done: set[tuple[str, str, str]] = set()
    OUT_JSONL.parent.mkdir(parents=True, exist_ok=True)
    if resume and OUT_JSONL.exists():
        for line in OUT_JSONL.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            done.add((r["lang"], r["voice"], r["entry"]))
    elif OUT_JSONL.exists():
        OUT_JSONL.unlink()
    return done


async def run(args: argparse.Namespace, out: TextIO, done: set[tuple[str, str, str]]) -> None:
    settings = load_settings()
    stt = WhisperStt(settings.model_path(settings.stt.model_dir), settings.stt,
                     settings.models_path)  # fmt: skip
    library = EspeakLibrary()
    factory = VoiceFactory(settings, lambda: library, settings.tts.kokoro_threads,
                           report_to_log({}))  # fmt: skip
    texts = sentences(settings, args.entries)
    langs = args.languages.split(",") if args.languages else list(CODES)
    for lang in langs:
        for voice, alternative in candidates(lang):
            synth: Synthesizer = factory.build(lang, voice)
            items = texts[lang][: how_many(args, lang, voice, alternative)]
            for entry, text in items:
                if (lang, voice, entry) in done:
                    continue
                t0 = time.perf_counter()
                audio = synth.synthesize(speakable(text, lang))
                took = time.perf_counter() - t0
                pcm16 = resample_int16(audio.pcm, audio.sample_rate, 16000)
                heard = await hear(stt, pcm16.astype(np.float32) / 32768, lang)
                seconds = len(audio.pcm) / audio.sample_rate
                if lang == "hi":
                    score = cer(sounds(text, lang, library), sounds(heard, lang, library))
                else:
                    score = cer(normalise(text, lang), normalise(heard, lang))
                row = {"lang": lang, "voice": synth.name, "entry": entry, "text": text,
                       "heard": heard, "cer": round(score, 4),
                       "rtf": round(took / max(seconds, 1e-3), 3),
                       "seconds": round(seconds, 2)}  # fmt: skip
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
            print(f"{lang} {voice}: {len(items)} sentences", flush=True)
    stt.close()


def table() -> str:
    rows = [json.loads(x) for x in OUT_JSONL.read_text(encoding="utf-8").splitlines()]
    by: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for r in rows:  # a voice that fell back to espeak-ng is recorded under espeak's name: once
        if (r["lang"], r["voice"], r["entry"]) not in seen:
            seen.add((r["lang"], r["voice"], r["entry"]))
            by[(r["lang"], r["voice"])].append(r)
    lines = [
        "| lang | voice | sentences | CER mean | CER median | RTF | trained | default |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for lang in CODES:
        for (code, voice), items in sorted(by.items()):
            if code != lang:
                continue
            cers = [float(r["cer"]) for r in items]
            name = voice.split(":", 1)[1]
            spec = KOKORO_LANGUAGES.get(lang)
            trained = ("yes" if lang in TRAINED else "no") if voice.startswith("kokoro") else ""
            default = "yes" if spec and spec.default and spec.voice == name else ""
            note = " (unreliable)" if lang in UNRELIABLE else ""
            lines.append(
                f"| {lang}{note} | {voice} | {len(items)} | {np.mean(cers):.3f} | "
                f"{np.median(cers):.3f} | {np.mean([float(r['rtf']) for r in items]):.2f} | "
                f"{trained} | {default} |"
            )
    return "\n".join(lines)


def write_report(note: str = "") -> None:
    body = table()
    print(body)
    OUT_MD.write_text(
        "# Voices: intelligibility per language (bench/voices.py)\n\n"
        "Every FAQ answer's first sentence, synthesised and transcribed back with Whisper base "
        "(int8, beam 1, language given). CER: character error rate against the written "
        "sentence (0 is perfect). RTF: synthesis time / audio length on the machine of the "
        "run (2 shared cores, other work running). `default` marks the voice the language "
        "uses; Kokoro is a default only where it beats espeak-ng and was trained on the "
        "language. Languages marked unreliable: Whisper base is weak there "
        f"({', '.join(sorted(UNRELIABLE))}).\n\n{note}" + body + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {OUT_MD}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--entries", type=int, default=10_000, help="first N FAQ entries (all)")
    p.add_argument("--alt-entries", type=int, default=8, help="entries for alternative voices")
    p.add_argument(
        "--accented-entries",
        type=int,
        default=10_000,
        help="entries for Kokoro in languages it was not trained on (all)",
    )
    p.add_argument("--note", default="", help="a line about the run, written above the table")
    p.add_argument("--languages", default="", help="comma-separated codes (all)")
    p.add_argument("--resume", action="store_true", help="keep rows already measured")
    p.add_argument("--report", action="store_true", help="only print/write the table")
    args = p.parse_args()
    if not args.report:
        done = measured_before(args.resume)
        with OUT_JSONL.open("a", encoding="utf-8") as out:
            asyncio.run(run(args, out, done))
    write_report(f"{args.note}\n\n" if args.note else "")


if __name__ == "__main__":
    main()
