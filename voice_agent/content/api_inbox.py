"""Routes: /api/faq/inbox (clusters of unanswered questions -> drafts), /api/faq/export,
/api/faq/import."""

# No `from __future__ import annotations` here: FastAPI must see the Annotated[...,
# Depends(...)] aliases built inside the router functions as objects, not strings.
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from voice_agent.content.api_deps import ContentRoute, Guard, documented
from voice_agent.content.api_models import (
    ClusterOut,
    ImportOut,
    NewEntryRequest,
    ParaphraseRequest,
    VersionOut,
)
from voice_agent.content.csv_io import export_csv
from voice_agent.content.errors import InvalidField
from voice_agent.content.importer import MAX_IMPORT_BYTES, read_import
from voice_agent.content.records import Principal
from voice_agent.content.yaml_io import dump_entries

ClusterId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Fmt = Annotated[Literal["yaml", "csv"], Query(alias="format")]
FILE_BODY = {
    "required": True,
    "description": "the file: YAML (one entry, a list, or a --- stream) or CSV",
    "content": {t: {"schema": {"type": "string"}} for t in ("text/yaml", "text/csv", "text/plain")},
}


def inbox_router(guard: Guard) -> APIRouter:
    router = APIRouter(route_class=ContentRoute, tags=["content: inbox, import, export"])
    Editor = Annotated[Principal, Depends(guard.reader("editor"))]
    EditorWrite = Annotated[Principal, Depends(guard.writer("editor"))]

    @router.get("/api/faq/inbox", responses=documented(401))
    async def inbox(
        user: Editor,
        request: Request,
        status: Literal["open", "dismissed", "resolved"] = "open",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ClusterOut]:
        """Clusters of questions the assistant could not answer (largest first)."""
        clusters = await guard.resolve(request).inbox.clusters(status, limit)
        return [ClusterOut.of(c) for c in clusters]

    @router.post(
        "/api/faq/inbox/{cluster_id}/new-entry",
        status_code=201,
        responses=documented(401, 403, 404, 409),
    )
    async def new_entry(
        cluster_id: ClusterId,
        user: EditorWrite,
        request: Request,
        req: Annotated[NewEntryRequest | None, Body()] = None,
    ) -> VersionOut:
        """A draft entry whose questions and paraphrases are the cluster's questions."""
        req = req or NewEntryRequest.model_validate({})
        v = await guard.resolve(request).inbox.new_entry(
            user.username, cluster_id, req.entry_id, req.topic
        )
        return VersionOut.of(v)

    @router.post("/api/faq/inbox/{cluster_id}/paraphrase", responses=documented(401, 403, 404, 409))
    async def paraphrase(
        cluster_id: ClusterId, req: ParaphraseRequest, user: EditorWrite, request: Request
    ) -> VersionOut:
        """A new draft of `entry_id` with the cluster's questions added as paraphrases."""
        v = await guard.resolve(request).inbox.paraphrase(user.username, cluster_id, req.entry_id)
        return VersionOut.of(v)

    @router.post("/api/faq/inbox/{cluster_id}/dismiss", responses=documented(401, 403, 404))
    async def dismiss(cluster_id: ClusterId, user: EditorWrite, request: Request) -> ClusterOut:
        return ClusterOut.of(await guard.resolve(request).inbox.dismiss(user.username, cluster_id))

    @router.get(
        "/api/faq/export",
        response_class=Response,
        responses={
            200: {"content": {"text/yaml": {}, "text/csv": {}}, "description": "the file"},
            **documented(401),
        },
    )
    async def export(user: Editor, request: Request, fmt: Fmt = "yaml") -> Response:
        """The published entries, as a YAML stream or CSV."""
        svc = guard.resolve(request)
        bodies = [v.body for v in await svc.db.run(svc.workflow.repo.all_published)]
        text = dump_entries(bodies) if fmt == "yaml" else export_csv(bodies)
        media = "text/yaml" if fmt == "yaml" else "text/csv"
        return Response(
            text,
            media_type=f"{media}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="faq.{fmt}"'},
        )

    @router.post(
        "/api/faq/import",
        status_code=201,
        openapi_extra={"requestBody": FILE_BODY},
        responses=documented(400, 401, 403, 409, 422),
    )
    async def import_(user: EditorWrite, request: Request, fmt: Fmt = "yaml") -> ImportOut:
        """Drafts from a file; the whole file is checked first (400/422 name line and field)."""
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
            raise InvalidField(f"the file is larger than {MAX_IMPORT_BYTES:,} bytes")
        raw = await request.body()
        bodies = read_import(raw, fmt)
        svc = guard.resolve(request)
        created = await svc.inbox.import_drafts(user.username, bodies, f"a {fmt} file")
        return ImportOut(created=[VersionOut.of(v) for v in created])

    return router
