"""What the soak bench reads from a running server: its process (/proc), `/healthz`,
`/metrics` (per-stage latency histograms), and optionally py-spy stack samples showing which
worker thread is busy. Plus the growth fit used for the "nothing grows" verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

METRICS_TOKEN = "soak-bench-metrics"  # the bench server's [console] metrics_token
STAGES = ("stt", "lid", "retrieval", "first_audio")
_CLK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid: int) -> tuple[float, float, int, int]:
    """(CPU seconds used, RSS MB, open fds, threads) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _CLK
    rss, threads = 0.0, 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return cpu, rss, len(os.listdir(f"/proc/{pid}/fd")), threads


def memory_map(pid: int) -> dict[str, float]:
    """Resident MB of a process by kind of mapping, from /proc/PID/smaps: the brk heap,
    anonymous mappings (glibc's per-thread malloc arenas, onnxruntime's and CTranslate2's
    allocations, Python's object arenas), model files mapped from disk, shared libraries, the
    rest; and how many anonymous mappings there are. A leak of Python objects or of a native
    library grows "anon"/"heap"; more arenas add mappings."""
    out = {"heap": 0.0, "anon": 0.0, "models": 0.0, "libs": 0.0, "other": 0.0, "anon_maps": 0.0}
    kind = "other"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and not head[0].endswith(":"):  # a mapping's first line
            path = head[5] if len(head) > 5 else ""
            if path == "[heap]":
                kind = "heap"
            elif not path:
                kind = "anon"
                out["anon_maps"] += 1
            elif "/models/" in path or path.endswith((".onnx", ".gguf", ".bin")):
                kind = "models"
            elif ".so" in path:
                kind = "libs"
            else:
                kind = "other"
        elif head[0] == "Rss:":
            out[kind] += int(head[1]) / 1024
    return out


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds used so far by each thread of a process."""
    out: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / _CLK
    return out


def own_cpu() -> float:
    """CPU seconds used by this (client) process."""
    t = os.times()
    return t.user + t.system


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # monotonic
    cpu_s: float
    rss_mb: float
    fds: int
    threads: int
    sessions: int  # connected, active or queued
    queued: int
    pcs: int  # peer connections
    tasks: int  # asyncio tasks

    @property
    def active(self) -> int:
        return self.sessions - self.queued


class Probe:
    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self._http = httpx.AsyncClient(timeout=10)

    async def health(self) -> dict[str, Any]:
        r = await self._http.get(f"{self.url}/healthz")
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    async def sample(self, t: float) -> Sample:
        h = await self.health()
        cpu, rss, fds, threads = proc_sample(self.pid)
        return Sample(
            t, cpu, rss, fds, threads, h["sessions"], h["queued"], h["peer_connections"], h["tasks"]
        )

    async def metrics(self) -> dict[str, float]:
        """`/metrics` as {'name{labels}': value}."""
        return await scrape(self._http, self.url)

    async def close(self) -> None:
        await self._http.aclose()


async def scrape(http: httpx.AsyncClient, url: str) -> dict[str, float]:
    """A bench server's `/metrics` as {'name{labels}': value}."""
    r = await http.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    r.raise_for_status()
    out: dict[str, float] = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def stage_means(
    before: dict[str, float], after: dict[str, float], stages: tuple[str, ...] = STAGES
) -> dict[str, float]:
    """Mean server-side latency (ms) per stage over the turns finished between two scrapes."""
    out: dict[str, float] = {}
    for stage in stages:
        count = f'voice_agent_stage_latency_seconds_count{{stage="{stage}"}}'
        total = f'voice_agent_stage_latency_seconds_sum{{stage="{stage}"}}'
        n = after.get(count, 0) - before.get(count, 0)
        s = after.get(total, 0) - before.get(total, 0)
        out[stage] = s / n * 1000 if n else float("nan")
    return out


def counted(
    before: dict[str, float], after: dict[str, float], family: str, label: str
) -> Counter[str]:
    """A labelled counter's increase between two scrapes, by label value."""
    out: Counter[str] = Counter()
    for key, value in after.items():
        m = re.fullmatch(rf'{family}\{{{label}="(.*)"\}}', key)
        if m and value > before.get(key, 0):
            out[m.group(1)] = int(value - before.get(key, 0))
    return out


def error_counts(before: dict[str, float], after: dict[str, float]) -> Counter[str]:
    """Errors the server reported on its bus between two scrapes, by kind."""
    return counted(before, after, "voice_agent_errors_total", "kind")


def growth_per_10min(samples: list[Sample], what: str) -> float:
    """How much `what` grows per 10 minutes at constant load: least squares on
    [1, sessions, peer connections, time], so sessions coming and going are not growth."""
    if len(samples) < 4:
        return float("nan")
    t0 = samples[0].t
    x = np.array([[1.0, s.sessions, s.pcs, (s.t - t0) / 600] for s in samples])
    y = np.array([float(getattr(s, what)) for s in samples])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return float(coef[3])


@dataclass
class StackSampler:
    """py-spy dumps of the server every `every` s: the share of dumps in which each worker
    thread (model workers, executors) was inside a work item, i.e. busy, and what it was doing
    then (the innermost voice_agent frame). A worker busy in nearly every dump is the queue
    the other sessions wait in (one thread per model: its executor is the lock)."""

    pid: int
    every: float = 2.0
    dumps: int = 0
    busy: Counter[str] = field(default_factory=Counter)
    doing: dict[str, Counter[str]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # native thread id -> name

    @staticmethod
    def available() -> str | None:
        here = Path(sys.executable).parent / "py-spy"
        return str(here) if here.exists() else shutil.which("py-spy")

    async def run(self, stop: asyncio.Event) -> None:
        exe = self.available()
        if exe is None:
            return
        while not stop.is_set():
            await self.dump_once(exe)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)

    async def dump_once(self, exe: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            exe,
            "dump",
            "--nonblocking",
            "--pid",
            str(self.pid),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await proc.communicate()
        self.read(out.decode("utf-8", "replace"))

    async def thread_names(self) -> Counter[str]:
        """Threads of the server by name now; those Python does not know count as native."""
        exe = self.available()
        if exe is not None:
            self.names.clear()
            await self.dump_once(exe)
        tids = [int(t) for t in os.listdir(f"/proc/{self.pid}/task")]
        return Counter(self.names.get(t, "native") for t in tids)

    def read(self, dump: str) -> None:
        threads = re.split(r"^Thread ", dump, flags=re.M)[1:]
        if not threads:
            return
        self.dumps += 1
        for block in threads:
            head, *frames = block.splitlines()
            m = re.match(r'(?:0x)?([0-9a-fA-F]+) \((\w+)\)(?:: "(.*)")?', head)
            if m is None:
                continue
            name = re.sub(r"_\d+$", "", m.group(3) or "?")
            self.names[int(m.group(1), 16 if head.startswith("0x") else 10)] = name
            frames = [f.strip() for f in frames if f.strip()]
            # the event loop (uvloop: its idle wait is native code, and a non-blocking dump's
            # active/idle flag is unreliable) is measured by its CPU time instead
            if any(f.startswith("_WorkItem.run") for f in frames):
                self.busy[name] += 1
                ours = next(
                    (f for f in frames if "voice_agent/" in f), frames[0] if frames else "?"
                )
                self.doing.setdefault(name, Counter())[ours.split(" (")[0]] += 1

    def table(self, top: int = 6) -> list[tuple[str, float, str]]:
        """(thread, busy share, what it mostly did) for the busiest threads."""
        rows = []
        for name, n in self.busy.most_common(top):
            what = self.doing[name].most_common(1)[0][0] if name in self.doing else ""
            rows.append((name, n / max(1, self.dumps), what))
        return rows


def cpu_by_thread(
    before: dict[int, float], after: dict[int, float], names: dict[int, str], wall: float
) -> list[tuple[str, float]]:
    """% of a core per thread name over an interval; threads py-spy does not know (native
    pools of onnxruntime / CTranslate2 / Opus) are summed as "native"."""
    per: dict[str, float] = {}
    for tid, cpu in after.items():
        used = cpu - before.get(tid, 0.0)
        if used > 0:
            name = names.get(tid, "native")
            per[name] = per.get(name, 0.0) + used / wall * 100
    return sorted(per.items(), key=lambda kv: -kv[1])
