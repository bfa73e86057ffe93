"""Hand-offs across workers (voice_agent/cluster.py). Each hand-off stays on the desk of the
worker that holds its citizen's conversation (its timers, the accept race, what the citizen
is told); the workers share the rest:

- who has a console open (`presence`): staff signed in on any worker are on duty for all,
  and a console that closes keeps its grace everywhere;
- each desk's queue (`queue`): every console lists every waiting and accepted hand-off;
- a console's action on another worker's hand-off (accept, message, return, close) is asked
  of that worker (`desk` -> `desk_reply`) and answered as if it were local: the same 409 for
  a hand-off taken meanwhile, 403 for someone else's, within `CALL_TIMEOUT_S` or a 503.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from voice_agent.cluster import Cluster
from voice_agent.console.desk import Desk, Handoff, Taken
from voice_agent.content.errors import ContentError, Forbidden, InvalidState, NotFound

log = logging.getLogger(__name__)
CALL_TIMEOUT_S = 5.0
ERRORS: dict[str, type[ContentError]] = {
    "Taken": Taken,
    "InvalidState": InvalidState,
    "Forbidden": Forbidden,
    "NotFound": NotFound,
}


class Unreachable(ContentError):
    """The worker that holds the conversation did not answer in time."""

    code = "worker_unreachable"
    status = 503


class RemoteDesk:
    def __init__(
        self,
        cluster: Cluster,
        desk: Desk,
        local_queue: Callable[[], list[dict[str, Any]]],
        row: Callable[[Handoff], dict[str, Any]],
        publish_queue: Callable[[], None],
    ) -> None:
        self.cluster = cluster
        self.desk = desk
        self._local_queue = local_queue  # this worker's queue rows
        self._row = row
        self._publish_queue = publish_queue  # tell this worker's consoles the merged queue
        self.queues: dict[str, list[dict[str, Any]]] = {}  # worker -> its queue rows
        self._calls: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        cluster.on("presence", self._presence)
        cluster.on("queue", self._queue)
        cluster.on("desk", self._asked)
        cluster.on("desk_reply", self._answered)
        cluster.on("hello", lambda _o, _p: self.share())
        cluster.on("bye", self._gone)
        cluster.on_connected.append(self.share)
        desk.presence.local_listeners.append(self.share_presence)

    # --- ours, to the others ---------------------------------------------------------------
    def share(self) -> None:
        self.share_presence()
        self.share_queue()

    def share_presence(self) -> None:
        self.cluster.send("presence", {"staff": self.desk.presence.local()})

    def share_queue(self) -> None:
        self.cluster.send("queue", {"items": self._local_queue()})

    # --- theirs ----------------------------------------------------------------------------
    def _presence(self, origin: str, payload: dict[str, Any]) -> None:
        staff = payload.get("staff")
        if isinstance(staff, dict):
            self.desk.presence.set_remote(origin, {str(u): n for u, n in staff.items()})

    def _queue(self, origin: str, payload: dict[str, Any]) -> None:
        items = payload.get("items")
        if isinstance(items, list):
            self.queues[origin] = [i for i in items if isinstance(i, dict) and "id" in i]
            self._publish_queue()

    def _gone(self, origin: str, _payload: dict[str, Any]) -> None:
        self.desk.presence.set_remote(origin, {})
        if self.queues.pop(origin, None) is not None:
            self._publish_queue()

    def rows(self) -> list[dict[str, Any]]:
        return [row for items in self.queues.values() for row in items]

    def find(self, handoff_id: str) -> tuple[str, dict[str, Any]] | None:
        for worker, items in self.queues.items():
            for row in items:
                if row["id"] == handoff_id:
                    return worker, row
        return None

    # --- a console here acts on a hand-off there -------------------------------------------
    async def call(self, worker: str, op: str, **args: Any) -> dict[str, Any]:
        call_id = f"{self.cluster.name}/{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = future
        self.cluster.send("desk", {"call": call_id, "to": worker, "op": op, "args": args})
        try:
            reply = await asyncio.wait_for(future, CALL_TIMEOUT_S)
        except TimeoutError:
            raise Unreachable(
                f"the worker holding this conversation did not answer ({op})"
            ) from None
        finally:
            self._calls.pop(call_id, None)
        error = reply.get("error")
        if error is not None:
            raise ERRORS.get(str(error), InvalidState)(str(reply.get("message", error)))
        return dict(reply.get("result") or {})

    def _answered(self, _origin: str, payload: dict[str, Any]) -> None:
        future = self._calls.get(str(payload.get("call")))
        if future is not None and not future.done():
            future.set_result(payload)

    def _asked(self, origin: str, payload: dict[str, Any]) -> None:
        if payload.get("to") != self.cluster.name:
            return
        reply: dict[str, Any] = {"call": payload.get("call")}
        try:
            args = dict(payload.get("args") or {})
            reply["result"] = desk_action(self.desk, self._row, str(payload.get("op")), args)
        except ContentError as exc:
            reply["error"], reply["message"] = type(exc).__name__, exc.message
        except (KeyError, TypeError, ValueError) as exc:
            reply["error"], reply["message"] = "InvalidState", f"bad request: {exc}"
        self.cluster.send("desk_reply", reply)
        asked = payload.get("args")
        handoff = asked.get("handoff_id") if isinstance(asked, dict) else None
        # (never the args themselves: a staff message may hold a citizen's personal data)
        log.info("cluster: %s on hand-off %s, asked by %s", payload.get("op"), handoff, origin)


def desk_action(
    desk: Desk, row: Callable[[Handoff], dict[str, Any]], op: str, a: dict[str, Any]
) -> dict[str, Any]:
    """One console action on this worker's desk (a console here, or one on another worker)."""
    hid, user = str(a["handoff_id"]), str(a["username"])
    if op == "accept":
        return row(desk.accept(hid, user))
    if op == "message":
        h = desk.held(hid, user)
        sent = desk.send(hid, user, str(a["text"]), a.get("faq_id"))
        return {"text": sent.text, "language": sent.language, "faq_id": sent.faq_id,
                "session_id": h.session_id}  # fmt: skip
    if op == "return":
        return row(desk.give_back(hid, user))
    if op == "close":
        return row(desk.close(hid, user, str(a["outcome"]), supervisor=bool(a["supervisor"])))
    raise InvalidState(f"unknown desk operation {op!r}")
