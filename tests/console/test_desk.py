"""The staff desk on its own: what a conversation is told about a hand-off, in every case the
issue lists (nobody on duty, out of hours, two staff accepting, the citizen leaving, the staff
member's console closing, expiry), on the event loop with a manual wall clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tests.console.conftest import ALWAYS_OPEN, Listener
from voice_agent.config import HandoffSettings
from voice_agent.console.desk import Desk, Handoff, Taken
from voice_agent.console.hours import Hours
from voice_agent.console.presence import Presence
from voice_agent.content.errors import Forbidden, InvalidState
from voice_agent.conversation.handoff import HandoffState as S

MONDAY_9H = 1_765_184_400.0  # Monday 8 December 2025, 09:00 UTC = 09:00 Lisbon (winter)


class Clock:
    def __init__(self, now: float = MONDAY_9H + 3600) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_desk(
    settings: HandoffSettings = ALWAYS_OPEN, grace: float = 0.05
) -> tuple[Desk, list[Handoff], Clock]:
    changes: list[Handoff] = []
    clock = Clock()
    desk = Desk(
        settings, grace, lambda t: t.replace("245678901", "[number]"), changes.append, clock
    )
    return desk, changes, clock


async def test_nobody_signed_in_means_the_helpline_and_nothing_queued() -> None:
    desk, changes, _ = make_desk()
    citizen = Listener()
    desk.attach("s1", citizen)
    status = desk.request("s1", "en", "asked", "I want a person")
    assert status.state == S.UNAVAILABLE and status.on_duty is False
    assert status.handoff_id is None and status.position is None
    assert desk.queue() == []
    assert [c.state for c in changes] == [S.UNAVAILABLE]  # counted, never queued


async def test_outside_opening_hours_nobody_is_promised_even_if_staff_are_signed_in() -> None:
    weekdays = HandoffSettings(opening_time="09:00", closing_time="18:00", timezone="Europe/Lisbon")
    desk, _changes, clock = make_desk(weekdays)
    desk.presence.join("sam")
    assert desk.on_duty()
    clock.now = MONDAY_9H + 10 * 3600  # 19:00
    assert not desk.on_duty()
    assert desk.request("s1", "pt", "button", None).state == S.UNAVAILABLE
    clock.now = MONDAY_9H + 5 * 86400  # Saturday 09:00
    assert not desk.on_duty()


def test_hours_know_when_they_next_change() -> None:
    hours = Hours(HandoffSettings(opening_time="09:00", closing_time="18:00"))
    assert hours.is_open(MONDAY_9H + 3600)
    assert hours.seconds_until_change(MONDAY_9H + 3600) == pytest.approx(8 * 3600)
    friday_evening = MONDAY_9H + 4 * 86400 + 9 * 3600  # Friday 18:00
    assert not hours.is_open(friday_evening)
    assert hours.seconds_until_change(friday_evening) == pytest.approx(2 * 86400 + 15 * 3600)


async def test_queue_positions_follow_the_queue() -> None:
    desk, _changes, _ = make_desk()
    desk.presence.join("sam")
    first, second = Listener(), Listener()
    desk.attach("s1", first)
    desk.attach("s2", second)
    a = desk.request("s1", "en", "asked", "NIF 245678901?")
    b = desk.request("s2", "uk", "misses", None)
    assert (a.state, a.position, a.on_duty) == (S.WAITING, 1, True)
    assert (b.state, b.position) == (S.WAITING, 2)
    assert desk.request("s1", "en", "asked", None) == a  # asking again changes nothing
    assert desk.queue()[0].question == "NIF [number]?"  # stored redacted
    cancelled = desk.cancel("s1")
    assert cancelled is not None and cancelled.state == S.CANCELLED
    assert second.statuses[-1].position == 1  # the one behind is told it moved up
    assert desk.cancel("s1") is None


async def test_two_staff_accepting_the_same_hand_off_one_wins() -> None:
    desk, _changes, _ = make_desk()
    desk.presence.join("sam", "Sam")
    desk.presence.join("stan")
    citizen = Listener()
    desk.attach("s1", citizen)
    status = desk.request("s1", "en", "asked", None)
    assert status.handoff_id is not None
    won = desk.accept(status.handoff_id, "sam")
    with pytest.raises(Taken, match="already accepted by sam"):
        desk.accept(status.handoff_id, "stan")
    assert won.staff == "sam"
    assert citizen.statuses[-1].state == S.ACCEPTED
    assert citizen.statuses[-1].staff_name == "Sam"  # the name Sam chose to show


async def test_only_the_holder_speaks_to_the_citizen() -> None:
    desk, _changes, _ = make_desk()
    desk.presence.join("sam", "Sam")
    desk.presence.join("stan")
    citizen = Listener()
    desk.attach("s1", citizen)
    hid = desk.request("s1", "uk", "asked", None).handoff_id or ""
    with pytest.raises(InvalidState):
        desk.send(hid, "sam", "hello", None)  # not accepted yet
    desk.accept(hid, "sam")
    with pytest.raises(Forbidden, match="held by sam"):
        desk.send(hid, "stan", "hello", None)
    with pytest.raises(Forbidden):
        desk.give_back(hid, "stan")
    with pytest.raises(Forbidden):
        desk.close(hid, "stan", "resolved")
    desk.send(hid, "sam", "Вітаю", "nif")
    msg = citizen.messages[-1]
    assert (msg.text, msg.language, msg.faq_id, msg.staff_name) == ("Вітаю", "uk", "nif", "Sam")
    closed = desk.close(hid, "stan", "resolved", supervisor=True)  # a supervisor may close it
    assert closed.state == S.CLOSED and closed.outcome == "resolved"
    assert citizen.statuses[-1].state == S.CLOSED


async def test_a_citizen_leaving_while_waiting_expires_the_hand_off() -> None:
    desk, changes, _ = make_desk()
    desk.presence.join("sam")
    desk.attach("s1", Listener())
    desk.request("s1", "en", "asked", None)
    desk.detach("s1")
    assert changes[-1].state == S.EXPIRED
    assert desk.queue() == []


async def test_a_waiting_hand_off_nobody_accepts_expires_and_the_citizen_is_told() -> None:
    desk, _changes, _ = make_desk(replace(ALWAYS_OPEN, expire_after_s=0.05))
    desk.presence.join("sam")
    citizen = Listener()
    desk.attach("s1", citizen)
    desk.request("s1", "en", "asked", None)
    await asyncio.sleep(0.15)
    assert citizen.statuses[-1].state == S.EXPIRED
    assert desk.queue() == []


async def test_staff_closing_the_console_puts_the_hand_off_back_and_tells_the_citizen() -> None:
    desk, _changes, _ = make_desk(grace=0.05)
    desk.presence.join("sam")
    desk.presence.join("stan")
    citizen = Listener()
    desk.attach("s1", citizen)
    hid = desk.request("s1", "en", "asked", None).handoff_id or ""
    desk.accept(hid, "sam")
    desk.presence.leave("sam")  # the console closed
    assert desk.get(hid).state == S.ACCEPTED  # within the grace (a reload) nothing happens
    await asyncio.sleep(0.15)
    back = citizen.statuses[-1]
    assert back.state == S.WAITING and back.position == 1 and back.staff_name is None
    assert desk.accept(hid, "stan").staff == "stan"


async def test_a_reload_within_the_grace_keeps_the_hand_off() -> None:
    desk, _changes, _ = make_desk(grace=0.1)
    desk.presence.join("sam")
    desk.attach("s1", Listener())
    hid = desk.request("s1", "en", "asked", None).handoff_id or ""
    desk.accept(hid, "sam")
    desk.presence.leave("sam")
    desk.presence.join("sam")
    await asyncio.sleep(0.2)
    assert desk.get(hid).state == S.ACCEPTED and desk.get(hid).staff == "sam"


async def test_the_last_staff_member_leaving_gives_waiting_citizens_the_helpline() -> None:
    desk, _changes, _ = make_desk(grace=0.05)
    desk.presence.join("sam")
    held, waiting = Listener(), Listener()
    desk.attach("s1", held)
    desk.attach("s2", waiting)
    desk.accept(desk.request("s1", "en", "asked", None).handoff_id or "", "sam")
    desk.request("s2", "fr", "asked", None)
    desk.presence.leave("sam")
    await asyncio.sleep(0.15)
    assert held.statuses[-1].state == S.EXPIRED  # no promise left standing
    assert waiting.statuses[-1].state == S.EXPIRED
    assert not desk.on_duty()


async def test_staff_viewing_reaches_the_citizen() -> None:
    desk, _changes, _ = make_desk()
    citizen = Listener()
    desk.attach("s1", citizen)
    desk.viewing("s1", True)
    desk.viewing("s1", False)
    assert citizen.viewing == [True, False]


async def test_a_broken_listener_does_not_break_the_desk() -> None:
    desk, _changes, _ = make_desk()
    desk.presence.join("sam")
    broken = Listener(fail=True)
    desk.attach("s1", broken)
    status = desk.request("s1", "en", "asked", None)
    desk.accept(status.handoff_id or "", "sam")
    assert desk.queue()[0].state == S.ACCEPTED


async def test_staff_on_another_worker_are_present_and_keep_their_grace() -> None:
    gone: list[str] = []
    presence = Presence(0.05, gone.append, lambda: None)
    presence.set_remote("worker-2", {"sam": "Samuel"})
    assert presence.count() == 1 and presence.display_name("sam") == "Samuel"
    presence.join("sam")  # also here: leaving there changes nothing
    presence.set_remote("worker-2", {})
    await asyncio.sleep(0.1)
    assert gone == [] and presence.is_present("sam")
    presence.leave("sam")  # and gone from here too: the grace, then gone
    assert presence.is_present("sam")
    await asyncio.sleep(0.1)
    assert gone == ["sam"] and presence.count() == 0
