"""The hand-off contract between a conversation and the staff desk.

A citizen's conversation asks the desk for a person (`HandoffDesk.request`); the desk (the
contact-centre console's queue) answers with the truth about who is there, and later tells the
conversation, through the `HandoffListener` it attached, when a staff member accepts, writes,
hands the conversation back or closes it. The conversation never promises a person the desk
did not confirm: `HandoffStatus.on_duty` is False when no staff member is signed in to the
console or it is outside the configured hours, and then the citizen gets the helpline instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class HandoffState(StrEnum):
    WAITING = "waiting"  # in the queue, nobody has accepted yet
    ACCEPTED = "accepted"  # a staff member holds the conversation: the assistant stays silent
    RETURNED = "returned"  # staff handed the conversation back to the assistant
    CLOSED = "closed"  # staff closed it with an outcome
    CANCELLED = "cancelled"  # the citizen cancelled while waiting
    EXPIRED = "expired"  # the citizen left (or waited too long) before anyone accepted
    UNAVAILABLE = "unavailable"  # nobody on duty: no record waits, the helpline is given


@dataclass(frozen=True, slots=True)
class HandoffStatus:
    handoff_id: str | None  # None when UNAVAILABLE (nothing was queued)
    session_id: str
    state: HandoffState
    on_duty: bool  # someone is signed in to the console and within opening hours
    position: int | None = None  # 1-based place in the hand-off queue while WAITING
    staff_name: str | None = None  # the accepting person's first name, if they chose to show it
    outcome: str | None = None  # set when CLOSED


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """What a staff member sends to the citizen: a published FAQ answer (already in the
    citizen's language) or a typed message. Either is shown and spoken, marked as from staff."""

    handoff_id: str
    text: str
    language: str
    faq_id: str | None = None  # set when staff picked a published answer
    staff_name: str | None = None


class HandoffListener(Protocol):
    """Implemented by a conversation; the desk calls it (on the event loop) when things change."""

    def handoff_changed(self, status: HandoffStatus) -> None: ...

    def staff_message(self, message: StaffMessage) -> None: ...

    def staff_viewing(self, viewing: bool) -> None: ...  # a person is reading the conversation


class HandoffDesk(Protocol):
    """Implemented by the console side (one per server)."""

    def on_duty(self) -> bool: ...

    def attach(self, session_id: str, listener: HandoffListener) -> None: ...

    def detach(self, session_id: str) -> None: ...  # the session ended: a waiting hand-off expires

    def request(
        self, session_id: str, language: str, reason: str, last_question: str | None
    ) -> HandoffStatus: ...  # reason: asked | button | misses

    def cancel(self, session_id: str) -> HandoffStatus | None: ...  # the citizen cancelled


class NoDesk:
    """No staff desk at all (`voice-agent ask`, a server without the console): nobody is ever
    on duty, nothing is queued, so the citizen is always given the helpline."""

    def on_duty(self) -> bool:
        return False

    def attach(self, session_id: str, listener: HandoffListener) -> None:
        return None

    def detach(self, session_id: str) -> None:
        return None

    def request(
        self, session_id: str, language: str, reason: str, last_question: str | None
    ) -> HandoffStatus:
        return HandoffStatus(None, session_id, HandoffState.UNAVAILABLE, on_duty=False)

    def cancel(self, session_id: str) -> HandoffStatus | None:
        return None
