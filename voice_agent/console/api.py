"""HTTP routes of the console (mounted by `server.create_app`); who may call each is in
access.py. Every view of a conversation and every message sent to a citizen is audited."""

# No `from __future__ import annotations` here: FastAPI must see the Annotated[...,
# Depends(...)] aliases built inside the router function as objects, not strings.
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from voice_agent.console import history, stats, store
from voice_agent.console.access import Access
from voice_agent.console.api_models import (
    SESSION_ID,
    CloseRequest,
    DescribeRequest,
    MessageRequest,
    RatingRequest,
)
from voice_agent.console.flags import KINDS
from voice_agent.console.service import ConsoleService
from voice_agent.content.api_deps import ContentRoute
from voice_agent.content.errors import Forbidden, InvalidState, NotFound
from voice_agent.content.records import Principal

Resolve = Callable[[Request], ConsoleService]
SessionId = Annotated[str, Path(pattern=SESSION_ID)]
HandoffId = Annotated[str, Path(pattern=r"^[a-f0-9]{1,32}$")]
Day = Annotated[dt.date | None, Query(description="a day (YYYY-MM-DD), in the desk's time zone")]
Text = Annotated[str | None, Query(max_length=100)]


def period(
    svc: ConsoleService, since: dt.date | None, until: dt.date | None
) -> tuple[float, float]:
    """[since 00:00, until 24:00) in the desk's time zone; default: the last 7 days."""
    zone = svc.desk.hours.zone
    today = dt.datetime.fromtimestamp(svc.clock(), zone).date()
    last = until or today
    first = since or last - dt.timedelta(days=6)
    if first > last:
        raise InvalidState("the period starts after it ends")
    start = dt.datetime.combine(first, dt.time(), zone).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).timestamp()
    return start, end


async def visible_session(svc: ConsoleService, user: Principal, session_id: str) -> dict[str, Any]:
    """A live conversation (any staff), or a past one (supervisors; staff: only theirs)."""
    s = svc.log.live.get(session_id)
    if s is not None:
        h = svc.desk.for_session(session_id)
        return {
            "session": s.summary(),
            "turns": list(s.turns),
            "flags": list(s.flags),
            "handoff": svc.handoff_row(h) | {"position": svc.desk.position(h)} if h else None,
            "watchers": svc.hub.watchers(session_id),
            "live": True,
        }
    detail = await svc.db.run(store.session_detail, session_id)
    remote = svc.remote_summary(session_id)  # live on another worker: its turns are stored
    if remote is not None:
        return {
            "session": remote,
            "turns": detail["turns"] if detail else [],
            "flags": detail["flags"] if detail else [],
            "handoff": None,
            "watchers": svc.hub.watchers(session_id),
            "live": True,
        }
    if detail is None:
        raise NotFound(f"no conversation {session_id!r}")
    if user.role != "supervisor" and not await svc.db.run(
        store.handled_by, session_id, user.username
    ):
        raise Forbidden("this past conversation was handled by someone else")
    return {**detail, "live": False}


def make_router(resolve: Resolve, access: Access) -> APIRouter:
    async def caller(request: Request) -> Principal:
        return await access.check(request, request.method)

    router = APIRouter(route_class=ContentRoute, tags=["console"], dependencies=[Depends(caller)])
    User = Annotated[Principal, Depends(caller)]

    @router.get("/api/console/sessions")
    async def sessions(user: User, request: Request) -> dict[str, Any]:
        """Live sessions, flagged ones first; the hand-off queue; who is on duty."""
        svc = resolve(request)
        live = svc.live_summaries()
        live.sort(key=lambda s: (not s["flags"], -s["last_activity"]))
        return {**svc.presence(), "sessions": live, "handoffs": svc.queue_view()}

    @router.get("/api/console/sessions/{session_id}")
    async def session(session_id: SessionId, user: User, request: Request) -> dict[str, Any]:
        svc = resolve(request)
        out = await visible_session(svc, user, session_id)
        await svc.audit(user.username, "view", session_id)
        return out

    @router.get("/api/console/handoffs")
    async def handoffs(user: User, request: Request) -> list[dict[str, Any]]:
        return resolve(request).queue_view()

    @router.post("/api/console/handoffs/{handoff_id}/accept")
    async def accept(handoff_id: HandoffId, user: User, request: Request) -> dict[str, Any]:
        """First come, first served: a second accept gets 409 (code "taken")."""
        svc = resolve(request)
        row = await svc.handoff_action("accept", handoff_id, user.username)
        await svc.audit(user.username, "accept", row["session_id"], handoff_id)
        return row

    @router.post("/api/console/handoffs/{handoff_id}/message")
    async def message(
        handoff_id: HandoffId, req: MessageRequest, user: User, request: Request
    ) -> dict[str, Any]:
        """A published FAQ answer (in the citizen's language) or typed text, spoken by the
        avatar and shown as coming from staff."""
        svc = resolve(request)
        if svc.desk.has(handoff_id):
            svc.desk.held(handoff_id, user.username)  # (403 before anything is looked up)
        if req.faq_id is not None:
            entry = svc.entries().get(req.faq_id)
            if entry is None:
                raise NotFound(f"no published FAQ entry {req.faq_id!r}")
            _lang, text = entry.answer_in(svc.handoff_language(handoff_id))
        else:
            text = " ".join((req.text or "").split())
        sent = await svc.handoff_action(
            "message", handoff_id, user.username, text=text, faq_id=req.faq_id
        )
        detail = f"faq {req.faq_id}" if req.faq_id else svc.redactor.redact(text)
        await svc.audit(user.username, "message", sent["session_id"], handoff_id, detail)
        return {"text": sent["text"], "language": sent["language"], "faq_id": sent["faq_id"]}

    @router.post("/api/console/handoffs/{handoff_id}/return")
    async def give_back(handoff_id: HandoffId, user: User, request: Request) -> dict[str, Any]:
        """Hand the conversation back to the assistant."""
        svc = resolve(request)
        row = await svc.handoff_action("return", handoff_id, user.username)
        await svc.audit(user.username, "return", row["session_id"], handoff_id)
        return row

    @router.post("/api/console/handoffs/{handoff_id}/close")
    async def close(
        handoff_id: HandoffId, req: CloseRequest, user: User, request: Request
    ) -> dict[str, Any]:
        """Close with an outcome (the holder; a supervisor may close any live hand-off)."""
        svc = resolve(request)
        row = await svc.handoff_action(
            "close",
            handoff_id,
            user.username,
            outcome=req.outcome,
            supervisor=user.role == "supervisor",
        )
        await svc.audit(user.username, "close", row["session_id"], handoff_id, req.outcome)
        return row

    @router.get("/api/console/answers")
    async def answers(
        user: User, request: Request, lang: Text = None, q: Text = None
    ) -> list[dict[str, Any]]:
        """Published answers to send, each in `lang` (the citizen's language)."""
        svc = resolve(request)
        needle = (q or "").strip().lower()
        out = []
        for entry in svc.entries().values():
            language, answer = entry.answer_in(lang or "pt")
            loc = entry.languages[language]
            hay = " ".join([entry.id, entry.topic, loc.question, answer]).lower()
            if needle and needle not in hay:
                continue
            out.append(
                {
                    "faq_id": entry.id,
                    "topic": entry.topic,
                    "language": language,
                    "question": loc.question,
                    "answer": answer,
                }
            )
        return sorted(out, key=lambda x: (x["topic"], x["faq_id"]))[:100]

    @router.post("/api/console/ratings", status_code=201)
    async def rate(req: RatingRequest, user: User, request: Request) -> dict[str, Any]:
        """A staff rating of one answer (good / wrong / incomplete, with a note)."""
        svc = resolve(request)
        await visible_session(svc, user, req.session_id)
        row = await svc.log.rate(
            req.session_id, req.turn_id, "staff", req.rating, req.note, user.username
        )
        if row is None:
            raise NotFound("no answer with that turn id in this conversation")
        await svc.audit(user.username, "rate", req.session_id, None, f"{req.turn_id} {req.rating}")
        return row

    @router.get("/api/console/history")
    async def search(
        user: User,
        request: Request,
        since: Day = None,
        until: Day = None,
        location: Text = None,
        language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
        faq_id: Text = None,
        flag: Annotated[str | None, Query(pattern="^(" + "|".join(KINDS) + ")$")] = None,
        outcome: Text = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Past and live conversations; staff see only those they handled."""
        svc = resolve(request)
        start, end = period(svc, since, until)
        query = history.Query(
            start,
            end,
            location,
            language,
            faq_id,
            flag,
            outcome,
            None if user.role == "supervisor" else user.username,
            limit,
        )
        return await svc.db.run(history.search, query)

    @router.get("/api/console/stats")
    async def dashboard(
        user: User, request: Request, since: Day = None, until: Day = None
    ) -> dict[str, Any]:
        svc = resolve(request)
        start, end = period(svc, since, until)
        low = svc.settings.console.low_confidence
        return await svc.db.run(stats.dashboard, start, end, svc.desk.hours.zone, low)

    @router.get("/api/console/stats.csv", response_class=PlainTextResponse)
    async def dashboard_csv(
        user: User, request: Request, since: Day = None, until: Day = None
    ) -> Response:
        svc = resolve(request)
        start, end = period(svc, since, until)
        low = svc.settings.console.low_confidence
        d = await svc.db.run(stats.dashboard, start, end, svc.desk.hours.zone, low)
        first = dt.datetime.fromtimestamp(start, svc.desk.hours.zone).date()
        name = f"voice-agent-stats-{first.isoformat()}.csv"
        return Response(
            stats.to_csv(d),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/api/console/audit")
    async def audit_log(
        user: User,
        request: Request,
        since: Day = None,
        until: Day = None,
        username: Annotated[str | None, Query(max_length=64)] = None,
        session_id: Annotated[str | None, Query(pattern=SESSION_ID)] = None,
    ) -> list[dict[str, Any]]:
        """Who viewed which conversation and who sent what to a citizen."""
        svc = resolve(request)
        start, end = period(svc, since, until)
        return await svc.db.run(store.audit_list, start, end, username, session_id)

    @router.get("/api/console/export/{session_id}")
    async def export(session_id: SessionId, user: User, request: Request) -> dict[str, Any]:
        """Everything kept about one conversation (a subject-access request)."""
        svc = resolve(request)
        out = await svc.db.run(history.export, session_id)
        if out is None:
            raise NotFound(f"no conversation {session_id!r}")
        await svc.audit(user.username, "export", session_id)
        return out

    # --- the content team's side ---------------------------------------------------------------
    @router.get("/api/feedback")
    async def feedback(
        user: User,
        request: Request,
        status: Annotated[str, Query(pattern="^(open|done)$")] = "open",
    ) -> list[dict[str, Any]]:
        """Ratings of answers (citizens' thumbs, staff ratings) with the FAQ entry and version
        that answered: bad ones first."""
        return await resolve(request).db.run(store.feedback_list, status)

    @router.post("/api/feedback/{feedback_id}/done")
    async def feedback_done(
        feedback_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: User, request: Request
    ) -> dict[str, Any]:
        if not await resolve(request).db.run(store.set_feedback_status, feedback_id, "done"):
            raise NotFound(f"no rating {feedback_id}")
        return {"id": feedback_id, "status": "done"}

    @router.get("/metrics", response_class=PlainTextResponse, include_in_schema=False)
    async def metrics(user: User, request: Request) -> Response:
        return Response(
            resolve(request).metrics.render(),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    return router


def public_router(resolve: Resolve) -> APIRouter:
    """What the citizen's page may call without an account."""
    router = APIRouter(route_class=ContentRoute, tags=["console"])

    @router.post("/api/kiosk/describe")
    async def describe(req: DescribeRequest, request: Request) -> dict[str, Any]:
        """A kiosk names itself (kiosk/browser, location label) for the console's list; once
        per session (the session id is known only to its own page and to staff)."""
        svc = resolve(request)
        location = " ".join(req.location.split())
        if not svc.log.describe(req.session_id, req.source, location):
            raise NotFound("no such live session, or it was described already")
        await svc.db.run(store.describe_session, req.session_id, req.source, location)
        return {"ok": True}

    return router
