"""What every HTTP request passes through before a route sees it.

- Security headers on every response (a Content-Security-Policy that allows no inline script
  and no other origin, no framing, no MIME sniffing, no referrer, the microphone for this
  site only).
- A request-size limit: a body larger than the limit is refused with 413 before it is read
  in full (the declared length is checked first, then the bytes actually received).
- Per-address rate limits on the public routes that start work (`/api/ask`, `/api/handoff`);
  WebRTC offers and logins have their own limits. (The shipped nginx site, deploy/nginx/,
  limits every route per address in front of these.)
- Validation errors that never echo the request back (a 3 MB question came back as a 3 MB
  error) and never fail on a body that is not UTF-8 (that was a 500).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voice_agent.config import LimitSettings, ServerSettings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def _json(status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()) -> Any:
    payload = json.dumps(body).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *SECURITY_HEADERS,
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": payload}


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per client address, bounded in number (least recently used go first)."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._max = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str) -> float:
        """0 if allowed now, else the seconds until the next request would be."""
        now = self._clock()
        b = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
        b.tokens = min(float(self.burst), b.tokens + (now - b.at) * self.per_second)
        b.at = now
        self._buckets[client] = b
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return 0.0
        return (1.0 - b.tokens) / self.per_second if self.per_second > 0 else 60.0


class HttpGuard:
    """Pure ASGI middleware (it never buffers a streamed response, never touches websockets)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: ServerSettings,
        limits: LimitSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.max_request = limits.max_request_bytes
        self.max_upload = limits.max_upload_bytes
        self.limits = {
            path: RateLimiter(settings.asks_per_second, settings.ask_burst, clock)
            for path in ("/api/ask", "/api/handoff")
        }

    def _max_body(self, path: str) -> int:
        if path == "/api/faq/import":
            return self.max_upload
        return self.max_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in SECURITY_HEADERS if h[0] not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        limiter = self.limits.get(path) if scope.get("method") == "POST" else None
        if limiter is not None:
            client = scope.get("client") or ("unknown", 0)
            wait = limiter.take(str(client[0]))
            if wait > 0:
                start, body = _json(
                    429,
                    {
                        "detail": f"too many requests; try again in {wait:.1f} s",
                        "retry_after": round(wait, 1),
                    },
                    [(b"retry-after", str(max(1, round(wait))).encode())],
                )
                await send(start)
                await send(body)
                return

        limit = self._max_body(path)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, limit)
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await self._too_large(send, limit)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _too_large(send: Send, limit: int) -> None:
        start, body = _json(
            413, {"detail": f"the request is larger than {limit:,} bytes", "code": "too_large"}
        )
        await send(start)
        await send(body)


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, never the input (it may be megabytes, or bytes that are not UTF-8)."""
    out = []
    for err in exc.errors()[:20]:
        loc = [x if isinstance(x, (str, int)) else str(x) for x in err.get("loc", ())]
        out.append({"loc": loc, "msg": str(err.get("msg", ""))[:200], "type": err.get("type")})
    return out


def install(app: FastAPI, settings: ServerSettings, limits: LimitSettings) -> None:
    """Add the guard and the validation-error handler to an app."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _safe_errors(exc)
        if any(e["type"] in ("json_invalid", "model_attributes_type") for e in errors):
            detail = "the request body must be a JSON object in UTF-8"
        else:
            detail = "the request does not match the API (see /openapi.json)"
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    app.add_middleware(HttpGuard, settings=settings, limits=limits)
