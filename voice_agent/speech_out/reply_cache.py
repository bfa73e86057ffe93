"""Reply audio synthesised ahead of time: curated answers and system messages are known before
anyone asks, so their audio (with viseme timings) waits on disk under var/reply_audio/.

A piece of audio is one file named by the hash of (voice, language, spoken text): the unit the
turn synthesises (the first sentence's first clause, then whole sentences). `index.json`
records which (entry id, answer-text hash, language, voice) uses which pieces; a fill evicts
every file no published version uses. Only the background filler writes; a turn only reads,
so an LLM rephrasing is never stored. A file that does not load is deleted and made again.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from voice_agent.language.languages import CODES
from voice_agent.speech_out.engines import SpeechAudio
from voice_agent.speech_out.normalize import first_clause_split, split_sentences

if TYPE_CHECKING:
    from voice_agent.content.faq import FaqEntry

FORMAT = 1
MESSAGES = Path(__file__).resolve().parents[1] / "data" / "messages.yaml"


@dataclass(frozen=True, slots=True)
class Reply:
    """A text the assistant will say as it is: an entry's answer or a system message."""

    source: str  # FAQ entry id, or "message:<key>"
    language: str
    text: str

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def pieces(text: str) -> list[str]:
    """The units a turn synthesises for `text`: as `Engine.turn` splits a curated reply."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    return [*first_clause_split(sentences[0]), *sentences[1:]]


def known_replies(entries: Iterable[FaqEntry], messages: Path = MESSAGES) -> list[Reply]:
    """Every published answer in every language, and every system message."""
    out: list[Reply] = []
    table: dict[str, dict[str, str]] = yaml.safe_load(messages.read_text(encoding="utf-8"))
    for key, texts in table.items():
        out += [Reply(f"message:{key}", c, texts.get(c) or texts["en"]) for c in CODES]
    for entry in entries:
        out += [Reply(entry.id, c, entry.answer_in(c)[1]) for c in CODES]
    return out


def audio_key(voice: str, language: str, spoken: str) -> str:
    raw = f"{FORMAT}\0{voice}\0{language}\0{spoken}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class ReplyAudioCache:
    """The files; safe to read from any thread, written by one filler at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.corrupt = 0

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def has(self, key: str) -> bool:
        return self._path(key).exists()

    def get(self, key: str) -> SpeechAudio | None:
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                pcm = data["pcm"].astype(np.int16)
            visemes = tuple((float(t), str(v)) for t, v in meta["visemes"])
            return SpeechAudio(pcm, int(meta["rate"]), str(meta["text"]), visemes=visemes)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError):
            self.corrupt += 1
            path.unlink(missing_ok=True)  # made again by the next fill; live synthesis now
            return None

    def put(self, key: str, audio: SpeechAudio) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {"rate": audio.sample_rate, "text": audio.text, "visemes": audio.visemes}
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        with tmp.open("wb") as f:
            np.savez(
                f,
                pcm=audio.pcm.astype(np.int16),
                meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8),
            )
        tmp.replace(self._path(key))

    def keys(self) -> set[str]:
        if not self.folder.is_dir():
            return set()
        return {p.stem for p in self.folder.glob("*.npz")}

    def evict(self, keep: set[str]) -> int:
        """Delete every piece not in `keep`; returns how many."""
        gone = self.keys() - keep
        for key in gone:
            self._path(key).unlink(missing_ok=True)
        return len(gone)

    def size_bytes(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.glob("*.npz"))

    def write_index(self, rows: Sequence[dict[str, object]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / "index.json.tmp"
        tmp.write_text(json.dumps({"format": FORMAT, "replies": list(rows)}, ensure_ascii=False))
        tmp.replace(self.folder / "index.json")
