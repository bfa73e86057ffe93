"""HTTP service: the JSON API (`POST /api/ask`, `GET /healthz`) on one shared engine.

The WebRTC voice sessions and the web client build on this app (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from .ask import ask
from .config import Settings
from .engine import Engine, TurnInput
from .errors import BadInput, ServiceError
from .languages import UnsupportedLanguage


class AskRequest(BaseModel):
    text: str = Field(..., max_length=100_000)
    lang: str | None = Field(None, max_length=16)


def create_app(settings: Settings) -> FastAPI:
    holder: dict[str, Engine] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = Engine.create(settings)
        await engine.load_faq()
        await engine.stt.load()
        holder["engine"] = engine
        app.state.engine = engine
        app.state.ask_lock = asyncio.Semaphore(4)
        yield
        engine.close()

    app = FastAPI(title="voice-agent", version="0.1.0", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        engine = holder.get("engine")
        return {
            "status": "ok" if engine else "starting",
            "faq_entries": len(engine.retriever.entries) if engine else 0,
        }

    @app.post("/api/ask")
    async def api_ask(req: AskRequest) -> dict[str, Any]:
        engine = holder["engine"]
        try:
            async with app.state.ask_lock:
                outcome = await ask(
                    engine, TurnInput(text=req.text, language=req.lang), want_audio=False
                )
        except (BadInput, UnsupportedLanguage) as exc:
            raise HTTPException(status_code=400, detail=getattr(exc, "message", str(exc))) from exc
        except ServiceError as exc:
            raise HTTPException(status_code=503, detail=exc.message) from exc
        return outcome.result

    return app


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
