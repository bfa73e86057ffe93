"""The content team's JSON API, as one FastAPI router (mounted by `server.create_app`).

`make_router(resolve)` takes how a request finds the ContentService (the server keeps it in
`app.state`). Every route needs a login; writes also need the CSRF header and a role.
"""

from __future__ import annotations

from fastapi import APIRouter

from voice_agent.content.api_auth import auth_router
from voice_agent.content.api_deps import Guard, Resolve
from voice_agent.content.api_entries import entries_router
from voice_agent.content.api_inbox import inbox_router


def make_router(resolve: Resolve) -> APIRouter:
    guard = Guard(resolve)
    router = APIRouter()
    router.include_router(auth_router(guard))
    router.include_router(entries_router(guard))
    router.include_router(inbox_router(guard))
    return router
