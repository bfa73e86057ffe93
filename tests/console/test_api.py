"""The console API and websocket against the real app (fake engine, real SQLite): the live
list, a hand-off taken over by staff, what reaches the citizen, the websocket's refusals, a
console closing mid-hand-off, history scoping, ratings reaching the content team, the
dashboard, /metrics and the kiosk's self-description."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.console import bus_turns
from tests.console.conftest import Desk, Listener
from voice_agent.console.hub import Hub, Viewer
from voice_agent.conversation.handoff import HandoffState as S


def spoken_turn(
    sid: str, tid: str, text: str, kind: str, faq: str | None, lang: str = "uk"
) -> list[dict[str, Any]]:
    answer = "Відповідь." if kind == "faq" else "Не знаю."
    return bus_turns.spoken_turn(
        sid, tid, text, lang, kind, faq, answer,
        confidence=0.95 if kind == "faq" else 0.1,
        probability=0.9,
        best_score=0.2,
        stages=(300.0, 2.0, 20.0, 800.0, 1400.0),
    )  # fmt: skip


def opened(sid: str, lang: str = "uk") -> dict[str, Any]:
    return bus_turns.opened(sid, lang)


def until(ws: Any, kind: str, tries: int = 60) -> dict[str, Any]:
    """The next message of type `kind` (others are skipped)."""
    for _ in range(tries):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind!r} message")


def connect(desk: Desk, user: str, name: str | None = None) -> Any:
    desk.api.client.cookies.clear()
    token, csrf = desk.api.login(user)
    desk.api.client.cookies.set("va_session", token)
    ws = desk.api.client.websocket_connect("/api/console/live")
    session = ws.__enter__()
    session.send_json({"type": "hello", "seq": 1, "csrf": csrf, "name": name})
    hello = until(session, "hello")
    assert hello["me"]["username"] == user
    session._exit = ws.__exit__  # type: ignore[attr-defined]
    desk.open_sockets.append(session)
    return session


def hang_up(ws: Any) -> None:
    ws._exit(None, None, None)
    ws._exit = lambda *_: None  # closed: the fixture's teardown has nothing left to do


def eventually(check: Any, timeout: float = 60.0) -> None:
    """Wait (bounded) for something the server does after answering (writes, timers)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("it did not happen in time")
        time.sleep(0.05)


def test_live_list_and_transcript(desk: Desk) -> None:
    desk.publish(opened("s1"), *spoken_turn("s1", "t1", "Як отримати NIF 245678901?", "faq", "nif"))
    r = desk.api("GET", "/api/console/sessions", "sam")
    assert r.status_code == 200
    (s1,) = r.json()["sessions"]
    assert s1["id"] == "s1" and s1["language"] == "uk"
    assert s1["last_question"] == "Як отримати NIF [number]?"
    detail = desk.api("GET", "/api/console/sessions/s1", "sam").json()
    assert detail["live"] is True
    citizen, answer = detail["turns"]
    assert citizen["text"] == "Як отримати NIF [number]?" and answer["faq_id"] == "nif"
    assert answer["first_audio_ms"] == 800.0 and answer["faq_version"] == 1
    audit = desk.api("GET", "/api/console/audit", "sue").json()
    assert [(a["username"], a["action"], a["session_id"]) for a in audit] == [("sam", "view", "s1")]


def test_a_hand_off_taken_over_by_staff(desk: Desk) -> None:
    citizen = Listener()
    desk.publish(opened("s1"), *spoken_turn("s1", "t1", "Скільки коштує човен?", "no_answer", None))
    desk.call(desk.console.desk.attach, "s1", citizen)
    assert desk.call(desk.console.desk.on_duty) is False
    sam = connect(desk, "sam", "Sam")
    stan = connect(desk, "stan")
    assert desk.call(desk.console.desk.on_duty) is True
    status = desk.call(desk.console.desk.request, "s1", "uk", "asked", "Скільки коштує човен?")
    assert status.state == S.WAITING and status.position == 1
    queue = until(sam, "handoffs")["items"]
    assert queue[0]["session_id"] == "s1" and queue[0]["position"] == 1
    hid = status.handoff_id
    won = desk.api("POST", f"/api/console/handoffs/{hid}/accept", "sam")
    lost = desk.api("POST", f"/api/console/handoffs/{hid}/accept", "stan")
    assert won.status_code == 200 and lost.status_code == 409
    assert lost.json()["code"] == "taken" and "sam" in lost.json()["detail"]
    assert citizen.statuses[-1].state == S.ACCEPTED and citizen.statuses[-1].staff_name == "Sam"
    # a published answer, in the citizen's language
    r = desk.api("POST", f"/api/console/handoffs/{hid}/message", "sam", json={"faq_id": "nif"})
    assert r.status_code == 200, r.text
    nif_uk = desk.console.entries()["nif"].languages["uk"].answer
    assert citizen.messages[-1].text == nif_uk and citizen.messages[-1].faq_id == "nif"
    assert r.json()["language"] == "uk"
    r = desk.api("POST", f"/api/console/handoffs/{hid}/message", "sam", json={"text": "Зачекайте"})
    assert citizen.messages[-1].text == "Зачекайте" and citizen.messages[-1].staff_name == "Sam"
    # another staff member's hand-off is refused
    r = desk.api("POST", f"/api/console/handoffs/{hid}/message", "stan", json={"text": "hi"})
    assert r.status_code == 403 and "held by sam" in r.json()["detail"]
    bad = desk.api(
        "POST", f"/api/console/handoffs/{hid}/message", "sam", json={"text": "a", "faq_id": "nif"}
    )
    assert bad.status_code == 422
    r = desk.api("POST", f"/api/console/handoffs/{hid}/return", "sam")
    assert r.status_code == 200 and citizen.statuses[-1].state == S.RETURNED
    actions = [a["action"] for a in desk.api("GET", "/api/console/audit", "sue").json()]
    assert sorted(actions) == ["accept", "message", "message", "return"]
    hang_up(sam)
    hang_up(stan)


def test_websocket_refuses_forged_replayed_and_oversized_messages(desk: Desk) -> None:
    desk.publish(opened("s1"))
    citizen = Listener()
    desk.call(desk.console.desk.attach, "s1", citizen)
    ws = connect(desk, "sam")
    ws.send_json({"type": "watch", "seq": 2, "session_id": "s1"})
    assert until(ws, "watching")["session_id"] == "s1"
    assert citizen.viewing == [True]  # the citizen's screen: a person is reading
    ws.send_json({"type": "watch", "seq": 2, "session_id": "s1"})
    assert until(ws, "error")["code"] == "replayed"
    ws.send_json({"type": "watch", "seq": 3, "session_id": "s1", "as": "sue"})
    assert until(ws, "error")["code"] == "bad_message"
    ws.send_json({"type": "accept", "seq": 4, "handoff_id": "x"})
    assert until(ws, "error")["code"] == "bad_message"
    ws.send_json({"type": "watch", "seq": 5, "session_id": "someone-elses"})
    assert until(ws, "error")["code"] == "not_found"
    ws.send_text("not json")
    assert until(ws, "error")["code"] == "bad_message"
    ws.send_json({"type": "ping", "seq": 6})
    assert until(ws, "pong")["seq"] == 6
    ws.send_json({"type": "ping", "seq": 7, "pad": "x" * 5000})
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 1009
    hang_up(ws)
    eventually(lambda: citizen.viewing == [True, False])


def test_websocket_needs_the_csrf_hello_and_the_same_origin(desk: Desk) -> None:
    token, csrf = desk.api.login("sam")
    client = desk.api.client
    client.cookies.clear()
    client.cookies.set("va_session", token)
    with client.websocket_connect("/api/console/live") as ws:
        ws.send_json({"type": "hello", "seq": 1, "csrf": "forged"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(
            "/api/console/live", headers={"Origin": "http://evil.example"}
        ) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403
    assert desk.call(desk.console.desk.on_duty) is False  # nobody said a valid hello
    del csrf


def test_staff_closing_the_console_mid_hand_off_returns_it_to_the_queue(desk: Desk) -> None:
    citizen = Listener()
    desk.publish(opened("s1"))
    desk.call(desk.console.desk.attach, "s1", citizen)
    sam = connect(desk, "sam")
    stan = connect(desk, "stan")
    hid = desk.call(desk.console.desk.request, "s1", "uk", "asked", None).handoff_id
    assert desk.api("POST", f"/api/console/handoffs/{hid}/accept", "sam").status_code == 200
    hang_up(sam)  # the console closes
    deadline = time.monotonic() + 60
    while citizen.statuses[-1].state != S.WAITING and time.monotonic() < deadline:
        time.sleep(0.05)
    told = citizen.statuses[-1]
    assert told.state == S.WAITING and told.position == 1  # the citizen is told
    queue = desk.api("GET", "/api/console/handoffs", "stan").json()
    assert queue[0]["state"] == "waiting" and queue[0]["staff"] is None
    hang_up(stan)


def test_a_citizen_leaving_while_waiting_expires_it(desk: Desk) -> None:
    desk.publish(opened("s1"))
    desk.call(desk.console.desk.attach, "s1", Listener())
    sam = connect(desk, "sam")
    desk.call(desk.console.desk.request, "s1", "uk", "button", None)
    desk.call(desk.console.desk.detach, "s1")
    assert desk.api("GET", "/api/console/handoffs", "sam").json() == []
    hang_up(sam)

    def states() -> list[str]:
        rows = desk.call(
            desk.console.db.run,
            lambda c: c.execute("SELECT state FROM console_handoffs").fetchall(),
        )
        return [r[0] for r in rows]

    eventually(lambda: states() == ["expired"])


def test_past_conversations_are_scoped_to_who_handled_them(desk: Desk) -> None:
    desk.publish(opened("s1"), *spoken_turn("s1", "t1", "Де мій NISS?", "faq", "niss"))
    desk.call(desk.console.desk.attach, "s1", Listener())
    sam = connect(desk, "sam")
    hid = desk.call(desk.console.desk.request, "s1", "uk", "asked", None).handoff_id
    desk.api("POST", f"/api/console/handoffs/{hid}/accept", "sam")
    desk.api("POST", f"/api/console/handoffs/{hid}/close", "sam", json={"outcome": "resolved"})
    desk.publish({"session": "s1", "type": "closed", "turn_id": None, "t": 9, "reason": "idle"})
    hang_up(sam)
    eventually(lambda: desk.api("GET", "/api/console/sessions/s1", "sam").status_code == 200)
    assert desk.api("GET", "/api/console/sessions/s1", "sue").status_code == 200
    other = desk.api("GET", "/api/console/sessions/s1", "stan")
    assert other.status_code == 403
    assert [r["id"] for r in desk.api("GET", "/api/console/history", "sam").json()] == ["s1"]
    assert desk.api("GET", "/api/console/history", "stan").json() == []
    found = desk.api("GET", "/api/console/history?outcome=resolved&language=uk", "sue").json()
    assert [r["id"] for r in found] == ["s1"] and found[0]["outcome"] == "handed_off"
    assert desk.api("GET", "/api/console/history?flag=asked_person", "sue").json() == []
    exported = desk.api("GET", "/api/console/export/s1", "sue").json()
    assert exported["handoffs"][0]["outcome"] == "resolved"


def test_ratings_reach_the_content_team_with_entry_and_version(desk: Desk) -> None:
    desk.publish(opened("s1"), *spoken_turn("s1", "t1", "Як отримати NIF?", "faq", "nif"))
    r = desk.api(
        "POST",
        "/api/console/ratings",
        "sam",
        json={"session_id": "s1", "turn_id": "t1", "rating": "incomplete", "note": "no fee"},
    )
    assert r.status_code == 201, r.text
    desk.publish(
        {
            "session": "s1",
            "type": "feedback",
            "turn_id": "t1",
            "t": 2,
            "rating": "up",
            "faq_id": "nif",
        }
    )
    inbox = desk.api("GET", "/api/feedback", "ed").json()
    assert [(f["source"], f["rating"]) for f in inbox] == [
        ("staff", "incomplete"),
        ("citizen", "up"),
    ]
    assert inbox[0]["faq_id"] == "nif" and inbox[0]["faq_version"] == 1
    assert inbox[0]["note"] == "no fee" and inbox[0]["question"] == "Як отримати NIF?"
    assert desk.api("POST", f"/api/feedback/{inbox[0]['id']}/done", "ed").status_code == 200
    assert len(desk.api("GET", "/api/feedback", "ed").json()) == 1
    flags = desk.api("GET", "/api/console/sessions", "sam").json()["sessions"][0]["flags"]
    assert "negative_feedback" in flags


def test_dashboard_csv_and_metrics(desk: Desk) -> None:
    desk.publish(opened("s1"), *spoken_turn("s1", "t1", "Як отримати NIF?", "faq", "nif"))
    desk.publish(*spoken_turn("s1", "t2", "А човен?", "no_answer", None))
    d = desk.api("GET", "/api/console/stats", "sue").json()
    assert d["sessions"] == 1 and d["questions"] == 2 and d["answer_rate"] == 0.5
    assert d["latency_ms"]["first_audio"]["p50"] == 800.0
    csv = desk.api("GET", "/api/console/stats.csv", "sue")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.text.splitlines()[0] == "section,key,value"
    assert (
        desk.api("GET", "/api/console/stats?since=2026-02-10&until=2026-02-01", "sue").status_code
        == 409
    )
    m = desk.api("GET", "/metrics", "sue")
    assert m.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = m.text
    assert 'voice_agent_sessions{state="active"} 1' in text
    assert 'voice_agent_stage_latency_seconds_bucket{stage="first_audio",le="1"} 2' in text
    assert "voice_agent_turns_total 2" in text
    assert 'voice_agent_end_of_turn_total{how="early"} 2' in text
    assert 'voice_agent_stage_latency_seconds_bucket{stage="pause_to_ready",le="0.25"} 0' in text
    assert 'voice_agent_stage_latency_seconds_bucket{stage="pause_to_end",le="0.5"} 2' in text
    assert "voice_agent_handoffs_waiting 0" in text


def test_the_kiosk_describes_its_own_session_once(desk: Desk) -> None:
    desk.publish(opened("s1"))
    body = {"session_id": "s1", "source": "kiosk", "location": "Loja do Cidadão  Lisboa"}
    assert desk.api("POST", "/api/kiosk/describe", json=body).status_code == 200
    again = {**body, "location": "Somewhere else"}
    assert desk.api("POST", "/api/kiosk/describe", json=again).status_code == 404
    assert (
        desk.api("POST", "/api/kiosk/describe", json={**body, "session_id": "nope"}).status_code
        == 404
    )
    (s,) = desk.api("GET", "/api/console/sessions", "sam").json()["sessions"]
    assert (s["source"], s["location"]) == ("kiosk", "Loja do Cidadão Lisboa")


def test_a_slow_console_loses_its_oldest_messages_only() -> None:
    watched: list[tuple[str, bool]] = []
    hub = Hub(lambda sid, on: watched.append((sid, on)))
    slow, fast = Viewer("sam", "staff", 3), Viewer("sue", "supervisor", 100)
    hub.add(slow)
    hub.add(fast)
    for i in range(10):
        hub.publish({"type": "session", "n": i})
    assert [slow.queue.get_nowait()["n"] for _ in range(3)] == [7, 8, 9]
    assert slow.dropped == 7 and fast.queue.qsize() == 10 and fast.dropped == 0
    hub.watch(slow, "s1")
    hub.watch(fast, "s1")
    hub.publish({"type": "turn", "session_id": "s2"})  # nobody opened s2
    assert slow.queue.empty()
    hub.remove(slow)
    hub.unwatch(fast, "s1")
    assert watched == [("s1", True), ("s1", False)]
