"""faq_db/entries/*.yaml -> published versions: at start-up and when files change outside.

The YAML files are the source of truth (reviewed in git). A file whose entry differs from
the entry's published version becomes a new published version by `faq_db`; a removed file
deletes its entry. Files this process wrote itself are skipped (no loop). An unreadable
file keeps its entry's last published version and is reported; while any file is
unreadable, a full sync deletes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from voice_agent.content.body import diff_summary, normalized, same_content, to_entry
from voice_agent.content.errors import BadFile
from voice_agent.content.faq import FaqFormatError
from voice_agent.content.faq_validate import validate
from voice_agent.content.mirror import FileEntry, is_entry_file
from voice_agent.content.records import SYSTEM_AUTHOR
from voice_agent.content.workflow import Workflow

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SyncReport:
    imported: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    own_writes: int = 0
    problems: list[str] = field(default_factory=list)  # unreadable files, validation warnings

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.deleted)


class FileSync:
    def __init__(self, workflow: Workflow) -> None:
        self.wf = workflow
        self.repo = workflow.repo
        self.folder = workflow.folder

    # --- database worker ------------------------------------------------------------------
    def _import_one(self, fe: FileEntry, report: SyncReport) -> None:
        entry_id = fe.body["id"]
        self.folder.remember(entry_id, fe.path)
        published = self.repo.published(entry_id)
        if published is not None:
            try:
                if same_content(normalized(published.body, entry_id), fe.body):
                    return
            except FaqFormatError:
                pass
        latest = self.repo.latest(entry_id)
        now = self.wf.now()
        note = f"from {fe.path.name}"
        with self.wf.db.conn:
            self.repo.supersede(entry_id)
            v = self.repo.add(
                entry_id,
                "published",
                fe.body,
                SYSTEM_AUTHOR,
                now,
                note,
                latest.version if latest else None,
            )
            changes = diff_summary(published.body if published else None, fe.body)
            self.repo.audit(now, SYSTEM_AUTHOR, "import-file", entry_id, v.version, changes, note)
        report.imported.append(entry_id)
        others = [to_entry(p.body, p.entry_id) for p in self.repo.all_published()]
        report.problems += [
            f"warning: {p}" for p in validate(others) if p.startswith(f"{entry_id}:")
        ]

    def _delete(self, entry_id: str, path: Path, report: SyncReport) -> None:
        published = self.repo.published(entry_id)
        if published is None:
            return
        now = self.wf.now()
        note = f"{path.name} was removed"
        with self.wf.db.conn:
            self.repo.supersede(entry_id)
            v = self.repo.add(
                entry_id, "deleted", published.body, SYSTEM_AUTHOR, now, note, published.version
            )
            self.repo.audit(now, SYSTEM_AUTHOR, "delete-file", entry_id, v.version, [], note)
        report.deleted.append(entry_id)

    def _sync_all(self) -> SyncReport:
        report = SyncReport()
        scan = self.folder.scan()
        report.problems += scan.problems
        for fe in scan.entries.values():
            self._import_one(fe, report)
        if not scan.problems:
            for v in self.repo.all_published():
                if v.entry_id not in scan.entries:
                    self._delete(v.entry_id, self.folder.path_for(v.entry_id), report)
        return report

    def _sync_paths(self, paths: Iterable[Path]) -> SyncReport:
        report = SyncReport()
        for path in sorted(set(paths)):
            if not is_entry_file(path):
                continue
            if self.folder.is_own(path):
                report.own_writes += 1
                continue
            if not path.exists():
                entry_id = self.folder.id_for(path) or path.stem
                if self.folder.path_for(entry_id) == path:
                    self._delete(entry_id, path, report)
                continue
            try:
                fe = self.folder.read(path)
            except (BadFile, FaqFormatError, OSError, UnicodeDecodeError) as exc:
                report.problems.append(f"{path.name}: {getattr(exc, 'message', exc)}")
                continue
            entry_id = fe.body["id"]
            holder = self.folder.path_for(entry_id)
            if holder != path and holder.exists():
                report.problems.append(
                    f"{path.name}: duplicate id {entry_id!r} (also in {holder.name})"
                )
                continue
            self._import_one(fe, report)
        return report

    # --- async ----------------------------------------------------------------------------
    def _log(self, report: SyncReport, what: str) -> None:
        for p in report.problems:
            log.warning("faq_db %s: %s", what, p)
        if report.changed:
            log.info("faq_db %s: imported %s, deleted %s", what, report.imported, report.deleted)

    async def sync_all(self) -> SyncReport:
        """At start-up: import every file, then answer from the published set."""
        async with self.wf.publish_lock:
            report = await self.wf.db.run(self.wf.db.exclusive, self._sync_all)
            await self.wf.go_live()
        self._log(report, "start-up sync")
        return report

    async def reimport(self, paths: Iterable[Path]) -> SyncReport:
        """Files changed outside the editor (git pull, a text editor): import them."""
        paths = list(paths)
        async with self.wf.publish_lock:
            report = await self.wf.db.run(self.wf.db.exclusive, self._sync_paths, paths)
            if report.changed:
                await self.wf.go_live()
        self._log(report, "re-import")
        return report
