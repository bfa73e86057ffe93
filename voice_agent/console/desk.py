"""The staff desk: the hand-off queue behind `conversation/handoff.py`'s `HandoffDesk`.

A hand-off is waiting -> accepted -> closed (or returned to the assistant, cancelled by the
citizen, expired). The truth the conversation gets is the desk's own state: `on_duty` only
while a staff member has a console open within the opening hours; nobody on duty means no
record waits and the citizen is given the helpline. All state lives on the event loop (one
thread), so two staff accepting the same hand-off cannot both win: the second gets a 409.
Every change is reported to `on_change` (persistence and the consoles).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from voice_agent.config import HandoffSettings
from voice_agent.console.hours import Hours
from voice_agent.console.presence import Presence
from voice_agent.content.errors import Forbidden, InvalidState, NotFound
from voice_agent.conversation.handoff import (
    HandoffListener,
    HandoffState,
    HandoffStatus,
    StaffMessage,
)

log = logging.getLogger(__name__)
S = HandoffState
LIVE = (S.WAITING, S.ACCEPTED)
OUTCOMES = ("resolved", "referred", "unresolved", "no_response")


class Taken(InvalidState):
    code = "taken"


@dataclass(slots=True)
class Handoff:
    id: str
    session_id: str
    language: str
    reason: str  # asked | button | misses
    question: str  # redacted
    state: HandoffState
    created_at: float
    accepted_at: float | None = None
    ended_at: float | None = None
    staff: str | None = None  # username of the holder
    staff_name: str | None = None  # what the citizen is told (None: "a member of staff")
    outcome: str | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class Desk:
    """`HandoffDesk` for the conversations, plus the staff's actions for the console API."""

    def __init__(
        self,
        settings: HandoffSettings,
        grace_s: float,
        redact: Callable[[str], str],
        on_change: Callable[[Handoff], None],
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.hours = Hours(settings)
        self.presence = Presence(grace_s, self._staff_gone, self._duty_changed)
        self._redact = redact
        self._on_change = on_change
        self._clock = clock
        self._listeners: dict[str, HandoffListener] = {}
        self._by_id: dict[str, Handoff] = {}
        self._live: dict[str, Handoff] = {}  # session id -> its waiting or accepted hand-off
        self._hours_timer: asyncio.TimerHandle | None = None
        self.duty_listeners: list[Callable[[bool], None]] = []

    # --- HandoffDesk (called by conversations) -------------------------------------------------
    def on_duty(self) -> bool:
        return self.presence.count() > 0 and self.hours.is_open(self._clock())

    def attach(self, session_id: str, listener: HandoffListener) -> None:
        self._listeners[session_id] = listener

    def detach(self, session_id: str) -> None:
        self._listeners.pop(session_id, None)
        h = self._live.get(session_id)
        if h is None:
            return
        if h.state == S.WAITING:
            self._end(h, S.EXPIRED)
        else:
            self._end(h, S.CLOSED, outcome="citizen_left")

    def request(
        self, session_id: str, language: str, reason: str, last_question: str | None
    ) -> HandoffStatus:
        live = self._live.get(session_id)
        if live is not None:
            return self.status(live)
        now = self._clock()
        h = Handoff(
            uuid.uuid4().hex[:12],
            session_id,
            language,
            reason if reason in ("asked", "button", "misses") else "asked",
            self._redact(last_question or "")[:500],
            S.WAITING,
            now,
        )
        if not self.on_duty():
            h.state, h.ended_at = S.UNAVAILABLE, now
            self._on_change(h)  # counted on the dashboard (nobody on duty), never queued
            return HandoffStatus(None, session_id, S.UNAVAILABLE, on_duty=False)
        self._by_id[h.id] = h
        self._live[session_id] = h
        loop = asyncio.get_running_loop()
        h.timer = loop.call_later(self.settings.expire_after_s, self._expire, h.id)
        self._on_change(h)
        return self.status(h)

    def cancel(self, session_id: str) -> HandoffStatus | None:
        h = self._live.get(session_id)
        if h is None or h.state != S.WAITING:
            return None
        self._end(h, S.CANCELLED, tell=False)
        return self.status(h)

    # --- what staff do (console API) -----------------------------------------------------------
    def get(self, handoff_id: str) -> Handoff:
        h = self._by_id.get(handoff_id)
        if h is None:
            raise NotFound(f"no hand-off {handoff_id!r}")
        return h

    def accept(self, handoff_id: str, username: str) -> Handoff:
        h = self.get(handoff_id)
        if h.state == S.ACCEPTED:
            who = "you" if h.staff == username else h.staff
            raise Taken(f"this hand-off was already accepted by {who}")
        if h.state != S.WAITING:
            raise InvalidState(f"this hand-off is {h.state}: nothing to accept")
        self._stop_timer(h)
        h.state, h.staff, h.accepted_at = S.ACCEPTED, username, self._clock()
        h.staff_name = self.presence.display_name(username)
        self._changed(h)
        self._tell_positions()
        return h

    def has(self, handoff_id: str) -> bool:
        return handoff_id in self._by_id

    def held(self, handoff_id: str, username: str) -> Handoff:
        """The hand-off, if `username` holds it (accepted by them)."""
        h = self.get(handoff_id)
        if h.state != S.ACCEPTED:
            raise InvalidState(f"this hand-off is {h.state}, not accepted")
        if h.staff != username:
            raise Forbidden(f"this hand-off is held by {h.staff}")
        return h

    def send(self, handoff_id: str, username: str, text: str, faq_id: str | None) -> StaffMessage:
        h = self.held(handoff_id, username)
        message = StaffMessage(h.id, text, h.language, faq_id, h.staff_name)
        listener = self._listeners.get(h.session_id)
        if listener is None:
            raise InvalidState("the citizen has left this conversation")
        self._call(listener.staff_message, message)
        return message

    def give_back(self, handoff_id: str, username: str) -> Handoff:
        h = self.held(handoff_id, username)
        self._end(h, S.RETURNED)
        return h

    def close(
        self, handoff_id: str, username: str, outcome: str, *, supervisor: bool = False
    ) -> Handoff:
        h = self.get(handoff_id)
        if not (supervisor and h.state in LIVE):
            h = self.held(handoff_id, username)
        if outcome not in OUTCOMES:
            raise InvalidState(f"outcome must be one of {', '.join(OUTCOMES)}")
        self._end(h, S.CLOSED, outcome=outcome)
        return h

    def viewing(self, session_id: str, viewing: bool) -> None:
        listener = self._listeners.get(session_id)
        if listener is not None:
            self._call(listener.staff_viewing, viewing)

    def queue(self) -> list[Handoff]:
        """Live hand-offs: waiting first (oldest first), then accepted."""
        live = list(self._live.values())
        waiting = sorted((h for h in live if h.state == S.WAITING), key=lambda h: h.created_at)
        held = sorted((h for h in live if h.state == S.ACCEPTED), key=lambda h: h.created_at)
        return waiting + held

    def for_session(self, session_id: str) -> Handoff | None:
        return self._live.get(session_id)

    def position(self, h: Handoff) -> int | None:
        if h.state != S.WAITING:
            return None
        waiting = [x for x in self.queue() if x.state == S.WAITING]
        return waiting.index(h) + 1

    def status(self, h: Handoff) -> HandoffStatus:
        return HandoffStatus(
            h.id,
            h.session_id,
            h.state,
            on_duty=self.on_duty(),
            position=self.position(h),
            staff_name=h.staff_name if h.state == S.ACCEPTED else None,
            outcome=h.outcome,
        )

    # --- presence and hours --------------------------------------------------------------------
    def start(self) -> None:
        self._schedule_hours()

    def stop(self) -> None:
        if self._hours_timer is not None:
            self._hours_timer.cancel()
        for h in list(self._live.values()):
            self._stop_timer(h)
        self.presence.close()

    def _schedule_hours(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self.hours.seconds_until_change(self._clock())
        self._hours_timer = loop.call_later(wait, self._hours_changed)

    def _hours_changed(self) -> None:
        self._duty_changed()
        self._schedule_hours()

    def _staff_gone(self, username: str) -> None:
        """A console closed for good: its accepted hand-offs go back to the queue."""
        for h in [h for h in self._live.values() if h.staff == username]:
            if not self.on_duty():  # nobody else is there: the helpline, not a wait
                self._end(h, S.EXPIRED)
                continue
            h.state, h.staff, h.staff_name, h.accepted_at = S.WAITING, None, None, None
            loop = asyncio.get_running_loop()
            h.timer = loop.call_later(self.settings.expire_after_s, self._expire, h.id)
            self._changed(h)
        self._tell_positions()

    def _duty_changed(self) -> None:
        on = self.on_duty()
        if not on:  # nobody can come: no waiting citizen is left with a promise
            for h in [h for h in self._live.values() if h.state == S.WAITING]:
                self._end(h, S.EXPIRED)
        for listener in self.duty_listeners:
            listener(on)

    # --- internals -----------------------------------------------------------------------------
    def _expire(self, handoff_id: str) -> None:
        h = self._by_id.get(handoff_id)
        if h is not None and h.state == S.WAITING:
            self._end(h, S.EXPIRED)

    def _end(
        self, h: Handoff, state: HandoffState, *, outcome: str | None = None, tell: bool = True
    ) -> None:
        was_waiting = h.state == S.WAITING
        self._stop_timer(h)
        h.state, h.ended_at = state, self._clock()
        if outcome is not None:
            h.outcome = outcome
        self._live.pop(h.session_id, None)
        self._by_id.pop(h.id, None)
        if tell:
            self._changed(h)
        else:
            self._on_change(h)
        if was_waiting:
            self._tell_positions()

    def _changed(self, h: Handoff) -> None:
        listener = self._listeners.get(h.session_id)
        if listener is not None:
            self._call(listener.handoff_changed, self.status(h))
        self._on_change(h)

    def _tell_positions(self) -> None:
        for h in self.queue():
            if h.state == S.WAITING and (listener := self._listeners.get(h.session_id)):
                self._call(listener.handoff_changed, self.status(h))

    @staticmethod
    def _stop_timer(h: Handoff) -> None:
        if h.timer is not None:
            h.timer.cancel()
            h.timer = None

    @staticmethod
    def _call(fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - one broken conversation must not break the desk
            log.exception("hand-off listener failed")
