"""The faq_db/entries/ folder: read every file, write and remove one, and remember what this
process itself wrote, so the file watcher does not re-import our own writes.

Synchronous; the workflow calls it from the database worker, which serialises it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_agent.content.body import normalized
from voice_agent.content.errors import BadFile
from voice_agent.content.faq import FaqFormatError
from voice_agent.content.yaml_io import dump_entry, read_entry_file, write_atomic


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: Path
    body: dict[str, Any]  # normalized (as parse_entry reads it)


@dataclass(frozen=True, slots=True)
class Scan:
    entries: dict[str, FileEntry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per unreadable file


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_entry_file(path: Path) -> bool:
    return path.suffix == ".yaml" and not path.name.startswith(".")


class EntriesFolder:
    def __init__(self, entries_dir: Path) -> None:
        self.dir = entries_dir.resolve()
        self._paths: dict[str, Path] = {}  # entry id -> the file that holds it
        self._own: dict[Path, str | None] = {}  # what we last wrote (None: we removed it)

    def read(self, path: Path) -> FileEntry:
        """Parse one file (raises BadFile / FaqFormatError with the file name)."""
        data = read_entry_file(path)
        return FileEntry(path, normalized(data, path.name))

    def scan(self) -> Scan:
        scan = Scan()
        for path in sorted(self.dir.glob("*.yaml")):
            if not is_entry_file(path):
                continue
            try:
                fe = self.read(path)
            except (BadFile, FaqFormatError, OSError, UnicodeDecodeError) as exc:
                scan.problems.append(f"{path.name}: {getattr(exc, 'message', exc)}")
                continue
            entry_id = fe.body["id"]
            if entry_id in scan.entries:
                other = scan.entries[entry_id].path.name
                scan.problems.append(f"{path.name}: duplicate id {entry_id!r} (also in {other})")
                continue
            scan.entries[entry_id] = fe
            self._paths[entry_id] = path
        return scan

    def path_for(self, entry_id: str) -> Path:
        return self._paths.get(entry_id) or self.dir / f"{entry_id}.yaml"

    def id_for(self, path: Path) -> str | None:
        for entry_id, p in self._paths.items():
            if p == path:
                return entry_id
        return None

    def remember(self, entry_id: str, path: Path) -> None:
        self._paths[entry_id] = path

    def write(self, entry_id: str, body: dict[str, Any]) -> Path:
        path = self.path_for(entry_id)
        text = dump_entry(body)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._own[path] = _digest(text.encode("utf-8"))  # before the watcher can see it
        write_atomic(path, text)
        self._paths[entry_id] = path
        return path

    def remove(self, entry_id: str) -> None:
        path = self.path_for(entry_id)
        self._own[path] = None
        path.unlink(missing_ok=True)

    def is_own(self, path: Path) -> bool:
        """True if the file is exactly as this process last left it."""
        if path not in self._own:
            return False
        expected = self._own[path]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return expected is None
        return expected is not None and _digest(data) == expected
