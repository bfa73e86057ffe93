"""The editorial workflow: draft -> review -> published, with reject, rollback and delete.

Versions are never changed in place except for their state and, at publication, the review
records of their languages (content/reviews.py). Only one version per entry is `published`;
publishing another supersedes it. Publishing needs a second person: the author of a version
cannot publish it unless `content.allow_self_review` is set, and then the audit line says so.
Publishing checks the entry with `parse_entry` and `faq_validate.validate` (against the
other published entries), writes its YAML file, and hands the whole published set to the
engine (`go_live`), under one lock so two publishes reach the engine in order. Database and
file work runs in the database worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from voice_agent.content import reviews
from voice_agent.content.body import diff_summary, entry_to_body, to_entry
from voice_agent.content.db import ContentDb
from voice_agent.content.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from voice_agent.content.faq import FaqEntry, FaqFormatError
from voice_agent.content.faq_validate import validate
from voice_agent.content.mirror import EntriesFolder
from voice_agent.content.records import Version
from voice_agent.content.versions import VersionRepo

log = logging.getLogger(__name__)

Clock = Callable[[], float]
GoLive = Callable[[list[FaqEntry]], Awaitable[None]]


def version_dict(v: Version) -> dict[str, Any]:
    return asdict(v)


SELF_REVIEW_NOTE = "published by its author: second review relaxed (content.allow_self_review)"


class Workflow:
    def __init__(
        self,
        db: ContentDb,
        folder: EntriesFolder,
        go_live: GoLive,
        clock: Clock,
        *,
        allow_self_review: bool = False,
    ) -> None:
        self.db = db
        self.repo = VersionRepo(db.conn)
        self.folder = folder
        self._go_live = go_live
        self._clock = clock
        self.allow_self_review = allow_self_review
        self._publish_lock = asyncio.Lock()

    def now(self) -> float:
        return self._clock()

    # --- helpers (database worker) ------------------------------------------------------------
    def latest_or_404(self, entry_id: str) -> Version:
        v = self.repo.latest(entry_id)
        if v is None:
            raise NotFound(f"no entry {entry_id!r}")
        return v

    def _get(self, entry_id: str, version: int) -> Version:
        v = self.repo.get(entry_id, version)
        if v is None:
            raise NotFound(f"entry {entry_id!r} has no version {version}")
        return v

    def checked_entry(self, body: dict[str, Any], entry_id: str) -> FaqEntry:
        """The entry as the engine would answer from it, or ValidationFailed."""
        try:
            entry = to_entry(body, entry_id)
        except FaqFormatError as exc:
            raise ValidationFailed(exc.message, [exc.message]) from exc
        if entry.id != entry_id:
            raise ValidationFailed("the body's id differs from the entry", [f"id {entry.id!r}"])
        others = [
            to_entry(v.body, v.entry_id)
            for v in self.repo.all_published()
            if v.entry_id != entry_id
        ]
        problems = [p for p in validate([*others, entry]) if p.startswith(f"{entry_id}:")]
        if problems:
            raise ValidationFailed(f"entry {entry_id!r} does not pass validation", problems)
        return entry

    def _newer_settled(self, entry_id: str, version: int) -> Version | None:
        """A later version that was published or deleted: publishing `version` would undo it."""
        for v in self.repo.versions(entry_id):
            if v.version > version and v.state in ("published", "superseded", "deleted"):
                return v
        return None

    def _go_forward(
        self,
        user: str,
        entry_id: str,
        body: dict[str, Any],
        action: str,
        note: str,
        base: int | None,
        publish_version: int | None,
        extra: tuple[str, ...] = (),
    ) -> Version:
        """Publish: file first, then the versions and the audit line, in one transaction."""
        entry = self.checked_entry(body, entry_id)
        previous = self.repo.published(entry_id)
        self.folder.write(entry_id, entry_to_body(entry))
        now = self._clock()
        with self.db.conn:
            self.repo.supersede(entry_id)
            if publish_version is None:
                v = self.repo.add(entry_id, "published", body, user, now, note, base)
            else:
                self.repo.set_state(entry_id, publish_version, "published")
                self.repo.set_body(entry_id, publish_version, body)  # its review records
                v = self._get(entry_id, publish_version)
            changes = diff_summary(previous.body if previous else None, body) + list(extra)
            self.repo.audit(now, user, action, entry_id, v.version, changes, note)
        return v

    # --- drafts (no engine change) ------------------------------------------------------------
    # The synchronous steps run in the database worker; inbox_actions composes the public ones.
    def draft_new(
        self, user: str, body: dict[str, Any], note: str = "", action: str = "create"
    ) -> Version:
        entry_id = body["id"]
        latest = self.repo.latest(entry_id)
        if latest is not None and latest.state != "deleted":
            raise Conflict(
                f"entry {entry_id!r} already exists (version {latest.version})",
                version_dict(latest),
                body,
            )
        body = reviews.carry(body, None)  # a new entry has no review yet
        now = self._clock()
        with self.db.conn:
            v = self.repo.add(
                entry_id, "draft", body, user, now, note, latest.version if latest else None
            )
            self.repo.audit(now, user, action, entry_id, v.version, diff_summary(None, body), note)
        return v

    def draft_on(
        self,
        user: str,
        entry_id: str,
        base_version: int,
        body: dict[str, Any],
        note: str = "",
        action: str = "update",
    ) -> Version:
        if body.get("id") != entry_id:
            raise ValidationFailed(
                "the body's id must be the entry's id", [f"id {body.get('id')!r} != {entry_id!r}"]
            )
        latest = self.latest_or_404(entry_id)
        if latest.version != base_version:
            raise Conflict(
                f"entry {entry_id!r} is at version {latest.version}; your edit is based on "
                f"version {base_version}: merge your changes into the current version",
                version_dict(latest),
                body,
            )
        if latest.state == "deleted":
            raise InvalidState(f"entry {entry_id!r} was deleted; create it again or roll back")
        published = self.repo.published(entry_id)
        body = reviews.carry(body, published.body if published else None)
        now = self._clock()
        with self.db.conn:
            v = self.repo.add(entry_id, "draft", body, user, now, note, base_version)
            self.repo.audit(
                now, user, action, entry_id, v.version, diff_summary(latest.body, body), note
            )
        return v

    def _submit(self, user: str, entry_id: str, version: int) -> Version:
        v = self._get(entry_id, version)
        if v.state != "draft":
            raise InvalidState(f"version {version} is {v.state}; only a draft can be submitted")
        latest = self.latest_or_404(entry_id)
        if latest.version != version:
            raise Conflict(
                f"entry {entry_id!r} has a newer version {latest.version}",
                version_dict(latest),
                v.body,
            )
        now = self._clock()
        with self.db.conn:
            self.repo.set_state(entry_id, version, "review")
            self.repo.audit(now, user, "submit", entry_id, version, [])
        return self._get(entry_id, version)

    def _reject(self, user: str, entry_id: str, version: int, note: str) -> Version:
        v = self._get(entry_id, version)
        if v.state not in ("draft", "review"):
            raise InvalidState(
                f"version {version} is {v.state}; only drafts and reviews can be rejected"
            )
        now = self._clock()
        with self.db.conn:
            self.repo.set_state(entry_id, version, "rejected", note or None)
            self.repo.audit(now, user, "reject", entry_id, version, [], note)
        return self._get(entry_id, version)

    # --- going live -----------------------------------------------------------------------
    def _publish(self, user: str, entry_id: str, version: int, note: str) -> Version:
        v = self._get(entry_id, version)
        if v.state != "review":
            raise InvalidState(f"version {version} is {v.state}; submit it for review first")
        extra: list[str] = []
        if v.author == user:
            if not self.allow_self_review:
                raise Forbidden(
                    f"{user} wrote version {version}: another reviewer must publish it "
                    "(a one-person team can set content.allow_self_review)"
                )
            extra.append(SELF_REVIEW_NOTE)
        newer = self._newer_settled(entry_id, version)
        if newer is not None:
            raise Conflict(
                f"version {newer.version} is newer and was {newer.state}",
                version_dict(newer),
                v.body,
            )
        published = self.repo.published(entry_id)
        body, stamped = reviews.stamp(
            v.body, published.body if published else None, user, self._clock()
        )
        if stamped:
            extra.insert(0, f"reviewed by {user}: {', '.join(stamped)}")
        return self._go_forward(
            user, entry_id, body, "publish", note, v.base_version, version, tuple(extra)
        )

    def _rollback(self, user: str, entry_id: str, version: int, note: str) -> Version:
        target = self._get(entry_id, version)
        latest = self.latest_or_404(entry_id)
        if version >= latest.version:
            raise InvalidState(f"version {version} is the latest; roll back to an earlier one")
        if target.state not in ("published", "superseded"):
            # only text that was once reviewed and published may go live again this way
            raise InvalidState(
                f"version {version} was never published ({target.state}); submit it for review"
            )
        note = note or f"rollback to version {version}"
        return self._go_forward(user, entry_id, target.body, "rollback", note, version, None)

    def _delete(self, user: str, entry_id: str, note: str) -> Version:
        latest = self.latest_or_404(entry_id)
        if latest.state == "deleted":
            raise InvalidState(f"entry {entry_id!r} is already deleted")
        self.folder.remove(entry_id)
        now = self._clock()
        with self.db.conn:
            self.repo.supersede(entry_id)
            v = self.repo.add(entry_id, "deleted", latest.body, user, now, note, latest.version)
            self.repo.audit(now, user, "delete", entry_id, v.version, [], note)
        return v

    async def go_live(self) -> list[FaqEntry]:
        """Hand the published set to the engine (callers hold the publish lock)."""
        entries = await self.published_entries()
        await self._go_live(entries)
        return entries

    async def published_entries(self) -> list[FaqEntry]:
        published = await self.db.run(self.repo.all_published)
        entries: list[FaqEntry] = []
        for v in published:
            try:
                entries.append(to_entry(v.body, v.entry_id))
            except FaqFormatError as exc:  # published versions were checked; say so if not
                log.error("published %s v%d is unreadable: %s", v.entry_id, v.version, exc)
        return entries

    async def _live(self, fn: Callable[..., Version], *args: Any) -> Version:
        async with self._publish_lock:
            v = await self.db.run(self.db.exclusive, fn, *args)  # one worker at a time
            await self.go_live()
            return v

    @property
    def publish_lock(self) -> asyncio.Lock:
        return self._publish_lock

    # --- the public, async API ------------------------------------------------------------
    async def create(self, user: str, body: dict[str, Any], note: str = "") -> Version:
        return await self.db.run(self.draft_new, user, body, note)

    async def update(
        self, user: str, entry_id: str, base_version: int, body: dict[str, Any], note: str = ""
    ) -> Version:
        return await self.db.run(self.draft_on, user, entry_id, base_version, body, note)

    async def submit(self, user: str, entry_id: str, version: int) -> Version:
        return await self.db.run(self._submit, user, entry_id, version)

    async def reject(self, user: str, entry_id: str, version: int, note: str = "") -> Version:
        return await self.db.run(self._reject, user, entry_id, version, note)

    async def publish(self, user: str, entry_id: str, version: int, note: str = "") -> Version:
        return await self._live(self._publish, user, entry_id, version, note)

    async def rollback(self, user: str, entry_id: str, version: int, note: str = "") -> Version:
        return await self._live(self._rollback, user, entry_id, version, note)

    async def delete(self, user: str, entry_id: str, note: str = "") -> Version:
        return await self._live(self._delete, user, entry_id, note)
