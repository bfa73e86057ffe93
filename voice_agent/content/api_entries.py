"""Routes: /api/faq/entries (list, read, versions, create, update, submit, publish, reject,
rollback, delete), /api/faq/search, /api/faq/try, /api/faq/audit."""

# No `from __future__ import annotations` here: FastAPI must see the Annotated[...,
# Depends(...)] aliases built inside the router functions as objects, not strings.
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from voice_agent.content.api_deps import ContentRoute, Guard, documented
from voice_agent.content.api_models import (
    AuditOut,
    DraftRequest,
    EntryDetailOut,
    EntrySummaryOut,
    SearchHitOut,
    TryOut,
    TryRequest,
    UpdateRequest,
    VersionOut,
    VersionRequest,
)
from voice_agent.content.errors import NotFound
from voice_agent.content.records import EntrySummary, Principal
from voice_agent.content.search import search_entries, try_question

EntryIdPath = Annotated[str, Path(min_length=1, max_length=200)]


def _summary(s: EntrySummary) -> dict[str, object]:
    langs = s.latest.body.get("languages") or {}
    return {
        "id": s.entry_id,
        "topic": s.topic,
        "latest_version": s.latest.version,
        "latest_state": s.latest.state,
        "published_version": s.published_version,
        "updated_at": s.latest.created_at,
        "author": s.latest.author,
        "languages": {c: str(loc.get("status", "draft")) for c, loc in langs.items()},
    }


def entries_router(guard: Guard) -> APIRouter:
    router = APIRouter(route_class=ContentRoute, tags=["content: FAQ entries"])
    Editor = Annotated[Principal, Depends(guard.reader("editor"))]
    EditorWrite = Annotated[Principal, Depends(guard.writer("editor"))]
    ReviewerWrite = Annotated[Principal, Depends(guard.writer("reviewer"))]

    @router.get("/api/faq/entries", responses=documented(401))
    async def list_entries(
        user: Editor, request: Request, include_deleted: bool = False
    ) -> list[EntrySummaryOut]:
        svc = guard.resolve(request)
        rows = await svc.db.run(svc.workflow.repo.summaries, include_deleted)
        return [EntrySummaryOut.model_validate(_summary(s)) for s in rows]

    @router.get("/api/faq/entries/{entry_id}", responses=documented(401, 404))
    async def get_entry(entry_id: EntryIdPath, user: Editor, request: Request) -> EntryDetailOut:
        repo = guard.resolve(request).workflow.repo
        db = guard.resolve(request).db
        latest = await db.run(repo.latest, entry_id)
        if latest is None:
            raise NotFound(f"no entry {entry_id!r}")
        published = await db.run(repo.published, entry_id)
        summary = EntrySummary(
            entry_id,
            str(latest.body.get("topic", "")),
            latest,
            published.version if published else None,
        )
        return EntryDetailOut.model_validate(
            {
                **_summary(summary),
                "latest": VersionOut.of(latest),
                "published": VersionOut.of(published) if published else None,
            }
        )

    @router.get("/api/faq/entries/{entry_id}/versions", responses=documented(401, 404))
    async def versions(entry_id: EntryIdPath, user: Editor, request: Request) -> list[VersionOut]:
        svc = guard.resolve(request)
        rows = await svc.db.run(svc.workflow.repo.versions, entry_id)
        if not rows:
            raise NotFound(f"no entry {entry_id!r}")
        return [VersionOut.of(v) for v in rows]

    @router.post("/api/faq/entries", status_code=201, responses=documented(401, 403, 409, 422))
    async def create(req: DraftRequest, user: EditorWrite, request: Request) -> VersionOut:
        """A new entry, as a draft (version 1)."""
        wf = guard.resolve(request).workflow
        return VersionOut.of(await wf.create(user.username, req.body.as_body(), req.note))

    @router.put("/api/faq/entries/{entry_id}", responses=documented(401, 403, 404, 409, 422))
    async def update(
        entry_id: EntryIdPath, req: UpdateRequest, user: EditorWrite, request: Request
    ) -> VersionOut:
        """A new draft on top of `base_version`; 409 with both versions if the entry moved on."""
        wf = guard.resolve(request).workflow
        v = await wf.update(user.username, entry_id, req.base_version, req.body.as_body(), req.note)
        return VersionOut.of(v)

    @router.post("/api/faq/entries/{entry_id}/submit", responses=documented(401, 403, 404, 409))
    async def submit(
        entry_id: EntryIdPath, req: VersionRequest, user: EditorWrite, request: Request
    ) -> VersionOut:
        """Draft -> review."""
        wf = guard.resolve(request).workflow
        return VersionOut.of(await wf.submit(user.username, entry_id, req.version))

    @router.post(
        "/api/faq/entries/{entry_id}/publish", responses=documented(401, 403, 404, 409, 422, 503)
    )
    async def publish(
        entry_id: EntryIdPath, req: VersionRequest, user: ReviewerWrite, request: Request
    ) -> VersionOut:
        """Review -> published: validated, written to YAML, answered from at once."""
        wf = guard.resolve(request).workflow
        return VersionOut.of(await wf.publish(user.username, entry_id, req.version, req.note))

    @router.post("/api/faq/entries/{entry_id}/reject", responses=documented(401, 403, 404, 409))
    async def reject(
        entry_id: EntryIdPath, req: VersionRequest, user: ReviewerWrite, request: Request
    ) -> VersionOut:
        wf = guard.resolve(request).workflow
        return VersionOut.of(await wf.reject(user.username, entry_id, req.version, req.note))

    @router.post(
        "/api/faq/entries/{entry_id}/rollback", responses=documented(401, 403, 404, 409, 422, 503)
    )
    async def rollback(
        entry_id: EntryIdPath, req: VersionRequest, user: ReviewerWrite, request: Request
    ) -> VersionOut:
        """A new published version with the body of an earlier one."""
        wf = guard.resolve(request).workflow
        return VersionOut.of(await wf.rollback(user.username, entry_id, req.version, req.note))

    @router.delete("/api/faq/entries/{entry_id}", responses=documented(401, 403, 404, 409, 503))
    async def delete(
        entry_id: EntryIdPath,
        user: ReviewerWrite,
        request: Request,
        note: Annotated[str, Query(max_length=500)] = "",
    ) -> VersionOut:
        """No longer answered; its YAML file is removed (history is kept)."""
        wf = guard.resolve(request).workflow
        return VersionOut.of(await wf.delete(user.username, entry_id, note))

    @router.get("/api/faq/search", responses=documented(401))
    async def search(
        user: Editor,
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=200)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[SearchHitOut]:
        svc = guard.resolve(request)
        rows = await svc.db.run(svc.workflow.repo.summaries)
        return [
            SearchHitOut.model_validate(h, from_attributes=True)
            for h in search_entries(rows, q, limit)
        ]

    @router.post("/api/faq/try", responses=documented(401, 403, 422))
    async def try_(req: TryRequest, user: EditorWrite, request: Request) -> TryOut:
        """What the assistant answers now (published entries only), with the top five."""
        engine = guard.resolve(request).engine
        return TryOut.model_validate(await try_question(engine, req.text, req.lang))

    @router.get("/api/faq/audit", responses=documented(401))
    async def audit(
        user: Editor,
        request: Request,
        entry_id: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditOut]:
        svc = guard.resolve(request)
        rows = await svc.db.run(svc.workflow.repo.audit_log, entry_id, limit)
        return [AuditOut.model_validate(r, from_attributes=True) for r in rows]

    return router
