"""`/api/console/live`: the console's websocket. Pushes the session list, the hand-off queue,
presence, and the turns of the conversations this console opened.

Handshake: a staff or supervisor login (cookie) and a same-origin `Origin`; else the upgrade
is refused (HTTP 403). Then the console's first message must be `hello` with the session's
CSRF token; only then does the staff member count as present (on duty). Console -> server
messages are small JSON objects with a strictly increasing `seq` (a replayed or reordered one
is refused), of a known type and with no unknown field; an oversized message closes the socket
(1009). A console that falls behind loses its oldest messages, never slows anyone else.
"""

# No `from __future__ import annotations` here (FastAPI reads the signature at runtime).
import asyncio
import contextlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from voice_agent.console.access import Access
from voice_agent.console.hub import Viewer
from voice_agent.console.service import ConsoleService
from voice_agent.content.errors import ContentError

HELLO_TIMEOUT_S = 10.0
NAME_CHARS = 40
FIELDS = {
    "hello": {"seq", "csrf", "name"},
    "watch": {"seq", "session_id"},
    "unwatch": {"seq", "session_id"},
    "ping": {"seq"},
}
ResolveWs = Callable[[WebSocket], ConsoleService]


class Refused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse(raw: str, limit: int, last_seq: int) -> dict[str, Any]:
    """One console message, checked; Refused says why not."""
    if len(raw.encode("utf-8", "replace")) > limit:
        raise Refused("too_large", f"messages are at most {limit} bytes")
    try:
        msg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Refused("bad_message", f"not JSON: {exc.msg}") from exc
    if not isinstance(msg, dict) or msg.get("type") not in FIELDS:
        raise Refused("bad_message", f"a message is an object with type in {sorted(FIELDS)}")
    extra = set(msg) - FIELDS[msg["type"]] - {"type"}
    if extra:
        raise Refused("bad_message", f"unknown field(s): {', '.join(sorted(extra))}")
    seq = msg.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise Refused("bad_message", '"seq" must be an integer')
    if seq <= last_seq:
        raise Refused("replayed", f"seq {seq} was already used (last {last_seq})")
    if "session_id" in FIELDS[msg["type"]] and not isinstance(msg.get("session_id"), str):
        raise Refused("bad_message", '"session_id" must be a string')
    return msg


def same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser (browsers always send Origin on a websocket)
    host = ws.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


def make_ws_router(resolve: ResolveWs, access: Access) -> APIRouter:
    router = APIRouter()

    @router.websocket("/api/console/live")
    async def live(ws: WebSocket) -> None:
        try:
            user = await access.check(ws, "WS")
        except ContentError as exc:
            await ws.close(code=4401 if exc.code == "not_logged_in" else 4403, reason=exc.message)
            return
        if not same_origin(ws):
            await ws.close(code=4403, reason="cross-origin websocket refused")
            return
        svc = resolve(ws)
        limit = svc.settings.console.max_message_bytes
        await ws.accept()
        try:
            raw = await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT_S)
            hello = parse(raw, limit, 0)
        except (TimeoutError, Refused, WebSocketDisconnect, KeyError):
            await _close(ws, 4401, "say hello (with the CSRF token) first")
            return
        csrf = hello.get("csrf")
        if (
            hello["type"] != "hello"
            or not isinstance(csrf, str)
            or not hmac.compare_digest(csrf.encode(), user.csrf_token.encode())
        ):
            await _close(ws, 4403, "missing or wrong CSRF token")
            return
        name = hello.get("name")
        name = " ".join(name.split())[:NAME_CHARS] if isinstance(name, str) and name else None
        viewer = Viewer(user.username, user.role, svc.settings.console.viewer_queue)
        svc.desk.presence.join(user.username, name)  # the others hear it; this one gets hello
        viewer.put(
            {
                **svc.presence(),
                "type": "hello",
                "me": {"username": user.username, "role": user.role, "name": name},
                "sessions": svc.live_summaries(),
                "handoffs": svc.queue_view(),
            }
        )
        svc.hub.add(viewer)
        sender = asyncio.create_task(_pump(ws, viewer), name=f"console-ws-{user.username}")
        try:
            await _receive(ws, svc, viewer, limit, hello["seq"])
        finally:
            # Bookkeeping first, with no await before it: a server shutting down (or a test
            # client closing) cancels this task, and a cancel at an await here would skip
            # leave(), leaving the hand-offs this person held off the queue for good.
            svc.hub.remove(viewer)
            svc.desk.presence.leave(user.username)
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    return router


async def _pump(ws: WebSocket, viewer: Viewer) -> None:
    while True:
        message = await viewer.queue.get()
        await ws.send_text(json.dumps(message, ensure_ascii=False))


async def _receive(
    ws: WebSocket, svc: ConsoleService, viewer: Viewer, limit: int, seq: int
) -> None:
    while True:
        try:
            raw = await ws.receive_text()
        except (WebSocketDisconnect, KeyError, RuntimeError):
            return
        try:
            msg = parse(raw, limit, seq)
        except Refused as exc:
            if exc.code == "too_large":
                await _close(ws, 1009, str(exc))
                return
            viewer.put({"type": "error", "code": exc.code, "message": str(exc)})
            continue
        seq = msg["seq"]
        kind = msg["type"]
        if kind == "ping":
            viewer.put({"type": "pong", "seq": seq})
        elif kind == "hello":
            viewer.put({"type": "error", "code": "bad_message", "message": "hello was said"})
        elif kind == "watch":
            sid = msg["session_id"]
            if sid not in svc.log.live and svc.remote_summary(sid) is None:
                viewer.put(
                    {"type": "error", "code": "not_found", "message": "no such live session"}
                )
                continue
            svc.hub.watch(viewer, sid)
            await svc.audit(viewer.username, "view", sid, None, "live")
            viewer.put({"type": "watching", "session_id": sid})
        elif kind == "unwatch":
            svc.hub.unwatch(viewer, msg["session_id"])


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code=code, reason=reason[:120])
