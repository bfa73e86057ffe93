"""HTTP service: web client, JSON API and WebRTC signalling, on one shared engine.

`voice-agent serve` runs it on uvicorn. Routes: `/` (browser mode), `/kiosk`, `/static/*`
(web_client/), `GET /healthz`, `GET /api/languages`, `POST /api/ask`, `POST /api/rtc/offer`,
`POST /api/handoff`, websocket `/api/text` (a text-only conversation, docs/WIRE.md). Models
load once at start-up and are shared by every session. On SIGTERM every session is told
(`closed`, reason `shutdown`) and closed, within `SHUTDOWN_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from voice_agent.cluster import Cluster
from voice_agent.config import Settings
from voice_agent.console import install as install_console
from voice_agent.content.api import make_router as content_router
from voice_agent.content.service import ContentService
from voice_agent.conversation.ask import ask
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.conversation.handoff import HandoffDesk
from voice_agent.errors import BadInput, ServiceError
from voice_agent.health import storage_problem
from voice_agent.language.languages import LANGUAGES, UnsupportedLanguage
from voice_agent.memory import Heap
from voice_agent.transports import http_guard
from voice_agent.transports.rtc.manager import RateLimited, SessionManager, restrict_ice_addresses
from voice_agent.transports.text import TextSessions

WEB = Path(__file__).resolve().parents[2] / "web_client"
log = logging.getLogger(__name__)
SPILL_HEADER = "x-voice-agent-spill"  # set by the proxy: a full worker answers 503
SHUTDOWN_S = 1.0  # at most this long closing sessions (the whole exit stays under 2 s)


class AskRequest(BaseModel):
    text: str = Field(..., max_length=100_000)
    lang: str | None = Field(None, max_length=16)


class OfferRequest(BaseModel):
    sdp: str = Field(..., max_length=200_000)
    type: str = Field(..., max_length=16)
    lang: str | None = Field(None, max_length=16)
    session_id: str | None = Field(None, max_length=64)  # a reconnect: the session it replaces


class HandoffRequest(BaseModel):
    session_id: str | None = Field(None, max_length=64)
    lang: str | None = Field(None, max_length=16)


class Services:
    """What the routes share; built in the app's lifespan, never a module global."""

    def __init__(
        self, settings: Settings, engine: Engine | None = None, desk: HandoffDesk | None = None
    ) -> None:
        self.engine = engine or Engine.create(settings)
        self.bus = self.engine.bus
        self.heap = Heap()
        self.sessions = SessionManager(
            self.engine, settings.server, self.bus, desk=desk, on_closed=self.heap.sweep_soon
        )
        self.texts = TextSessions(self.engine, desk)
        self.asks = asyncio.Semaphore(settings.server.max_concurrent_asks)

    async def close_sessions(self) -> None:
        """Tell every open conversation the server is going, and close it (bounded)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_S):
                await asyncio.gather(self.sessions.close_all(), self.texts.close_all())


def _error(exc: Exception) -> HTTPException:
    if isinstance(exc, (BadInput, UnsupportedLanguage)):
        return HTTPException(400, detail=getattr(exc, "message", str(exc)))
    if isinstance(exc, ServiceError):
        return HTTPException(503, detail=exc.message)
    raise exc


def _cluster_report(cluster: Cluster | None) -> dict[str, Any] | None:
    """This worker and the others it hears (None: one worker on its own database)."""
    if cluster is None:
        return None
    return {
        "worker": cluster.name,
        "connected": cluster.connected.is_set(),
        "peers": sorted(cluster.alive()),
    }


def create_app(settings: Settings, web_dir: Path = WEB) -> FastAPI:
    restrict_ice_addresses(settings.server.ice_host_addresses)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings)
        content = ContentService(settings, services.engine)
        # Workers sharing a PostgreSQL database hear each other (voice_agent/cluster.py)
        cluster = Cluster(settings.database_url) if settings.database_url else None
        if cluster is not None:
            content.join(cluster)
            await cluster.start()
        await content.start()  # faq_db/ -> published versions -> engine (was engine.load_faq)
        await services.engine.warm_up()
        services.heap.freeze()  # the models and the FAQ: never scanned by a collection again
        app.state.services = services
        app.state.content = content
        app.state.cluster = cluster
        yield
        await services.close_sessions()
        await content.stop()
        if cluster is not None:
            await cluster.stop()
        services.engine.close()
        services.heap.close()

    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN (outbound traffic);
    # the schema itself is at /openapi.json.
    app = FastAPI(
        title="voice-agent", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    http_guard.install(app, settings.server, settings.limits)

    def services(request: Request) -> Services:
        return request.app.state.services  # type: ignore[no-any-return]

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        s = services(request)
        health, tts = s.engine.health, s.engine.voices.status()
        return {
            "status": health.status,  # "degraded": a part failed and has not recovered
            "problems": health.report(),  # per part: code, message, since, count (docs/FAULTS.md)
            "faq_entries": len(s.engine.retriever.entries),
            "sessions": len(s.sessions.sessions),
            "queued": len(s.sessions.queue),
            "peer_connections": len(s.sessions.peer_connections),
            "tasks": len(asyncio.all_tasks()),
            "threads": threading.active_count(),
            "tts": tts,  # voice per language, voices that failed, reply-audio cache progress
            "cluster": _cluster_report(getattr(request.app.state, "cluster", None)),
        }

    @app.get("/api/languages")
    async def languages() -> list[dict[str, Any]]:
        return [
            {"code": x.code, "name": x.english_name, "native": x.native_name, "rtl": x.rtl}
            for x in LANGUAGES
        ]

    @app.post("/api/ask")
    async def api_ask(req: AskRequest, request: Request) -> dict[str, Any]:
        s = services(request)
        try:
            async with s.asks:
                outcome = await ask(
                    s.engine, TurnInput(text=req.text, language=req.lang), want_audio=False
                )
        except (ServiceError, UnsupportedLanguage) as exc:
            raise _error(exc) from exc
        return outcome.result

    @app.post("/api/rtc/offer")
    async def rtc_offer(req: OfferRequest, request: Request) -> dict[str, Any]:
        client = request.client.host if request.client else "unknown"
        if request.headers.get(SPILL_HEADER) == "1" and services(request).sessions.full:
            # Behind a proxy with several workers (deploy/nginx/voice-agent-workers.conf):
            # "try the next one"; the proxy's last try omits the header and is queued.
            raise HTTPException(503, detail="this worker is full; another may have room")
        try:
            return await services(request).sessions.offer(
                req.sdp, req.type, req.lang, client, resume=req.session_id
            )
        except RateLimited:
            raise  # answered by the handler below, with retry_after in the body
        except (ServiceError, UnsupportedLanguage) as exc:
            raise _error(exc) from exc

    @app.post("/api/handoff")
    async def handoff(req: HandoffRequest, request: Request) -> dict[str, Any]:
        return services(request).sessions.handoff(req.session_id, req.lang)

    @app.websocket("/api/text")
    async def text_session(websocket: WebSocket, lang: str | None = None) -> None:
        await websocket.app.state.services.texts.serve(websocket, lang)

    app.include_router(content_router(lambda request: request.app.state.content))
    install_console(app, settings, web_dir)  # /console, /api/console/*, /metrics, the desk

    @app.exception_handler(RateLimited)
    async def rate_limited(_request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "retry_after": exc.retry_after}, status_code=429
        )

    @app.exception_handler(sqlite3.Error)
    async def storage_failed(request: Request, exc: sqlite3.Error) -> JSONResponse:
        """The database is locked, read-only or full: a clear 503, never a traceback."""
        reason = storage_problem(exc)
        log.error(
            "%s %s: the database refused (%s): %s", request.method, request.url.path, reason, exc
        )
        request.app.state.services.engine.health.failed("storage", reason, str(exc))
        detail = f"the database is unavailable ({reason}); nothing was saved, try again later"
        return JSONResponse({"detail": detail, "code": "storage_unavailable"}, status_code=503)

    if web_dir.is_dir():
        app.mount("/static", StaticFiles(directory=web_dir), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(web_dir / "index.html")

        @app.get("/kiosk", include_in_schema=False)
        async def kiosk() -> FileResponse:
            return FileResponse(web_dir / "kiosk.html")

        @app.get("/editor", include_in_schema=False)
        async def editor() -> FileResponse:
            return FileResponse(web_dir / "editor.html")

    return app


def log_config() -> dict[str, Any]:
    """uvicorn's logging plus this package's loggers at INFO, on uvicorn's stderr handler.
    Without it Python drops everything below WARNING: start-up progress (embedding, the
    reply-audio fill) and the content and console notices never reached the operator."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["voice_agent"] = {
        "()": "uvicorn.logging.DefaultFormatter",
        "fmt": "%(levelprefix)s %(name)s: %(message)s",
        "use_colors": None,
    }
    config["handlers"]["voice_agent"] = {
        "formatter": "voice_agent",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["voice_agent"] = {
        "handlers": ["voice_agent"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=log_config(),
        timeout_graceful_shutdown=1,  # in-flight HTTP requests and websockets, then exit
    )
