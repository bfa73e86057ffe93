"""What every content route shares: the service, who is asking, and typed errors -> HTTP.

Reading needs a session cookie (401 without one); writing also needs the session's CSRF
token in `X-CSRF-Token` (403), and each route names the least role it needs (403 below it).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, APIKeyHeader

from voice_agent.content.api_models import ConflictOut, ErrorOut
from voice_agent.content.errors import (
    BadFile,
    Conflict,
    NotLoggedIn,
    TooManyAttempts,
    ValidationFailed,
    status_of,
)
from voice_agent.content.errors import Forbidden as ForbiddenError
from voice_agent.content.records import Principal, Role, role_rank
from voice_agent.errors import ServiceError
from voice_agent.language.languages import UnsupportedLanguage

if TYPE_CHECKING:
    from voice_agent.content.service import ContentService

COOKIE = "va_session"
CSRF_HEADER = "X-CSRF-Token"
Resolve = Callable[[Request], "ContentService"]
Dependency = Callable[..., Awaitable[Principal]]


def error_body(exc: ServiceError) -> dict[str, Any]:
    out: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if isinstance(exc, ValidationFailed):
        out["problems"] = exc.problems
    if isinstance(exc, BadFile):
        out["line"], out["field"] = exc.line, exc.field
    if isinstance(exc, Conflict):
        out["current"], out["yours"] = exc.current, exc.yours
    if isinstance(exc, TooManyAttempts):
        out["retry_after"] = round(exc.retry_after, 1)
    return out


def error_response(exc: ServiceError) -> JSONResponse:
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return JSONResponse(error_body(exc), status_code=status_of(exc), headers=headers)


class ContentRoute(APIRoute):
    """Typed errors raised in a route or its dependencies become JSON error responses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as exc:
                return error_response(exc)
            except UnsupportedLanguage as exc:
                return JSONResponse({"detail": str(exc), "code": "bad_input"}, status_code=422)

        return run


class Guard:
    """Dependencies that resolve the caller: `guard.reader(role)`, `guard.writer(role)`."""

    def __init__(self, resolve: Resolve) -> None:
        self.resolve = resolve
        self.cookie = APIKeyCookie(
            name=COOKIE,
            auto_error=False,
            scheme_name="session",
            description="the session cookie set by POST /api/auth/login",
        )
        self.csrf = APIKeyHeader(
            name=CSRF_HEADER,
            auto_error=False,
            scheme_name="csrf",
            description="the csrf_token of POST /api/auth/login or GET /api/auth/me",
        )

    async def _principal(
        self, request: Request, token: str | None, role: Role | None, csrf: str | None
    ) -> Principal:
        if not token:
            raise NotLoggedIn("log in first")
        p = await self.resolve(request).accounts.resolve(token)
        if p is None:
            raise NotLoggedIn("your session has ended: log in again")
        if csrf is not None and not hmac.compare_digest(csrf.encode(), p.csrf_token.encode()):
            raise ForbiddenError(f"missing or wrong {CSRF_HEADER} header")
        if role is not None and role_rank(p.role) < role_rank(role):
            raise ForbiddenError(f"this needs the {role} role (you are {p.role})")
        return p

    def reader(self, role: Role | None = "editor") -> Dependency:
        """role None: any signed-in account (the console's staff too)."""

        async def reader(request: Request, token: str | None = Security(self.cookie)) -> Principal:
            return await self._principal(request, token, role, None)

        return reader

    def writer(self, role: Role | None = "editor") -> Dependency:
        async def writer(
            request: Request,
            token: str | None = Security(self.cookie),
            csrf: str | None = Security(self.csrf),
        ) -> Principal:
            return await self._principal(request, token, role, csrf or "")

        return writer


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error statuses a route may answer with."""
    text = {
        400: "malformed input (the message names the line and field)",
        401: "not logged in",
        403: "wrong role, or missing/wrong X-CSRF-Token",
        404: "no such entry, version or cluster",
        409: "the entry moved on (both versions returned) or the version's state forbids this",
        413: "the request body is too large",
        422: "a field breaks a limit, or the entry does not pass validation",
        429: "too many failed logins",
        503: "the engine could not take the change",
    }
    return {
        c: {"description": text[c], "model": ConflictOut if c == 409 else ErrorOut} for c in codes
    }
