"""One conversation's line to the staff desk: when to ask for a person, and what to say.

A person is asked for when the citizen says so, presses the button, or the assistant found
no answer `misses_before_handoff` times in a row. What the citizen is told is always what the
desk reported (`HandoffStatus`): someone on duty and their place in the queue, the person who
accepted, or, when nobody is on duty, the helpline and the staff's opening hours; never a
promise nobody can keep.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from voice_agent import events as ev
from voice_agent.answer.answerer import Messages
from voice_agent.config import HandoffSettings
from voice_agent.conversation.handoff import HandoffDesk, HandoffState, HandoffStatus

LIVE = (HandoffState.WAITING, HandoffState.ACCEPTED)


class HandoffLine:
    def __init__(self, desk: HandoffDesk, session_id: str, settings: HandoffSettings) -> None:
        self.desk = desk
        self.session_id = session_id
        self.settings = settings
        self.status: HandoffStatus | None = None
        self.misses = 0

    @property
    def staff_holds(self) -> bool:
        """A staff member holds the conversation: the assistant does not answer by itself."""
        return self.status is not None and self.status.state == HandoffState.ACCEPTED

    @property
    def waiting(self) -> bool:
        return self.status is not None and self.status.state == HandoffState.WAITING

    def would_ask(self, kind: str) -> bool:
        """Would a decision of this kind ask for a person now?"""
        if kind == "no_answer":
            return self.misses + 1 >= self.settings.misses_before_handoff
        return kind == "human"

    def note(self, kind: str) -> None:
        """Count misses in a row (an answer from the FAQ ends a run)."""
        if kind == "no_answer":
            self.misses += 1
        elif kind == "faq":
            self.misses = 0

    async def consider(
        self, kind: str, language: str, question: str | None
    ) -> HandoffStatus | None:
        """After a decision: the hand-off it leads to (None: answer as usual)."""
        if not self.would_ask(kind):
            self.note(kind)
            return None
        return self.request(language, "asked" if kind == "human" else "misses", question)

    def request(self, language: str, reason: str, question: str | None) -> HandoffStatus:
        """Ask the desk (once: while waiting or accepted, the current status is the answer)."""
        self.misses = 0
        if self.status is not None and self.status.state in LIVE:
            return self.status
        self.status = self.desk.request(self.session_id, language, reason, question)
        return self.status

    def cancel(self) -> HandoffStatus | None:
        """The citizen cancelled; None when nothing was waiting."""
        if self.status is None or not self.waiting:
            return None
        done = self.desk.cancel(self.session_id)
        self.status = done or replace(self.status, state=HandoffState.CANCELLED, position=None)
        return self.status

    def changed(self, status: HandoffStatus) -> bool:
        """The desk reported a change; False if it says nothing new."""
        if status == self.status:
            return False
        self.status = status
        return True


class DeferredLine:
    """A prepared turn's view of the line (run during a pause, maybe dropped): it answers as
    usual at once, but may not ask for a person, nor count a miss, until `promote` says the
    question was really over; a turn that would ask waits for that."""

    def __init__(self, line: HandoffLine) -> None:
        self._line = line
        self._complete = asyncio.Event()
        self._noted: str | None = None

    @property
    def staff_holds(self) -> bool:
        return self._line.staff_holds

    async def consider(
        self, kind: str, language: str, question: str | None
    ) -> HandoffStatus | None:
        if self._complete.is_set() or self._line.would_ask(kind):
            await self._complete.wait()
            return await self._line.consider(kind, language, question)
        self._noted = kind  # counted if the turn is kept
        return None

    def promote(self) -> None:
        """The question was complete: what this turn decided counts."""
        self._complete.set()
        if self._noted is not None:
            self._line.note(self._noted)
            self._noted = None


class HeldLine:
    """The line as a question for the person holding the conversation sees it: held, so the
    question is shown to them and not answered, whatever happens to the hand-off meanwhile."""

    @property
    def staff_holds(self) -> bool:
        return True

    async def consider(
        self, kind: str, language: str, question: str | None
    ) -> HandoffStatus | None:
        return None


class Line(Protocol):
    """What a turn needs of the line (`HandoffLine`, or `DeferredLine` while preparing)."""

    @property
    def staff_holds(self) -> bool: ...

    async def consider(
        self, kind: str, language: str, question: str | None
    ) -> HandoffStatus | None: ...


def opening_hours(settings: HandoffSettings, messages: Messages, language: str) -> str:
    """ "Monday–Friday, 09:00–18:00" in the citizen's language."""
    names = messages.get("weekdays", language).split("|")
    days = sorted(set(settings.opening_days))
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    spans = [names[r[0]] if len(r) == 1 else f"{names[r[0]]}–{names[r[-1]]}" for r in runs]
    return f"{', '.join(spans)}, {settings.opening_time}–{settings.closing_time}"


def handoff_words(
    status: HandoffStatus, messages: Messages, settings: HandoffSettings, language: str
) -> str:
    """What the citizen is told about this status."""
    s = HandoffState
    numbers = {"helpline": settings.helpline, "mobile": settings.helpline_mobile}
    if status.state == s.WAITING:
        return messages.get("handoff_waiting", language).format(position=status.position or 1)
    if status.state == s.ACCEPTED:
        if status.staff_name:
            return messages.get("handoff_accepted_named", language).format(name=status.staff_name)
        return messages.get("handoff_accepted", language)
    if status.state == s.CANCELLED:
        return messages.get("handoff_cancelled", language)
    if status.state in (s.RETURNED, s.CLOSED):
        return messages.get("handoff_returned", language)
    if status.state == s.EXPIRED:
        return messages.get("handoff_expired", language).format(**numbers)
    hours = opening_hours(settings, messages, language)
    return messages.get("handoff_unavailable", language).format(hours=hours, **numbers)


def handoff_event(
    status: HandoffStatus,
    messages: Messages,
    settings: HandoffSettings,
    language: str,
    *,
    turn_id: str | None,
    t: float,
) -> ev.HandoffChanged:
    nobody = not status.on_duty or status.state in (HandoffState.UNAVAILABLE, HandoffState.EXPIRED)
    return ev.HandoffChanged(
        turn_id=turn_id,
        t=t,
        handoff_id=status.handoff_id,
        state=str(status.state),
        on_duty=status.on_duty,
        position=status.position,
        staff_name=status.staff_name,
        helpline=settings.helpline if nobody else None,
        helpline_mobile=settings.helpline_mobile if nobody else None,
        hours=opening_hours(settings, messages, language) if nobody else None,
    )
