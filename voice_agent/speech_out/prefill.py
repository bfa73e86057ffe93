"""Filling the reply-audio cache in the background, without slowing anyone's turn.

The filler has its own worker thread at the lowest CPU priority (nice 19) with its own voices
(a one-thread Kokoro session), so it never queues in front of a live sentence in the TTS
worker, and the kernel gives a live turn's threads the CPU first. It also waits while a live
synthesis is running, one piece at a time. The default language goes first, then the rest;
pieces already on disk are skipped; pieces no published version uses are evicted first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voice_agent.config import Settings
from voice_agent.errors import ServiceError
from voice_agent.language.languages import CODES
from voice_agent.speech_out.engines import Synthesizer
from voice_agent.speech_out.normalize import speakable
from voice_agent.speech_out.reply_cache import (
    Reply,
    ReplyAudioCache,
    audio_key,
    known_replies,
    pieces,
)
from voice_agent.speech_out.voice_plan import Builder, FallbackVoice, Report
from voice_agent.workers import ModelWorker

if TYPE_CHECKING:
    from voice_agent.content.faq import FaqEntry

log = logging.getLogger("voice_agent.voices")
BATCH_S = 0.05  # the filler hands the worker back (and checks for live turns) this often


@dataclass(frozen=True, slots=True)
class Piece:
    key: str
    language: str
    voice: str  # planned voice name
    spoken: str


def _lowest_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux: per-thread nice value
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class Prefill:
    def __init__(
        self,
        settings: Settings,
        cache: ReplyAudioCache,
        plan: Callable[[str], str],
        voice_tag: Callable[[str], str],
        builder: Callable[[], Builder],
        report: Report,
        live_idle: Callable[[], Awaitable[None]],
        *,
        languages: Collection[str] | None = None,
        entries: Collection[str] | None = None,
        lowest_priority: bool = True,
    ) -> None:
        """`languages`, `entries`: make only these languages' or entries' pieces (system
        messages count as entries; every piece is still indexed and kept); `lowest_priority`:
        run at nice 19 (the server), or as the caller runs (`voices fill`)."""
        self._settings = settings
        self._languages = frozenset(languages) if languages is not None else None
        self._only_entries = frozenset(entries) if entries is not None else None
        self._lowest = lowest_priority
        self._cache = cache
        self._plan = plan
        self._tag = voice_tag
        self._builder = builder
        self._report = report
        self._live_idle = live_idle
        self._entries: Sequence[FaqEntry] | None = None
        self._task: asyncio.Task[None] | None = None
        self._worker: ModelWorker | None = None
        self._factory: Builder | None = None
        self.enabled = False
        self.progress: dict[str, Any] = {"state": "waiting", "ready": 0, "total": 0}

    def set_entries(self, entries: Sequence[FaqEntry]) -> None:
        """The published entries: their answers (and the system messages) are what to make."""
        self._entries = entries
        if self.enabled:
            self._restart()

    def start(self) -> None:
        self.enabled = True
        if self._entries is not None:
            self._restart()

    def _restart(self) -> None:
        if self._task is not None:
            self._task.cancel()
        assert self._entries is not None
        self.progress = {"state": "waiting", "ready": 0, "total": 0}
        self._task = asyncio.get_running_loop().create_task(self._fill(self._entries))

    def plan_pieces(self, replies: list[Reply]) -> tuple[list[Piece], list[dict[str, object]]]:
        """Every piece the replies need, default language first, and the index rows."""
        first = self._settings.default_language
        order = {c: i for i, c in enumerate([first, *[c for c in CODES if c != first]])}
        voices = {c: self._plan(c) for c in CODES}
        out: dict[str, Piece] = {}
        rows: list[dict[str, object]] = []
        for r in sorted(replies, key=lambda r: (order.get(r.language, 99), r.source)):
            voice = voices.get(r.language) or self._plan(r.language)
            if not self.worth_caching(voice):
                continue
            keys = []
            for piece in pieces(r.text):
                spoken = speakable(piece, r.language)
                key = audio_key(self._tag(voice), r.language, spoken)
                out.setdefault(key, Piece(key, r.language, voice, spoken))
                keys.append(key)
            rows.append(
                {"entry": r.source, "text_hash": r.text_hash, "language": r.language,
                 "voice": voice, "pieces": keys}
            )  # fmt: skip
        return list(out.values()), rows

    def worth_caching(self, voice: str) -> bool:
        return self._settings.tts.reply_cache_espeak or not voice.startswith("espeak-ng:")

    async def _fill(self, entries: Sequence[FaqEntry]) -> None:
        started = time.monotonic()

        def plan() -> tuple[list[Piece], list[Piece], int, int]:  # ~0.1 s: off the loop
            wanted, rows = self.plan_pieces(known_replies(entries))
            evicted = self._cache.evict({p.key for p in wanted})
            self._cache.write_index(rows)
            keys = {
                key
                for r in rows
                if self._languages is None or r["language"] in self._languages
                if self._only_entries is None
                or r["entry"] in self._only_entries
                or str(r["entry"]).startswith("message:")
                for key in r["pieces"]  # type: ignore[attr-defined]
            }
            missing = [p for p in wanted if not self._cache.has(p.key)]
            todo = [p for p in missing if p.key in keys]
            return wanted, todo, evicted, len(wanted) - len(missing)

        wanted, todo, evicted, ready = await asyncio.to_thread(plan)
        total = len(wanted)
        self.progress = {"state": "filling", "ready": ready, "total": total,
                         "evicted": evicted, "to_make": len(todo), "made": 0,
                         "failed": 0}  # fmt: skip
        log.info("reply audio: %d pieces, %d to make, %d evicted", total, len(todo), evicted)
        if self._worker is None:
            self._worker = ModelWorker("tts-prefill")
            if self._lowest:
                await self._worker.run(_lowest_priority)
        factory = self._factory = self._builder()  # its own voices: a one-thread Kokoro
        synths: dict[str, Synthesizer] = {}

        def make(piece: Piece) -> bool:
            if piece.voice not in synths:
                synths[piece.voice] = factory.build(piece.language, piece.voice)
            synth = synths[piece.voice]
            audio = synth.synthesize(piece.spoken)
            spoke = synth.primary.name if isinstance(synth, FallbackVoice) else synth.name
            if synth.name != spoke or spoke != piece.voice:
                return False  # espeak-ng stood in: not what this key promises
            self._cache.put(piece.key, audio)
            return True

        def make_some(batch: list[Piece]) -> list[bool | ServiceError]:
            """Pieces until BATCH_S has passed (one Kokoro piece; several espeak-ng ones)."""
            t0, done = time.monotonic(), list[bool | ServiceError]()
            for piece in batch:
                try:
                    done.append(make(piece))
                except ServiceError as exc:
                    done.append(exc)
                if time.monotonic() - t0 > BATCH_S:
                    break
            return done

        logged = 0
        try:
            while todo:
                await self._live_idle()
                results = await self._worker.run(make_some, todo[:64])
                for piece, result in zip(todo, results, strict=False):
                    if isinstance(result, ServiceError):
                        log.warning("reply audio: %s (%s) not made: %s", piece.spoken[:40],
                                    piece.voice, result.message)  # fmt: skip
                    self.progress["made" if result is True else "failed"] += 1
                    self.progress["ready"] += int(result is True)
                todo = todo[len(results) :]
                if self.progress["ready"] - logged >= total // 10:
                    logged = self.progress["ready"]
                    log.info("reply audio: %d/%d pieces ready", logged, total)
        finally:
            # the worker is already shut down (the server stopping mid-fill)
            with contextlib.suppress(RuntimeError, ServiceError):
                await self._worker.run(synths.clear)  # frees the filler's voices and Kokoro
            factory.close()
        size = await asyncio.to_thread(self._cache.size_bytes)
        self.progress.update(state="done", bytes=size, seconds=round(time.monotonic() - started))
        log.info("reply audio: done, %d/%d pieces, %.1f MB on disk",
                 self.progress["ready"], total, size / 1e6)  # fmt: skip

    async def fill(self, entries: Sequence[FaqEntry]) -> dict[str, Any]:
        """Make the missing pieces now, to the end (`voice-agent voices fill`); the progress."""
        await self._fill(entries)
        return self.progress

    def close(self) -> None:
        if self._factory is not None:
            self._factory.close()  # aborts a Kokoro run in progress: no wait at shutdown
        if self._task is not None:
            self._task.cancel()
        if self._worker is not None:
            self._worker.close()
