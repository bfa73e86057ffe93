"""Load and soak over real WebRTC (loopback), against a real server started here.

    python -m bench.soak --citizens N --minutes M [--max-active K]   # the soak
    python -m bench.soak --knee [--levels 1,2,3,4,6,8]               # latency vs talkers
    python -m bench.soak --idle                                      # idle CPU, memory/session

Soak: N scripted citizens (aiortc, `bench.rtc_client`) connect, staggered; each asks recorded
questions in several languages, waits for the spoken reply (sometimes barges in mid-reply with
the next question), pauses 1-5 s (seeded RNG) and asks again; now and then one leaves and a new
one joins. Sessions beyond `max_active_sessions` are queued by the server. Every minute a row:
sessions active/queued, turns, end of speech -> first reply audio (p50/p95/worst), errors by
kind, the server's RSS, open fds, threads, peer connections, CPU. At the end: resources at the
start vs the end, growth at constant load over the second half, and the queue check (every
queued citizen was told its position, positions only went down, it was admitted from the head
of the queue, none was dropped).

Knee: 1, 2, 3, 4, 6, 8 citizens talking at once (same behaviour, a few turns each, no queue):
latency, server CPU, per-stage server timings (from `/metrics`), CPU per server thread and
py-spy samples of which worker is busy; the largest level with p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.rtc_client import Citizen
from bench.server import BENCH_VAR, ROOT, running_server
from bench.soak_probe import (
    METRICS_TOKEN,
    STAGES,
    Probe,
    Sample,
    StackSampler,
    cpu_by_thread,
    error_counts,
    growth_per_10min,
    memory_map,
    own_cpu,
    proc_sample,
    stage_means,
    thread_cpu,
)
from voice_agent.transports.rtc.manager import restrict_ice_addresses

QUESTIONS = [  # (lang, text) as citizens say them: FAQ questions, one the FAQ does not cover
    ("en", "Where do I get a tax number in Portugal?"),
    ("en", "How do I renew my residence permit?"),
    ("en", "How do I register a company?"),
    ("pt", "Qual é o número da linha SNS 24?"),
    ("pt", "Como é que peço o número de utente?"),
    ("es", "¿Dónde me puedo inscribir para buscar trabajo?"),
    ("fr", "Comment échanger mon permis de conduire?"),
    ("de", "Wie bekomme ich einen Hausarzt?"),
    ("uk", "Як отримати номер платника податків?"),
    ("ro", "Cum mă înscriu la un curs de limba portugheză?"),
]
NO_REPLY_S = 20.0  # no reply audio this long after the end of speech: an error
REPLY_END_S = 90.0  # a reply still not over after this long: an error
SAMPLE_S = 10.0  # resource samples; a table row every minute
P95_LIMIT_S = 2.0

Material = list[tuple[str, np.ndarray]]


def clips(folder: Path) -> Material:
    """The questions as 16 kHz audio, kept in `folder` under names stable across runs
    (`spoken` names its files by Python's per-process string hash)."""
    import hashlib
    import shutil
    import tempfile

    from tests.rtc.conftest import spoken
    from voice_agent.speech_in.audio import decode_audio

    folder.mkdir(parents=True, exist_ok=True)
    out: Material = []
    for lang, text in QUESTIONS:
        wav = folder / f"{lang}-{hashlib.sha1(text.encode()).hexdigest()[:12]}.wav"
        if not wav.exists():
            with tempfile.TemporaryDirectory() as tmp:
                spoken(text, lang, Path(tmp))
                shutil.move(next(Path(tmp).glob("*.wav")), wav)
        out.append((lang, decode_audio(wav, max_seconds=60).samples))
    return out


def settings_for(
    max_active: int, reply_cache: bool = True, session_idle: float = 0, background: bool = True
) -> str:
    """The bench server's settings (appended to its [server] table). `background`: the server
    fills the rest of the reply-audio cache meanwhile (a freshly installed box)."""
    return (
        f"offers_per_second = 50.0\noffer_burst = 200\nmax_active_sessions = {max_active}\n"
        + (f"session_idle_seconds = {session_idle}\n" if session_idle else "")
        + f'[console]\nmetrics_token = "{METRICS_TOKEN}"\n'
        + ("" if reply_cache else "[tts]\nreply_cache = false\n")
        + ("" if background or not reply_cache else "[tts]\nreply_cache_background = false\n")
    )


def executor_threads() -> int:
    """Threads asyncio's default executor may start and then keep: min(32, cores + 4). After a
    busy moment the server holds up to this many more threads than when idle, bounded; a leak
    grows with sessions instead."""
    return min(32, (os.cpu_count() or 1) + 4)


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def ms(x: float) -> str:
    return "-" if x != x else f"{x * 1000:.0f}"  # NaN: no turn


# --- what happened ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Turn:
    at: float  # end of the citizen's speech (monotonic)
    latency: float | None  # -> first reply audio; None: no reply within NO_REPLY_S
    lang: str
    barge_in: bool  # this question interrupted the previous reply


@dataclass
class Visit:
    """One connection of one citizen, from the offer to leaving."""

    slot: int
    opened: float
    positions: list[tuple[float, int | None]] = field(default_factory=list)
    admitted: float | None = None
    ended: float | None = None
    how: str = ""  # left | closed by server: <reason> | connection dropped | connect failed
    answered: int = 0


@dataclass
class Tally:
    turns: list[Turn] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors.append((time.monotonic(), kind))

    def window(self, a: float, b: float) -> tuple[list[float], int, Counter[str]]:
        lat = [t.latency for t in self.turns if a <= t.at < b and t.latency is not None]
        n = sum(1 for t in self.turns if a <= t.at < b)
        return lat, n, Counter(k for at, k in self.errors if a <= at < b)


@dataclass
class SoakCitizen(Citizen):
    """A `Citizen` that reports what the server tells it (queue positions, admission, error
    messages, the server closing it) and a connection that drops while it did not leave."""

    tally: Tally = field(default_factory=Tally)
    visit: Visit = field(default_factory=lambda: Visit(-1, 0.0))
    leaving: bool = False
    told_closed: bool = False

    def _on_message(self, raw: str) -> None:
        super()._on_message(raw)
        now, m = self.messages[-1]
        kind = m.get("type")
        if kind == "state" and m.get("state") == "queued":
            self.visit.positions.append((now, m.get("position")))
        elif kind == "state" and m.get("state") == "listening" and self.visit.admitted is None:
            self.visit.admitted = now
        elif kind == "error":
            self.tally.error(f"error message: {m.get('code')}")
        elif kind == "closed" and not self.leaving:
            self.told_closed = True
            queued = " while queued" if self.visit.admitted is None else ""
            self.visit.how = f"closed by server{queued}: {m.get('reason')}"
            self.tally.error(self.visit.how)

    async def connect(self, within: float = 20) -> None:
        await super().connect(within)
        assert self.pc is not None
        pc = self.pc

        @pc.on("connectionstatechange")
        def changed() -> None:
            ended = pc.connectionState in ("failed", "closed")
            if ended and not (self.leaving or self.told_closed or self.visit.how):
                self.visit.how = "connection dropped"
                self.tally.error("connection dropped")

    @property
    def gone(self) -> bool:
        return self.told_closed or self.visit.how == "connection dropped"


# --- one citizen ---------------------------------------------------------------------------
async def ask(c: SoakCitizen, pcm: np.ndarray, lang: str, barge_in: bool) -> float | None:
    """Speak a question; the arrival of the first reply audio after its end (None: none)."""
    n = len(c.mic.speech_ended_at)
    c.mic.play(pcm)
    try:  # the microphone stops being read if the connection ends
        spoke = await asyncio.wait_for(c.mic.speech_ended(n), len(pcm) / 16_000 + 10)
    except TimeoutError:
        return None
    try:
        first = await c.wait_audio_after(spoke, within=NO_REPLY_S)
    except TimeoutError:
        if not c.gone:
            c.tally.turns.append(Turn(spoke, None, lang, barge_in))
            c.tally.error("no reply within 20 s")
        return None
    c.tally.turns.append(Turn(spoke, first - spoke, lang, barge_in))
    c.visit.answered += 1
    return first


async def converse(
    c: SoakCitizen,
    rng: random.Random,
    material: Material,
    until: float,
    barge_p: float,
    questions: int | None = None,
) -> None:
    """Ask, listen (or barge in with the next question), pause 1-5 s; until `until` or after
    `questions` questions."""
    barge_in = False
    asked = 0
    while time.monotonic() < until and not c.gone and (questions is None or asked < questions):
        asked += 1
        lang, pcm = rng.choice(material)
        first = await ask(c, pcm, lang, barge_in)
        barge_in = first is not None and rng.random() < barge_p
        if barge_in:
            await asyncio.sleep(rng.uniform(0.5, 2.5))  # then speak over the reply
            continue
        if first is not None:
            since = sum(1 for at, _m in c.messages if at <= first)
            try:  # the reply played to the end (or the server stopped it)
                await c.wait_for(
                    lambda m: m.get("state") == "listening" or m.get("type") == "closed",
                    within=REPLY_END_S,
                    since=since,
                )
            except TimeoutError:
                c.tally.error(f"reply not over within {REPLY_END_S:.0f} s")
        await asyncio.sleep(rng.uniform(1.0, 5.0))


async def admitted(c: SoakCitizen, until: float) -> bool:
    """Wait to be told 'listening' (queued first, perhaps); False if the soak ended first or
    the server closed the session."""
    try:
        await c.wait_for(
            lambda m: m.get("state") == "listening" or m.get("type") == "closed",
            within=max(1.0, until - time.monotonic()),
        )
    except TimeoutError:
        return False
    return c.visit.admitted is not None


async def citizen_slot(
    slot: int,
    url: str,
    material: Material,
    tally: Tally,
    until: float,
    *,
    seed: int,
    stay: tuple[float, float],
    rejoin: tuple[float, float],
    start_after: float,
    barge_p: float,
) -> None:
    """One kiosk: a citizen comes, converses for `stay` s, leaves; another comes; ..."""
    rng = random.Random(seed)
    await asyncio.sleep(start_after)
    while time.monotonic() < until:
        visit = Visit(slot, time.monotonic())
        tally.visits.append(visit)
        c = SoakCitizen(url, tally=tally, visit=visit)
        try:
            await c.connect()
            if await admitted(c, until):
                stay_until = min(until, time.monotonic() + rng.uniform(*stay))
                await converse(c, rng, material, stay_until, barge_p)
            elif not visit.how:
                visit.how = "still queued at the end"
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            visit.how = "connect failed"
            tally.error(f"connect failed: {type(exc).__name__}")
        finally:
            c.leaving = True
            visit.how = visit.how or "left"
            visit.ended = time.monotonic()
            await c.close()
        await asyncio.sleep(rng.uniform(*rejoin))


async def run_citizens(
    url: str,
    material: Material,
    tally: Tally,
    n: int,
    until: float,
    seed: int,
    stay: tuple[float, float],
    rejoin: tuple[float, float],
    stagger: float,
    barge_p: float,
) -> None:
    await asyncio.gather(
        *(
            citizen_slot(
                i,
                url,
                material,
                tally,
                until,
                seed=seed * 1000 + i,
                stay=stay,
                rejoin=rejoin,
                start_after=i * stagger,
                barge_p=barge_p,
            )
            for i in range(n)
        )
    )


# --- the soak ------------------------------------------------------------------------------
@dataclass
class SoakResult:
    tally: Tally
    samples: list[Sample]  # every SAMPLE_S under load
    idle: Sample  # before any citizen (after one warm-up turn)
    after: Sample  # once everyone left and the server settled
    server_errors: Counter[str]
    queue: dict[str, Any]
    growth: dict[str, float]  # per 10 min at constant load, over the second half
    seconds: float
    memory: list[tuple[str, dict[str, float]]]  # (minute, memory_map) once a minute


def row(
    minute: str, s: Sample, lat: list[float], n: int, errs: Counter[str], cpu: float, client: float
) -> str:
    e = ", ".join(f"{k} {v}" for k, v in sorted(errs.items())) or "0"
    return (
        f"| {minute} | {s.active}/{s.queued} | {n} | {ms(pct(lat, 50))} | {ms(pct(lat, 95))} | "
        f"{ms(max(lat) if lat else float('nan'))} | {e} | {s.rss_mb:.0f} | {s.fds} | "
        f"{s.threads} | {s.pcs} | {cpu:.0f}% | {client:.0f}% |"
    )


async def watch(
    probe: Probe,
    tally: Tally,
    done: asyncio.Event,
    samples: list[Sample],
    out: list[str],
    memory: list[tuple[str, dict[str, float]]],
) -> None:
    """A resource sample every SAMPLE_S; a table row and a memory map every minute."""
    print(
        "\n| min | active/queued | turns | p50 ms | p95 ms | worst ms | errors | RSS MB | fds "
        "| threads | peer conns | server CPU | client CPU |\n|---|---|---|---|---|---|---|---|---"
        "|---|---|---|---|",
        flush=True,
    )
    t0 = time.monotonic()
    minute_start, client0 = await probe.sample(t0), own_cpu()
    samples.append(minute_start)
    k = 0
    while not done.is_set():
        k += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), max(0.0, t0 + k * SAMPLE_S - time.monotonic()))
        s = await probe.sample(time.monotonic())
        samples.append(s)
        if k % round(60 / SAMPLE_S) == 0 or done.is_set():
            wall = s.t - minute_start.t
            lat, n, errs = tally.window(minute_start.t, s.t)
            line = row(
                "end" if done.is_set() else str(round((s.t - t0) / 60)),
                s,
                lat,
                n,
                errs,
                (s.cpu_s - minute_start.cpu_s) / wall * 100,
                (own_cpu() - client0) / wall * 100,
            )
            out.append(line)
            print(line, flush=True)
            memory.append((line.split("|")[1].strip(), memory_map(probe.pid)))
            minute_start, client0 = s, own_cpu()


async def settle(probe: Probe, within: float = 60) -> Sample:
    """The server once every closed session has finished closing."""
    deadline = time.monotonic() + within
    s = await probe.sample(time.monotonic())
    while time.monotonic() < deadline and (s.sessions or s.pcs):
        await asyncio.sleep(1.0)
        s = await probe.sample(time.monotonic())
    await asyncio.sleep(3.0)  # peer connections' timers, transports
    return await probe.sample(time.monotonic())


async def warm_up(url: str, material: Material) -> None:
    """One spoken turn, so thread pools that start with the first session (and then stay)
    count in the baseline."""
    c = Citizen(url)
    try:
        await c.connect()
        await c.wait_for(lambda m: m.get("state") == "listening", within=600)
        n = len(c.mic.speech_ended_at)
        c.mic.play(material[0][1])
        await c.wait_audio_after(await c.mic.speech_ended(n), within=120)
    finally:
        await c.close()


def queue_check(visits: list[Visit]) -> dict[str, Any]:
    """Every queued citizen saw a position, positions only went down, each was admitted when
    it had been told it was first, none was dropped while queued; and admission order."""
    queued = [v for v in visits if v.positions]
    told = [v for v in queued if all(p is not None and p >= 1 for _t, p in v.positions)]
    down = [
        v
        for v in queued
        if all(
            b <= a
            for (_s, a), (_t, b) in zip(v.positions, v.positions[1:], strict=False)
            if a is not None and b is not None
        )
    ]
    served = [v for v in queued if v.admitted is not None]
    head = [v for v in served if v.positions[-1][1] == 1]
    dropped = [v for v in queued if v.admitted is None and v.how != "still queued at the end"]
    by_join = sorted(served, key=lambda v: v.positions[0][0])
    inversions = sum(
        1
        for i, a in enumerate(by_join)
        for b in by_join[i + 1 :]
        if b.positions[0][0] - a.positions[0][0] > 1.0 and (b.admitted or 0) < (a.admitted or 0)
    )
    waits = [(v.admitted or 0) - v.positions[0][0] for v in served]
    return {
        "queued": len(queued),
        "told_position": len(told),
        "positions_only_down": len(down),
        "admitted": len(served),
        "admitted_from_head": len(head),
        "order_inversions": inversions,
        "dropped_while_queued": [v.how for v in dropped],
        "still_queued_at_end": sum(1 for v in queued if v.how == "still queued at the end"),
        "longest_wait_s": max(waits) if waits else 0.0,
        "ok": len(told) == len(down) == len(queued)
        and len(head) == len(served)
        and not dropped
        and inversions == 0,
    }


async def soak(
    url: str,
    pid: int,
    material: Material,
    citizens: int,
    seconds: float,
    *,
    seed: int = 1,
    stay: tuple[float, float] = (60.0, 240.0),
    rejoin: tuple[float, float] = (3.0, 15.0),
    stagger: float = 2.0,
    barge_p: float = 0.25,
) -> SoakResult:
    probe = Probe(url, pid)
    try:
        await warm_up(url, material)
        idle = await settle(probe)
        m0 = await probe.metrics()
        tally, samples, rows = Tally(), list[Sample](), list[str]()
        memory: list[tuple[str, dict[str, float]]] = [("idle", memory_map(pid))]
        done = asyncio.Event()
        watcher = asyncio.ensure_future(watch(probe, tally, done, samples, rows, memory))
        start = time.monotonic()
        until = start + seconds
        try:
            await run_citizens(
                url, material, tally, citizens, until, seed, stay, rejoin, stagger, barge_p
            )
        finally:
            done.set()
            await watcher
        after = await settle(probe)
        memory.append(("after all left", memory_map(pid)))
        server_errors = error_counts(m0, await probe.metrics())
    finally:
        await probe.close()
    loaded = [s for s in samples if s.t <= until + SAMPLE_S / 2]
    half = [s for s in loaded if s.t >= start + seconds / 2]
    growth = {w: growth_per_10min(half, w) for w in ("rss_mb", "fds", "threads", "tasks")}
    return SoakResult(
        tally,
        loaded,
        idle,
        after,
        server_errors,
        queue_check(tally.visits),
        growth,
        seconds,
        memory,
    )


GROWTH_LIMITS = {"rss_mb": 20.0, "fds": 4.0, "threads": 2.0, "tasks": 10.0}  # per 10 min
MIN_GROWTH_S = 600.0  # shorter soaks: growth is printed, not judged


def print_summary(r: SoakResult) -> bool:
    s = r.samples
    peak = {w: max(getattr(x, w) for x in s) for w in ("rss_mb", "fds", "threads", "tasks", "pcs")}
    print("\n| resource | idle before | first minute | last minute | peak | after all left |")
    print("|---|---|---|---|---|---|")
    first = s[min(len(s) - 1, round(60 / SAMPLE_S))]
    for w, label in (
        ("rss_mb", "RSS MB"),
        ("fds", "open fds"),
        ("threads", "threads"),
        ("tasks", "asyncio tasks"),
        ("pcs", "peer connections"),
    ):
        vals = [getattr(x, w) for x in (r.idle, first, s[-1])]
        print(
            f"| {label} | "
            + " | ".join(f"{v:.0f}" for v in vals)
            + f" | {peak[w]:.0f} | {getattr(r.after, w):.0f} |"
        )
    print("\n| minute | heap MB | anon MB | anon mappings | model files MB | libraries MB |")
    print("|---|---|---|---|---|---|")
    for minute, m in r.memory:
        print(
            f"| {minute} | {m['heap']:.0f} | {m['anon']:.0f} | {m['anon_maps']:.0f} | "
            f"{m['models']:.0f} | {m['libs']:.0f} |"
        )
    lat = [t.latency for t in r.tally.turns if t.latency is not None]
    errs = Counter(k for _t, k in r.tally.errors)
    print(
        f"\nturns {len(r.tally.turns)} (barge-ins {sum(t.barge_in for t in r.tally.turns)}), "
        f"end of speech -> first audio p50 {ms(pct(lat, 50))} ms, p95 {ms(pct(lat, 95))} ms, "
        f"worst {ms(max(lat) if lat else float('nan'))} ms"
    )
    langs = sorted({t.lang for t in r.tally.turns})
    print(
        "per language, p50/p95 ms: "
        + ", ".join(
            f"{g} {ms(pct(x, 50))}/{ms(pct(x, 95))} (n={len(x)})"
            for g in langs
            for x in [[t.latency for t in r.tally.turns if t.lang == g and t.latency is not None]]
        )
    )
    print(
        f"client-side errors: {dict(errs) or 'none'}; server bus errors: "
        f"{dict(r.server_errors) or 'none'}"
    )
    judged = r.seconds >= MIN_GROWTH_S
    grows = {w: g for w, g in r.growth.items() if g > GROWTH_LIMITS[w]} if judged else {}
    print(
        "growth at constant load, second half (per 10 min): "
        + ", ".join(f"{w} {g:+.1f} (limit {GROWTH_LIMITS[w]:.0f})" for w, g in r.growth.items())
        + (
            ""
            if judged
            else f" -- not judged: a soak under {MIN_GROWTH_S / 60:.0f} min is too "
            "short (lazily loaded voices, the reply-audio prefill)"
        )
    )
    back = (
        r.after.sessions == 0
        and r.after.pcs == 0
        and r.after.threads <= r.idle.threads + executor_threads()
        and r.after.fds <= r.idle.fds + 4
    )
    print(
        f"verdict: {'nothing grows' if not grows else 'GROWS: ' + ', '.join(grows)}; "
        f"after all left: {'back to idle' if back else 'NOT back to idle'}"
    )
    q = r.queue
    print(
        f"queue: {q['queued']} queued visits; told a position {q['told_position']}, "
        f"positions only went down {q['positions_only_down']}, admitted {q['admitted']} "
        f"(from the head {q['admitted_from_head']}, order inversions {q['order_inversions']},"
        f" longest wait {q['longest_wait_s']:.0f} s), still queued at the end "
        f"{q['still_queued_at_end']}, dropped while queued: {q['dropped_while_queued'] or 0}"
        f" -> {'OK' if q['ok'] else 'FAILED'}"
    )
    return not grows and back and q["ok"] and not errs


# --- the knee ------------------------------------------------------------------------------
@dataclass
class Level:
    talkers: int
    latencies: list[float]
    missed: int
    cpu: float  # server, % of one core
    client_cpu: float
    stages: dict[str, float]
    threads: list[tuple[str, float]]  # CPU % per server thread
    busy: list[tuple[str, float, str]]  # py-spy: busy share per thread


async def knee_level(
    url: str, pid: int, material: Material, talkers: int, turns: int, spy_every: float
) -> Level:
    probe = Probe(url, pid)
    tally = Tally()
    sampler = StackSampler(pid, spy_every)
    stop = asyncio.Event()
    spying = asyncio.ensure_future(sampler.run(stop)) if spy_every > 0 else None

    async def talker(i: int) -> None:
        rng = random.Random(talkers * 100 + i)
        await asyncio.sleep(rng.uniform(0, 2))
        c = SoakCitizen(url, tally=tally, visit=Visit(i, time.monotonic()))
        try:
            await c.connect()
            await c.wait_for(lambda m: m.get("state") == "listening", within=30)
            await converse(c, rng, material, time.monotonic() + 600, 0.25, questions=turns)
        finally:
            c.leaving = True
            await c.close()

    m0, cpu0, client0, t0 = await probe.metrics(), proc_sample(pid)[0], own_cpu(), time.monotonic()
    threads0 = thread_cpu(pid)
    try:
        await asyncio.gather(*(talker(i) for i in range(talkers)))
    finally:
        stop.set()
        if spying is not None:
            await spying
    wall = time.monotonic() - t0
    threads1, cpu1, client1 = thread_cpu(pid), proc_sample(pid)[0], own_cpu()
    await asyncio.sleep(2.0)  # the last turns' metrics reach the bus observer
    stages = stage_means(m0, await probe.metrics())
    await settle(probe)
    await probe.close()
    lat = [t.latency for t in tally.turns if t.latency is not None]
    return Level(
        talkers,
        lat,
        sum(1 for t in tally.turns if t.latency is None),
        (cpu1 - cpu0) / wall * 100,
        (client1 - client0) / wall * 100,
        stages,
        cpu_by_thread(threads0, threads1, sampler.names, wall)[:6],
        sampler.table(),
    )


def print_knee(levels: list[Level]) -> None:
    print(
        "\n| talkers | turns | p50 ms | p95 ms | worst ms | no reply | server CPU | client CPU "
        "| " + " | ".join(f"{s} ms (server mean)" for s in STAGES) + " |"
    )
    print("|---" * (8 + len(STAGES)) + "|")
    for lv in levels:
        lat = lv.latencies
        print(
            f"| {lv.talkers} | {len(lat)} | {ms(pct(lat, 50))} | {ms(pct(lat, 95))} | "
            f"{ms(max(lat) if lat else float('nan'))} | {lv.missed} | {lv.cpu:.0f}% | "
            f"{lv.client_cpu:.0f}% | "
            + " | ".join("-" if v != v else f"{v:.0f}" for v in lv.stages.values())
            + " |"
        )
    print("\nCPU per server thread (% of a core) and py-spy busy share (what it did):")
    for lv in levels:
        cpu = ", ".join(f"{n} {c:.0f}%" for n, c in lv.threads)
        busy = ", ".join(f"{n} {b:.0%} ({w})" for n, b, w in lv.busy)
        print(f"  {lv.talkers} talkers: CPU {cpu}\n      busy: {busy or 'n/a'}")
    ok = [
        lv.talkers
        for lv in levels
        if lv.latencies and pct(lv.latencies, 95) <= P95_LIMIT_S and lv.missed == 0
    ]
    print(
        f"\nknee: largest level with p95 <= {P95_LIMIT_S:.0f} s and every turn answered: "
        f"{max(ok) if ok else 'none'}"
    )


# --- idle ----------------------------------------------------------------------------------
async def idle_and_memory(
    url: str, pid: int, material: Material, seconds: float, sessions: int
) -> None:
    probe = Probe(url, pid)
    await warm_up(url, material)
    s0 = await settle(probe)
    cpu0, t0 = proc_sample(pid)[0], time.monotonic()
    await asyncio.sleep(seconds)
    s1 = await probe.sample(time.monotonic())
    idle_cpu = (s1.cpu_s - cpu0) / (time.monotonic() - t0) * 100
    prefill = (await probe.health()).get("tts", {}).get("reply_audio")
    citizens = [Citizen(url) for _ in range(sessions)]
    for c in citizens:
        await c.connect()
    await asyncio.gather(*(c.wait_for(lambda m: m.get("state") == "listening") for c in citizens))
    await asyncio.sleep(10.0)
    a = await probe.sample(time.monotonic())
    await asyncio.sleep(20.0)
    b = await probe.sample(time.monotonic())
    names = await StackSampler(pid).thread_names()
    for c in citizens:
        await c.close()
    after = await settle(probe)
    await probe.close()
    print(
        f"\nidle server, no session, {seconds:.0f} s: {idle_cpu:.2f}% of one core "
        f"(reply-audio prefill: {prefill})"
    )
    print(
        f"{sessions} connected idle sessions: CPU {(b.cpu_s - a.cpu_s) / (b.t - a.t) * 100:.1f}%"
        f" of one core"
    )
    print(
        f"server threads with {sessions} sessions: "
        + ", ".join(f"{n} {k}" for n, k in names.most_common())
    )
    print("| | 0 sessions | " + f"{sessions} sessions | per session | after they left |")
    print("|---|---|---|---|---|")
    for w, label in (
        ("rss_mb", "RSS MB"),
        ("fds", "open fds"),
        ("threads", "threads"),
        ("tasks", "asyncio tasks"),
    ):
        x0, x1, x2 = getattr(s0, w), getattr(b, w), getattr(after, w)
        print(f"| {label} | {x0:.0f} | {x1:.0f} | {(x1 - x0) / sessions:.1f} | {x2:.0f} |")


# --- command line --------------------------------------------------------------------------
def prefill(material: Material, folder: Path) -> None:
    """Reply audio for the entries the soak's questions get, made before the server starts, as
    on a box whose cache is complete (a fresh box fills all 20 languages in the background for
    an hour or more, and meanwhile every reply is synthesised live: `--cold-cache`)."""
    from bench.latency import answered_by, fill

    by_lang: dict[str, list[np.ndarray]] = {}
    for lang, pcm in material:
        by_lang.setdefault(lang, []).append(pcm)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "fill.toml"
    cfg.write_text(f'var_dir = "{BENCH_VAR}"\n', encoding="utf-8")
    fill(cfg, sorted(by_lang), answered_by(cfg, by_lang, folder))


async def main(a: argparse.Namespace) -> None:
    restrict_ice_addresses(("127.0.0.1",))
    folder = Path(a.folder)
    material = clips(ROOT / "var" / "soak-clips")
    if a.langs:
        keep = set(a.langs.split(","))
        material = [m for m, (lang, _) in zip(material, QUESTIONS, strict=True) if lang in keep]
    max_active = 16 if a.knee or a.idle else a.max_active
    config = settings_for(max_active, not a.no_reply_cache, a.session_idle, a.cold_cache)
    env = dict(kv.split("=", 1) for kv in a.env)
    if not a.cold_cache and not a.no_reply_cache:
        prefill(material, folder)
    with running_server(folder / "server", config, env=env) as (url, proc):
        async with httpx.AsyncClient(timeout=10) as http:
            h = (await http.get(f"{url}/healthz")).json()
        print(
            f"server pid {proc.pid}, max_active_sessions {max_active or 'one per core'}, "
            f"reply-audio prefill {h['tts'].get('reply_audio')}, env {env or 'as is'}",
            flush=True,
        )
        if a.idle:
            await idle_and_memory(url, proc.pid, material, a.idle_seconds, 8)
        elif a.knee:
            await warm_up(url, material)
            levels = []
            for n in (int(x) for x in a.levels.split(",")):
                levels.append(await knee_level(url, proc.pid, material, n, a.turns, a.spy_every))
                lv = levels[-1]
                print(
                    f"  {n} talkers: p95 {ms(pct(lv.latencies, 95))} ms, CPU {lv.cpu:.0f}%",
                    flush=True,
                )
            print_knee(levels)
        else:
            r = await soak(url, proc.pid, material, a.citizens, a.minutes * 60, seed=a.seed)
            alive = proc.poll() is None
            ok = print_summary(r) and alive
            print(
                f"server {'still running' if alive else 'CRASHED'}; soak "
                f"{'PASSED' if ok else 'FAILED'}"
            )


if __name__ == "__main__":
    import tempfile

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--citizens", type=int, default=6)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--max-active", type=int, default=0, help="0: one per CPU core")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--cold-cache",
        action="store_true",
        help="do not make the soak's reply audio first, and let the server fill its cache in "
        "the background meanwhile (a freshly installed box)",
    )
    p.add_argument("--knee", action="store_true")
    p.add_argument("--levels", default="1,2,3,4,6,8")
    p.add_argument("--turns", type=int, default=4, help="--knee: turns per talker")
    p.add_argument(
        "--spy-every", type=float, default=2.0, help="--knee: py-spy dump every S s (0: off)"
    )
    p.add_argument(
        "--langs", default="", help="only these question languages, e.g. en,de,uk (fast voices)"
    )
    p.add_argument("--idle", action="store_true", help="idle CPU and memory per session")
    p.add_argument(
        "--session-idle", type=float, default=0, help="server session_idle_seconds (0: default)"
    )
    p.add_argument("--idle-seconds", type=float, default=60.0)
    p.add_argument("--no-reply-cache", action="store_true", help="[tts] reply_cache = false")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for the server, e.g. MALLOC_ARENA_MAX=2 (repeatable)",
    )
    p.add_argument("--folder", default=tempfile.mkdtemp(prefix="soak-"))
    args = p.parse_args()
    os.chdir(ROOT)
    asyncio.run(main(args))
