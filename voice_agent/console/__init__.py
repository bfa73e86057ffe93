"""The contact-centre console: staff see live conversations, take over hand-offs, rate answers;
supervisors read history, the dashboard and the audit log.

`install(app, settings, web_dir)` is all the server does: it mounts the routes, serves
`/console`, and runs a `ConsoleService` inside the app's lifespan, after the engine and the
content service exist (it needs the bus, the redactor and the accounts) and handing its desk
to the session manager before any session starts.

Modules: bus_adapter (the one reader of bus messages), observer (conversation log, flags),
desk + presence + hours (hand-offs), hub + ws (consoles' websocket), access (route rules),
api (HTTP routes), store / history / stats (SQL), metrics (/metrics), service (wiring).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import FileResponse

from voice_agent.config import Settings


def install(app: FastAPI, settings: Settings, web_dir: Path) -> None:
    from voice_agent.console.access import Access
    from voice_agent.console.api import make_router, public_router
    from voice_agent.console.service import ConsoleService
    from voice_agent.console.ws import make_ws_router

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        console: ConsoleService | None = None
        async with inner(a) as state:
            services, content = a.state.services, a.state.content
            console = ConsoleService(
                settings,
                services.bus,
                content.redactor,
                lambda: services.engine.retriever.entries,
                health=services.engine.health,  # database failures show in /healthz
            )
            cluster = getattr(a.state, "cluster", None)
            if cluster is not None:  # other workers' live sessions (voice_agent/cluster.py)
                console.join(cluster)
            await console.start()
            # Every transport's conversations ask this desk for a person (WebRTC sessions; the
            # text transport too where there is one). They are built before the console is.
            for transport in ("sessions", "texts"):
                if hasattr(services, transport):
                    getattr(services, transport).desk = console.desk
            a.state.console = console
            yield state
        # the sessions are closed by now (they detached from the desk): stop the console
        await console.stop()

    app.router.lifespan_context = lifespan

    def resolve(conn: Request | WebSocket) -> ConsoleService:
        return conn.app.state.console  # type: ignore[no-any-return]

    access = Access(lambda conn: conn.app.state.content.accounts, settings.console.metrics_token)
    app.include_router(make_router(resolve, access))
    app.include_router(make_ws_router(resolve, access))
    app.include_router(public_router(resolve))
    page = web_dir / "console.html"

    @app.get("/console", include_in_schema=False)
    async def console_page() -> FileResponse:
        return FileResponse(page)
