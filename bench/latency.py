"""Per-language, per-stage reply latency over real WebRTC, as a citizen feels it:
`python -m bench.latency [--rounds N] [--langs pt en es ...]`.

Two servers run side by side on loopback: the current defaults (neural voices, reply audio
made ahead of time) and the previous release's path (espeak-ng for every language but
English, no reply-audio cache, the previous turn-taking settings). An aiortc citizen speaks
recorded questions to each in turn (alternating, so both see the same machine) and times, from
the true end of speech in its microphone audio:

- end of turn: the server's `thinking` state arrives (the VAD decided the citizen stopped);
- decision: the `reply` message arrives (transcribed, language chosen, answer decided);
- first audio: the first non-silent reply sample arrives (synthesis or cache, Opus, jitter
  buffer).

Each run is made twice: on an otherwise idle machine, and with a CPU-bound neighbour process
(one busy loop at normal priority, as on a kiosk box doing something else). Then barge-in stop
times with neural voices, and reply audio recorded and transcribed back (`--listen`).
The reply audio for the measured languages, and the system messages of every language, is
made before the servers start (`voice-agent voices fill --lang ...`); the servers do not fill
in the background during the run (`reply_cache_background = false`), as on a box whose cache
is complete.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from bench.rtc_client import Citizen
from bench.server import ROOT, running_server
from bench.soak_probe import METRICS_TOKEN, counted, scrape, stage_means
from voice_agent.language.languages import CODES
from voice_agent.transports.rtc.manager import restrict_ice_addresses

QUESTIONS: dict[str, list[str]] = {  # as citizens say them, covered by the FAQ
    "pt": [
        "Como é que peço o número de utente?",
        "Onde é que tiro o NIF?",
        "Preciso de renovar a minha autorização de residência, como faço?",
    ],
    "en": [
        "Where do I get a tax number in Portugal?",
        "How do I renew my residence permit?",
        "What is the number of the health line?",
    ],
    "es": [
        "¿Dónde me puedo inscribir para buscar trabajo?",
        "¿Cómo consigo el número de identificación fiscal?",
        "¿Cómo pido cita en el centro de salud?",
    ],
    "fr": [
        "Comment échanger mon permis de conduire?",
        "Comment avoir un médecin de famille?",
        "Où est-ce que je demande le numéro fiscal?",
    ],
    "uk": [
        "Як отримати номер платника податків?",
        "Як записатися до сімейного лікаря?",
        "Як обміняти водійське посвідчення?",
    ],
    "ar": [
        "كيف أحصل على الرقم الضريبي؟",
        "كيف أجدد تصريح الإقامة؟",
        "ما هو رقم خط الصحة؟",
    ],
    "zh": [
        "我怎么申请税号？",
        "怎么续签居留许可？",
        "怎么找家庭医生？",
    ],
}
LISTEN = ("pt", "es", "uk", "ar", "zh")
# Whisper base heard espeak-ng's Ukrainian questions as Italian; Kokoro's accented voice
# (hf_alpha) is heard as Ukrainian, though some words still come out wrong.
ACCENTED_QUESTIONS = ("uk",)
# the previous release: espeak-ng everywhere but English, no reply-audio cache
PREVIOUS = (
    "[tts]\nreply_cache = false\nespeak_only = "
    + str([c for c in ("pt", "es", "fr", "it", "hi", "zh")]).replace("'", '"')
    + "\n"
)
CURRENT = "[tts]\nreply_cache_background = false\n"
# A citizen stays connected while its language is measured (minutes, with barge-in trials):
# the idle limit must not close it meanwhile.
SERVER = (
    "offers_per_second = 50.0\noffer_burst = 200\nmax_active_sessions = 16\n"
    "session_idle_seconds = 3600.0\n"
)
CONSOLE = f'\n[console]\nmetrics_token = "{METRICS_TOKEN}"\n'
ENDS = ("early", "no_pause", "not_ready", "not_faq", "unfinished", "ready_late", "limit")


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


@dataclass
class Turn:
    server: str
    condition: str
    lang: str
    end_of_turn: float | None  # end of speech -> `thinking` arrives
    decision: float | None  # end of speech -> `reply` arrives
    first_audio: float | None  # end of speech -> first non-silent reply audio


def speak(text: str, lang: str, folder: Path) -> np.ndarray:
    from tests.rtc.conftest import spoken

    return spoken(text, lang, folder, accented=lang in ACCENTED_QUESTIONS)


def arrival(c: Citizen, since: float, kind: str, state: str | None = None) -> float | None:
    for at, m in c.messages:
        if at > since and m.get("type") == kind and (state is None or m.get("state") == state):
            return at
    return None


async def one_turn(c: Citizen, pcm: np.ndarray, server: str, condition: str, lang: str) -> Turn:
    n = len(c.mic.speech_ended_at)
    c.mic.play(pcm)
    try:
        ended = await c.mic.speech_ended(n, within=60)
    except TimeoutError:  # the connection stopped taking microphone audio: a lost turn
        print(f"  {server} {lang}: the microphone audio was not sent", file=sys.stderr)
        return Turn(server, condition, lang, None, None, None)
    try:
        first: float | None = await c.wait_audio_after(ended, within=30)
    except TimeoutError:
        first = None
    eot = arrival(c, ended, "state", "thinking")
    reply = arrival(c, ended, "reply")
    await asyncio.sleep(0.3)
    c.send({"type": "interrupt"})
    await asyncio.sleep(0.6)

    def rel(t: float | None) -> float | None:
        return None if t is None else t - ended

    return Turn(server, condition, lang, rel(eot), rel(reply), rel(first))


async def run_condition(
    urls: dict[str, str], material: dict[str, list[np.ndarray]], rounds: int, condition: str
) -> list[Turn]:
    """Each language in turn: one citizen per path connects, asks its questions `rounds`
    times (the paths alternate), and leaves; nobody else is connected meanwhile, as at a
    kiosk whose server has one visitor."""
    out: list[Turn] = []
    print(f"measuring: {condition}", file=sys.stderr, flush=True)
    for lang, clips in material.items():
        citizens: dict[str, Citizen] = {}
        try:
            for server, url in urls.items():
                c = Citizen(url, lang=lang)
                await c.connect()
                await c.wait_for(lambda m: m.get("state") == "listening")
                citizens[server] = c
            for r in range(rounds):
                for i, pcm in enumerate(clips):
                    order = list(urls) if (r + i) % 2 == 0 else list(urls)[::-1]
                    for server in order:
                        out.append(await one_turn(citizens[server], pcm, server, condition, lang))
        finally:
            for c in citizens.values():
                await c.close()
        print(f"  {condition}: {lang} done", file=sys.stderr)
    return out


async def barge_in(url: str, material: dict[str, list[np.ndarray]], trials: int) -> list[float]:
    """Speech onset of an interruption -> the reply audio stops arriving (neural voices)."""
    langs = [lang for lang in ("pt", "es", "fr") if lang in material]
    out: list[float] = []
    for lang in langs:
        c = Citizen(url, lang=lang, jitter_packets=1)
        await c.connect()
        await c.wait_for(lambda m: m.get("state") == "listening")
        try:
            for i in range(trials):
                question, interruption = material[lang][i % 3], material[lang][(i + 1) % 3]
                n = len(c.mic.speech_ended_at)
                c.mic.play(question)
                await c.wait_audio_after(await c.mic.speech_ended(n), within=30)
                await asyncio.sleep(1.0)
                k, seen = len(c.mic.speech_started_at), len(c.messages)
                c.mic.play(interruption)
                began = await c.mic.speech_started(k)
                await asyncio.sleep(1.2)
                if any(
                    m.get("type") == "reply_end" and m.get("reason") == "barge-in"
                    for _, m in c.messages[seen:]
                ):
                    out.append(c.audio_stopped_after(began) - began)
                await asyncio.sleep(2.5)
                c.send({"type": "interrupt"})
                await asyncio.sleep(0.6)
        finally:
            await c.close()
    return out


async def listen(url: str, material: dict[str, list[np.ndarray]], folder: Path) -> list[str]:
    """One full reply per language, recorded and transcribed back."""
    from bench.voices import cer, normalise
    from voice_agent.speech_in.audio import write_wav

    rows = []
    for lang in [x for x in LISTEN if x in material]:
        c = Citizen(url, lang=lang, keep_pcm=True)
        await c.connect()
        await c.wait_for(lambda m: m.get("state") == "listening")
        try:
            n = len(c.mic.speech_ended_at)
            c.mic.play(material[lang][0])
            ended = await c.mic.speech_ended(n)
            done = await c.wait_for(
                lambda m: m.get("type") == "reply_end" and not m.get("cancelled"), within=90
            )
            # reply_end comes when the last piece is sent (for a cached answer: before any of
            # it has played), and the audio streams in real time: record from its first sound
            # until it has been silent for 3 s (a live sentence may follow a pause)
            await c.wait_audio_after(ended, within=30)
            for _ in range(480):  # at most 2 minutes
                if time.monotonic() - (c.last_audio() or 0) >= 3.0:
                    break
                await asyncio.sleep(0.25)
        finally:
            await c.close()
        pcm = np.concatenate([f for at, f in c.pcm if at > ended] or [np.zeros(1, np.int16)])
        wav = folder / f"reply-{lang}.wav"
        write_wav(wav, pcm, 48_000)
        heard = (await asyncio.to_thread(transcribe, wav, lang)).strip()
        said = str(done.get("text", ""))
        score = cer(normalise(said, lang), normalise(heard, lang))
        rows.append(f"| {lang} | {said} | {heard} | {score:.2f} | {wav.name} |")
    return rows


def transcribe(wav: Path, lang: str) -> str:
    cmd = [sys.executable, "-m", "voice_agent.cli", "transcribe", str(wav), "--lang", lang]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout


def table(turns: list[Turn]) -> None:
    groups: dict[tuple[str, str, str], list[Turn]] = defaultdict(list)
    for t in turns:
        groups[t.condition, t.server, t.lang].append(t)
        groups[t.condition, t.server, "all"].append(t)
    print(
        "\n| machine | path | lang | end of turn p50 | decision p50 | first audio p50 | p95 | "
        "worst | no reply | n |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (cond, server, lang), ts in sorted(
        groups.items(), key=lambda kv: (*kv[0], kv[0][2] == "all")
    ):

        def ms(xs: list[float | None], p: float) -> str:
            got = [x for x in xs if x is not None]
            return f"{pct(got, p) * 1000:.0f}" if got else "-"

        first = [t.first_audio for t in ts]
        got = [x for x in first if x is not None]
        worst = f"{max(got) * 1000:.0f}" if got else "-"
        name = f"**{lang}**" if lang == "all" else lang
        print(
            f"| {cond} | {server} | {name} | {ms([t.end_of_turn for t in ts], 50)} | "
            f"{ms([t.decision for t in ts], 50)} | {ms(first, 50)} | {ms(first, 95)} | {worst} | "
            f"{len(first) - len(got)} | {len(ts)} |"
        )


def end_table(scrapes: list[tuple[str, str, dict[str, float], dict[str, float]]]) -> None:
    """How each path's turns ended (the server's `/metrics`): early (the answer prepared at the
    pause was ready), or why the full silence was waited for; and, of turns prepared at a
    pause, the mean time from the pause to that answer and to the end of the turn."""
    print(
        "\n| machine | path | " + " | ".join(ENDS) + " | pause -> prepared answer, mean ms | "
        "pause -> end of turn, mean ms |\n|---|---|" + "---|" * (len(ENDS) + 2)
    )
    for cond, server, before, after in scrapes:
        n = counted(before, after, "voice_agent_end_of_turn_total", "how")
        means = stage_means(before, after, ("pause_to_ready", "pause_to_end"))
        cells = [str(n.get(k, 0)) for k in ENDS]
        cells += ["-" if v != v else f"{v:.0f}" for v in means.values()]
        print(f"| {cond} | {server} | " + " | ".join(cells) + " |")


def answered_by(config: Path, material: dict[str, list[np.ndarray]], folder: Path) -> set[str]:
    """The FAQ entries that answer the recorded questions (asked once, by audio)."""
    from voice_agent.speech_in.audio import float_to_int16, write_wav

    lines = []
    for lang, clips in material.items():
        for i, pcm in enumerate(clips):
            wav = folder / f"asked-{lang}-{i}.wav"
            write_wav(wav, float_to_int16(pcm), 16_000)
            lines.append(json.dumps({"audio": str(wav), "lang": lang}))
    batch = folder / "asked.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "voice_agent.cli", "--config", str(config), "ask", "--batch"]
    out = subprocess.run([*cmd, str(batch)], cwd=ROOT, check=True, capture_output=True, text=True)
    found = [json.loads(line).get("faq_id") for line in out.stdout.splitlines() if line.strip()]
    return {f for f in found if f}


def fill(config: Path, langs: list[str], entries: set[str]) -> None:
    """Reply audio for these entries (none: the system messages only) in these languages,
    made once and kept in var/."""
    print(f"reply audio: {' '.join(langs)}, {len(entries)} entries...", file=sys.stderr)
    cmd = [sys.executable, "-m", "voice_agent.cli", "--config", str(config), "voices", "fill"]
    subprocess.run([*cmd, "--lang", *langs, "--entry", *sorted(entries)], cwd=ROOT, check=True)


def checkout(ref: str | None, folder: Path) -> Path:
    """The code of an earlier release in a worktree of its own (None: this checkout)."""
    if ref is None:
        return ROOT
    where = folder / "previous-code"
    subprocess.run(["git", "worktree", "add", "--detach", str(where), ref], cwd=ROOT, check=True)
    return where


def forget(code: Path) -> None:
    if code != ROOT:
        subprocess.run(["git", "worktree", "remove", "--force", str(code)], cwd=ROOT, check=False)


def busy_neighbour() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


async def main(args: argparse.Namespace) -> None:
    restrict_ice_addresses(("127.0.0.1",))
    folder = Path(tempfile.mkdtemp(prefix="latency-"))
    (folder / "questions").mkdir()
    var = ROOT / "var"
    material = {
        lang: [speak(q, lang, folder / "questions") for q in QUESTIONS[lang]] for lang in args.langs
    }
    cfg = folder / "fill.toml"
    cfg.write_text(f'var_dir = "{var}"\n', encoding="utf-8")
    asked = {lang: [speak(QUESTIONS[lang][0], lang, folder / "questions")] for lang in LISTEN}
    langs = sorted(set(args.langs) | (set(LISTEN) if args.listen else set()))
    fill(cfg, langs, answered_by(cfg, {**material, **asked}, folder))
    # A misheard question can land in any language ("please say it again" in Italian): the
    # server's own fill makes every language's system messages, so the bench does too.
    fill(cfg, [c for c in CODES if c not in langs], set())
    paths = {
        "current": (SERVER + CURRENT + args.variant.replace("\\n", "\n") + CONSOLE, ROOT),
        "previous": (
            SERVER + (CURRENT if args.variant else PREVIOUS) + CONSOLE,
            checkout(args.previous_ref, folder),
        ),
    }
    turns: list[Turn] = []
    scrapes: list[tuple[str, str, dict[str, float], dict[str, float]]] = []
    with ExitStack() as stack:
        stack.callback(forget, paths["previous"][1])
        urls = {
            name: stack.enter_context(running_server(folder / name, extra, var, code))[0]
            for name, (extra, code) in paths.items()
        }
        for condition in args.conditions:
            hog = busy_neighbour() if condition == "neighbour" else None
            try:
                async with httpx.AsyncClient() as http:
                    before = {name: await scrape(http, url) for name, url in urls.items()}
                    turns += await run_condition(urls, material, args.rounds, condition)
                    for name, url in urls.items():
                        scrapes.append((condition, name, before[name], await scrape(http, url)))
            finally:
                if hog is not None:
                    hog.kill()
        stops = await barge_in(urls["current"], material, args.barge_in_trials)
        heard = await listen(urls["current"], asked, folder) if args.listen else []

    print(
        f"\nend of speech -> ..., over WebRTC on loopback (aiortc citizen, default jitter "
        f"buffer), ms; {args.rounds} rounds x 3 questions per language per path\n"
        + (
            f"current path: the defaults + {args.variant!r}; previous path: the defaults, "
            if args.variant
            else "previous path: espeak-ng voices, no reply-audio cache, "
        )
        + (f"the code of {args.previous_ref}" if args.previous_ref else "this code")
    )
    table(turns)
    end_table(scrapes)
    print(
        "\n| barge-in (neural voices: pt, es, fr) | p50 | p95 | worst | n |\n|---|---|---|---|---|"
    )
    if stops:
        print(
            f"| speech onset -> reply audio stops arriving | {pct(stops, 50) * 1000:.0f} ms | "
            f"{pct(stops, 95) * 1000:.0f} ms | {max(stops) * 1000:.0f} ms | {len(stops)} |"
        )
    if heard:
        print("\n| lang | reply said | transcribed back (Whisper) | CER | WAV |")
        print("|---|---|---|---|---|")
        print("\n".join(heard))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--langs", nargs="+", default=["pt", "en", "es", "fr", "uk", "ar"])
    p.add_argument("--barge-in-trials", type=int, default=4, help="per language (pt, es, fr)")
    p.add_argument("--listen", action="store_true", help="record replies, transcribe them back")
    p.add_argument("--previous-ref", help="git commit whose code runs the previous path")
    p.add_argument(
        "--variant",
        default="",
        help="TOML lines for the current path, e.g. '[vad]\\npause_ms = 120'; the previous "
        "path then runs the defaults (a settings change side by side with the defaults)",
    )
    p.add_argument("--conditions", nargs="+", default=["idle", "neighbour"])
    a = p.parse_args()
    os.chdir(ROOT)
    asyncio.run(main(a))
