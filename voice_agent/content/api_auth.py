"""Routes: /api/auth/login, /api/auth/logout, /api/auth/me; /api/users (admins)."""

# No `from __future__ import annotations` here: FastAPI must see the Annotated[...,
# Depends(...)] aliases built inside the router functions as objects, not strings.
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from voice_agent.content.api_deps import COOKIE, ContentRoute, Guard, documented
from voice_agent.content.api_models import LoginRequest, MeOut, NewUserRequest, OkOut, UserOut
from voice_agent.content.records import Principal


def _set_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def auth_router(guard: Guard) -> APIRouter:
    router = APIRouter(route_class=ContentRoute, tags=["content: accounts"])
    Anyone = Annotated[Principal, Depends(guard.reader(None))]  # editors and console staff
    AnyoneWrite = Annotated[Principal, Depends(guard.writer(None))]
    Admin = Annotated[Principal, Depends(guard.reader("admin"))]
    AdminWrite = Annotated[Principal, Depends(guard.writer("admin"))]

    @router.post("/api/auth/login", responses=documented(401, 422, 429))
    async def login(req: LoginRequest, request: Request, response: Response) -> MeOut:
        """Start a session: sets the HttpOnly, SameSite=Strict session cookie."""
        svc = guard.resolve(request)
        client = request.client.host if request.client else "unknown"
        token, principal = await svc.accounts.login(req.username, req.password, client)
        _set_cookie(request, response, token, int(svc.settings.content.session_hours * 3600))
        return MeOut.of(principal)

    @router.post("/api/auth/logout", responses=documented(401, 403))
    async def logout(user: AnyoneWrite, request: Request, response: Response) -> OkOut:
        await guard.resolve(request).accounts.logout(user)
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
        return OkOut()

    @router.get("/api/auth/me", responses=documented(401))
    async def me(user: Anyone) -> MeOut:
        return MeOut.of(user)

    @router.get("/api/users", responses=documented(401, 403))
    async def users(user: Admin, request: Request) -> list[UserOut]:
        return [UserOut.of(u) for u in await guard.resolve(request).accounts.users()]

    @router.post("/api/users", status_code=201, responses=documented(401, 403, 409, 422))
    async def add_user(req: NewUserRequest, user: AdminWrite, request: Request) -> UserOut:
        svc = guard.resolve(request)
        created = await svc.accounts.add_user(req.username, req.role, req.password)
        await svc.db.run(
            svc.workflow.repo.record,
            svc.clock(),
            user.username,
            "add-user",
            [f"{created.username} ({created.role})"],
        )
        return UserOut.of(created)

    return router
