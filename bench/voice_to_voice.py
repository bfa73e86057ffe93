"""Voice-to-voice over real WebRTC: `python -m bench.voice_to_voice [--turns N]`.

An aiortc citizen plays recorded questions (several languages) to a running server on
loopback and measures the end of its speech -> the first non-silent reply audio it receives.
The same questions then go to a server without pipelining (`stream_replies = false`: it
starts transcribing only when the turn has ended and synthesises the whole reply before
sending any of it), the baseline for a ratio measured in the same run. Then barge-in stop times,
and 1/2/4/8 simultaneous sessions (latency, server CPU and RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.rtc_client import Citizen
from bench.server import ROOT, running_server
from voice_agent.transports.rtc.manager import restrict_ice_addresses

QUESTIONS = [  # (lang, text) as a citizen would say them
    ("en", "Where do I get a tax number in Portugal?"),
    ("en", "How do I renew my residence permit?"),
    ("en", "What is the number of the health line?"),
    ("pt", "Como é que peço o número de utente?"),
    ("es", "¿Dónde me puedo inscribir para buscar trabajo?"),
    ("fr", "Comment échanger mon permis de conduire?"),
    ("de", "Wie bekomme ich einen Hausarzt?"),
]


# the reply's jitter buffer on the citizen's side, in 20 ms packets: a browser on a LAN keeps
# about one packet (NetEq adapts to the network); aiortc always keeps four (None)
CLIENT_JITTER = (1, None)


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def clips(folder: Path) -> list[tuple[str, np.ndarray]]:
    from tests.rtc.conftest import spoken

    return [(lang, spoken(text, lang, folder)) for lang, text in QUESTIONS]


async def one_turn(c: Citizen, pcm: np.ndarray) -> float | None:
    """Speak, wait for the first reply audio, then interrupt politely (saves time)."""
    n = len(c.mic.speech_ended_at)
    c.mic.play(pcm)
    spoke_until = await c.mic.speech_ended(n)
    try:
        first = await c.wait_audio_after(spoke_until, within=20)
    except TimeoutError:
        return None
    await asyncio.sleep(0.3)
    c.send({"type": "interrupt"})
    await asyncio.sleep(0.4)
    return first - spoke_until


async def latency_run(url: str, material: list[tuple[str, np.ndarray]], turns: int) -> list[float]:
    out: list[float] = []
    citizens: dict[str, Citizen] = {}
    try:
        for i in range(turns):
            lang, pcm = material[i % len(material)]
            if lang not in citizens:
                citizens[lang] = Citizen(url, lang=lang)
                await citizens[lang].connect()
                await citizens[lang].wait_for(lambda m: m.get("state") == "listening")
            dt = await one_turn(citizens[lang], pcm)
            if dt is not None:
                out.append(dt)
    finally:
        for c in citizens.values():
            await c.close()
    return out


@dataclass
class BargeIn:
    detected: float  # citizen's speech onset -> the server's "cancelled" message arrives
    stopped: float  # citizen's speech onset -> the last reply audio arrives


async def barge_in_run(
    url: str, material: list[tuple[str, np.ndarray]], trials: int, jitter_packets: int | None
) -> list[BargeIn]:
    out: list[BargeIn] = []
    c = Citizen(url, lang="en", jitter_packets=jitter_packets)
    await c.connect()
    await c.wait_for(lambda m: m.get("state") == "listening")
    try:
        for i in range(trials):
            _lang, question = material[i % 3]
            _lang, interruption = material[(i + 1) % 3]
            n = len(c.mic.speech_ended_at)
            c.mic.play(question)
            await c.wait_audio_after(await c.mic.speech_ended(n), within=20)
            await asyncio.sleep(1.0)
            k = len(c.mic.speech_started_at)
            seen = len(c.messages)
            c.mic.play(interruption)
            began = await c.mic.speech_started(k)
            await asyncio.sleep(1.2)
            stopped = c.audio_stopped_after(began)
            cancel = next(
                (
                    at
                    for at, m in c.messages[seen:]
                    if m.get("type") == "reply_end" and m.get("reason") == "barge-in"
                ),
                None,
            )
            if cancel is not None:  # a trial whose reply ended before the interruption
                out.append(BargeIn(cancel - began, stopped - began))
            await asyncio.sleep(2.5)  # let the second question's reply start, then move on
            c.send({"type": "interrupt"})
            await asyncio.sleep(0.5)
    finally:
        await c.close()
    return out


def proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds used, RSS MB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    import os

    cpu = ticks / os.sysconf("SC_CLK_TCK")
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return cpu, rss


async def concurrency_run(
    url: str, pid: int, material: list[tuple[str, np.ndarray]], sessions: int, turns_each: int
) -> dict[str, float]:
    rng = random.Random(sessions)
    citizens = [Citizen(url, lang=material[i % len(material)][0]) for i in range(sessions)]
    await asyncio.gather(*(c.connect() for c in citizens))
    await asyncio.gather(
        *(c.wait_for(lambda m: m.get("state") == "listening", within=60) for c in citizens)
    )
    cpu0, _ = proc_stats(pid)
    t0 = time.monotonic()
    peak = [0.0]
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc_stats(pid)[1])
            await asyncio.sleep(0.5)

    async def talk(i: int, c: Citizen) -> list[float]:
        got = []
        await asyncio.sleep(rng.uniform(0, 2))
        for t in range(turns_each):
            lang, pcm = material[(i + t) % len(material)]
            c.send({"type": "lang", "lang": lang})
            dt = await one_turn(c, pcm)
            if dt is not None:
                got.append(dt)
            await asyncio.sleep(rng.uniform(0.2, 1.0))
        return got

    sampler = asyncio.ensure_future(sample())
    results = await asyncio.gather(*(talk(i, c) for i, c in enumerate(citizens)))
    done.set()
    await sampler
    wall = time.monotonic() - t0
    cpu1, _ = proc_stats(pid)
    await asyncio.gather(*(c.close() for c in citizens))
    lat = [x for r in results for x in r]
    return {
        "sessions": sessions,
        "turns": len(lat),
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "cpu": (cpu1 - cpu0) / wall * 100,
        "rss": peak[0],
        "missed": sessions * turns_each - len(lat),
    }


def print_barge_in(barge: dict[int | None, list[BargeIn]]) -> None:
    print("\n| barge-in: from the citizen's speech onset | client jitter buffer | p50 | p95 | n |")
    print("|---|---|---|---|---|")
    for packets, runs in barge.items():
        buffer = f"{packets} packet" if packets else "4 packets (aiortc default)"
        for what, xs in (
            ("server cancels the reply (message arrives)", [r.detected for r in runs]),
            ("reply audio stops arriving", [r.stopped for r in runs]),
        ):
            print(
                f"| {what} | {buffer} | {pct(xs, 50) * 1000:.0f} ms | "
                f"{pct(xs, 95) * 1000:.0f} ms | {len(xs)} |"
            )


async def barge_in_only(trials: int) -> None:
    restrict_ice_addresses(("127.0.0.1",))
    folder = Path(tempfile.mkdtemp(prefix="barge-"))
    material = clips(folder)
    with running_server(folder / "server", "offers_per_second = 50.0\n") as (url, _):
        barge = {n: await barge_in_run(url, material, trials, n) for n in CLIENT_JITTER}
    print_barge_in(barge)


async def main(turns: int, trials: int) -> None:
    restrict_ice_addresses(("127.0.0.1",))
    folder = Path(tempfile.mkdtemp(prefix="v2v-"))
    material = clips(folder)
    fast = "offers_per_second = 50.0\noffer_burst = 200\nmax_active_sessions = 16\n"
    with running_server(folder / "streaming", fast) as (url, proc):
        streaming = await latency_run(url, material, turns)
        barge = {n: await barge_in_run(url, material, trials, n) for n in CLIENT_JITTER}
        levels = []
        for n in (1, 2, 4, 8):
            async with asyncio.timeout(300):
                levels.append(await concurrency_run(url, proc.pid, material, n, 3))
    with running_server(folder / "baseline", fast + "stream_replies = false\n") as (url, _):
        baseline = await latency_run(url, material, turns)

    print(
        f"\nvoice-to-voice over WebRTC (loopback), {len(QUESTIONS)} questions in "
        f"{len({q[0] for q in QUESTIONS})} languages, default models, 2-core CPU\n"
    )
    print("| measure | p50 | p95 | n |")
    print("|---|---|---|---|")
    print(
        f"| end of speech -> first reply audio, streaming | {pct(streaming, 50) * 1000:.0f} ms | "
        f"{pct(streaming, 95) * 1000:.0f} ms | {len(streaming)} |"
    )
    print(
        f"| baseline, no pipelining (STT after end of turn, whole reply first) | "
        f"{pct(baseline, 50) * 1000:.0f} ms"
        f" | {pct(baseline, 95) * 1000:.0f} ms | {len(baseline)} |"
    )
    print(f"| streaming / baseline (p50) | {pct(streaming, 50) / pct(baseline, 50):.2f} | | |")
    print_barge_in(barge)
    print("\n| simultaneous sessions | turns | p50 | p95 | server CPU | server RSS | no reply |")
    print("|---|---|---|---|---|---|---|")
    for r in levels:
        print(
            f"| {r['sessions']:.0f} | {r['turns']:.0f} | {r['p50'] * 1000:.0f} ms | "
            f"{r['p95'] * 1000:.0f} ms | {r['cpu']:.0f}% | {r['rss']:.0f} MB | {r['missed']:.0f} |"
        )
    ok = [r["sessions"] for r in levels if r["p95"] <= 2.0 and r["missed"] == 0]
    print(
        f"\nlargest count with p95 <= 2 s: {max(ok) if ok else 'none'}"
        f" (streaming p50 mean {statistics.fmean(streaming):.2f} s)\n"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--turns", type=int, default=21)
    p.add_argument("--barge-in-trials", type=int, default=20)
    p.add_argument("--barge-in-only", action="store_true", help="skip latency and concurrency")
    a = p.parse_args()
    import os

    os.chdir(ROOT)
    if a.barge_in_only:
        asyncio.run(barge_in_only(a.barge_in_trials))
    else:
        asyncio.run(main(a.turns, a.barge_in_trials))
