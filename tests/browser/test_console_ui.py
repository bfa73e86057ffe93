"""The staff console page in real headless Chromium, against the console's app on the fake
engine (tests/console/live_server.py: real HTTP, websocket and SQLite; conversations played
onto the bus as the conversation core publishes them). Staff sign in, see the sessions and the
hand-off queue, open a flagged conversation, accept its hand-off, send a published answer and a
typed message; a supervisor reads the dashboard. Every screen passes axe-core's WCAG 2.1 AA
rules with 0 violations, the whole flow works with the keyboard alone, and screenshots go to
var/screenshots/console-*.png for people to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from bench.server import ROOT
from tests.console.bus_turns import opened
from tests.console.conftest import PASSWORD
from tests.console.live_server import LiveConsole, live_console, turn
from voice_agent import events as ev
from voice_agent.conversation.wire import bus_message

pytestmark = pytest.mark.browser
SHOTS = ROOT / "var" / "screenshots"
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
NIF_QUESTION_UK = "Як отримати номер платника податків NIF 245 678 901?"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    with live_console(tmp_path_factory.mktemp("console-ui")) as server:
        yield server


def play_conversations(live: LiveConsole) -> dict[str, Any]:
    """Three kiosks: one asks twice in vain then for a person (flags), one is answered, one
    speaks Arabic."""
    live.publish(opened("k-lisboa-2", "uk"), opened("k-porto-1", "pt"), opened("web-7", "ar"))
    live.app.state.console.log.describe("k-lisboa-2", "kiosk", "Loja do Cidadão Lisboa")
    live.app.state.console.log.describe("k-porto-1", "kiosk", "Porto, Avenida")
    live.publish(
        *turn(
            "k-porto-1",
            "p1",
            "Como marco consulta no centro de saúde?",
            "pt",
            "faq",
            "sns24-line",
            "Ligue para o SNS 24 pelo 808 24 24 24.",
        ),
        *turn(
            "web-7",
            "a1",
            "كيف أحصل على رقم الضمان الاجتماعي؟",
            "ar",
            "faq",
            "niss",
            "يمكنك طلب رقم الضمان الاجتماعي عبر الإنترنت.",
        ),
        *turn(
            "k-lisboa-2",
            "u1",
            NIF_QUESTION_UK,
            "uk",
            "faq",
            "nif",
            "Ви можете отримати NIF у податковій службі.",
            first_audio=5200.0,
        ),
        *turn(
            "k-lisboa-2",
            "u2",
            "А скільки коштує човен?",
            "uk",
            "no_answer",
            None,
            "На жаль, я не маю надійної відповіді.",
            voice="piper",
        ),
        *turn(
            "k-lisboa-2",
            "u3",
            "А скільки коштує човен?",
            "uk",
            "no_answer",
            None,
            "На жаль, я не маю надійної відповіді.",
        ),
    )
    citizen = live.citizen("k-lisboa-2")
    status = live.call(
        live.app.state.console.desk.request, "k-lisboa-2", "uk", "misses", "А скільки коштує човен?"
    )
    live.publish(
        {
            "session": "k-lisboa-2",
            "type": "handoff",
            "turn_id": None,
            "t": 5.0,
            "handoff_id": status.handoff_id,
            "state": "waiting",
            "on_duty": True,
            "position": 1,
        }
    )
    return {"citizen": citizen, "handoff": status.handoff_id}


def sign_in(page: Any, url: str, user: str, name: str = "") -> None:
    page.goto(f"{url}/console")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    page.fill("#login-user", user)
    page.fill("#login-password", PASSWORD)
    if name:
        page.fill("#login-name", name)
    page.click("#login-go")
    page.wait_for_selector("#app:not([hidden])")
    on_duty(page)


def on_duty(page: Any) -> None:
    """The feed said hello: the server counts this person on duty, so a hand-off requested
    from now on is queued for them (before it, the desk truthfully says nobody is there)."""
    page.wait_for_selector("#duty[data-duty=on]")


def assert_accessible(page: Any, what: str) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_staff_take_over_a_flagged_conversation(chromium: Any, live: LiveConsole) -> None:
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, live.url, "sam", "Samuel")
    assert_accessible(page, "signed in, empty")
    played = play_conversations(live)
    page.wait_for_selector("#queue .queue-item[data-state=waiting]")
    # the queue says why: this citizen did not ask, two questions went unanswered
    reason = page.inner_text("#queue .queue-item[data-state=waiting] .queue-reason")
    assert reason == "sent after two questions without an answer"
    page.wait_for_function(
        "() => document.querySelectorAll('#sessions .session-item').length === 3"
    )
    # flagged first
    first = page.locator("#sessions .session-item").first
    assert first.get_attribute("data-id") == "k-lisboa-2"
    assert "No answer twice" in first.inner_text() and "Slow reply" in first.inner_text()
    assert "On duty" in page.inner_text("#duty")
    shot(page, "sessions")
    assert_accessible(page, "session list and queue")

    first.locator("button").click()
    page.wait_for_selector("#conv-body .turn-citizen")
    transcript = page.inner_text("#conv-body")
    assert "[number]" in transcript and "245 678 901" not in transcript  # redacted
    assert "FAQ nif v1" in transcript and "first audio 5200 ms" in transcript
    # a confidence is shown for an answer, never for "I don't know" (it is the nearest entry's)
    asked = page.locator("#conv-body .turn-citizen")
    assert "decision: faq" in asked.nth(0).inner_text()
    assert "confidence 0.93" in asked.nth(0).inner_text()
    assert "decision: no_answer" in asked.nth(1).inner_text()
    assert "confidence" not in asked.nth(1).inner_text()
    assert "Same question again" in page.inner_text(".flag-list")
    assert played["citizen"].viewing == [True]  # the kiosk is told a person is reading
    shot(page, "transcript")
    assert_accessible(page, "live transcript with flags")

    page.click("#conv-body .handoff-controls button.btn-primary")  # accept
    page.wait_for_selector("#answer-pick option")
    page.fill("#answer-q", "nif")
    page.wait_for_function("() => document.querySelectorAll('#answer-pick option').length === 1")
    page.select_option("#answer-pick", "nif")
    page.click(".send-answer button[type=submit]")
    page.fill("#typed", "Espere um momento, por favor — vou ajudá-lo.")
    page.click(".send-typed button[type=submit]")
    page.wait_for_function("() => document.querySelector('#typed').value === ''")
    citizen = played["citizen"]
    nif_uk = live.app.state.console.entries()["nif"].languages["uk"].answer
    assert [m.text for m in citizen.messages] == [
        nif_uk,
        "Espere um momento, por favor — vou ajudá-lo.",
    ]
    assert citizen.statuses[-1].state == "accepted" and citizen.statuses[-1].staff_name == "Samuel"
    # the conversation core then publishes the staff replies on the bus: the transcript shows them
    live.publish(
        {
            "session": "k-lisboa-2",
            "type": "reply",
            "turn_id": "s1",
            "t": 9.0,
            "language": "uk",
            "faq_id": "nif",
            "confidence": 1.0,
            "handoff": False,
            "mode": "message",
            "speaker": "staff",
            "staff_name": "Samuel",
        },
        {
            "session": "k-lisboa-2",
            "type": "reply_end",
            "turn_id": "s1",
            "t": 9.5,
            "text": nif_uk,
            "cancelled": False,
        },
    )
    page.wait_for_selector("#conv-body .turn-staff")
    shot(page, "handoff")
    assert_accessible(page, "hand-off held by this staff member")
    assert errors == []
    assert all(u.startswith(live.url) or u.startswith(("data:", "blob:")) for u in requests)
    context.close()


def test_supervisor_dashboard_and_history(chromium: Any, live: LiveConsole) -> None:
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    sign_in(page, live.url, "sue")
    page.click("#nav a[data-view=dashboard]")
    page.wait_for_selector(".dashboard .svg-chart")
    assert page.locator(".dashboard figure").count() == 5
    assert "answer rate" in page.inner_text(".tiles")
    shot(page, "dashboard")
    assert_accessible(page, "dashboard")
    csv = page.get_attribute(".filters a.btn", "href")
    assert csv.startswith("/api/console/stats.csv?since=")
    page.click("#nav a[data-view=history]")
    page.wait_for_selector("#view-history table.data tbody tr")
    assert_accessible(page, "history")
    page.click("#nav a[data-view=audit]")
    page.wait_for_selector("#view-audit table.data tbody tr")
    assert "view" in page.inner_text("#view-audit table")
    assert_accessible(page, "audit log")
    context.close()


def test_the_console_works_with_the_keyboard_alone(chromium: Any, live: LiveConsole) -> None:
    live.publish(
        opened("k-faro-1", "fr"),
        *turn("k-faro-1", "f1", "Comment obtenir un NIF ?", "fr", "faq", "nif", "Demandez le NIF."),
    )
    citizen = live.citizen("k-faro-1")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live.url}/console")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    assert page.evaluate("document.activeElement.id") == "login-user"  # focus starts there
    page.keyboard.type("stan")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#app:not([hidden])")
    on_duty(page)
    hid = live.call(
        live.app.state.console.desk.request, "k-faro-1", "fr", "button", None
    ).handoff_id
    page.wait_for_selector("#queue .queue-item[data-session=k-faro-1] button.btn-primary")
    assert "Talk to a person" in page.inner_text("#queue .queue-item[data-session=k-faro-1]")

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", selector  # focus is visible
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#queue .queue-item[data-session=k-faro-1] button.btn-primary")
    page.keyboard.press("Enter")  # accept
    page.wait_for_function("() => document.activeElement?.id === 'answer-q'")
    page.keyboard.type("nif")
    page.wait_for_function("() => document.querySelectorAll('#answer-pick option').length === 1")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    tab_to(".send-answer button[type=submit]")
    page.keyboard.press("Enter")
    tab_to("#typed")
    page.keyboard.type("Bonjour, je m'occupe de vous.")
    tab_to(".send-typed button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#typed').value === ''")
    assert [m.text for m in citizen.messages][-1] == "Bonjour, je m'occupe de vous."
    assert citizen.messages[0].faq_id == "nif" and citizen.messages[0].language == "fr"
    tab_to(".end-box button.btn-danger")
    page.keyboard.press("Enter")  # close with the default outcome
    page.wait_for_function("() => !document.querySelector('.end-box')")
    assert citizen.statuses[-1].state == "closed"
    assert live.call(live.app.state.console.desk.for_session, "k-faro-1") is None
    del hid
    context.close()


NO_WEBRTC = "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;"


def test_the_kiosk_shows_the_hand_off_truthfully(chromium: Any, live: LiveConsole) -> None:
    """The kiosk's side (handoff.js), driven by the messages of docs/WIRE.md."""
    context = chromium.new_context(viewport={"width": 1080, "height": 1920})
    page = context.new_page()
    page.add_init_script(NO_WEBRTC)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live.url}/kiosk?idle=0&lang=uk&location=Loja%20do%20Cidad%C3%A3o%20Lisboa")
    page.wait_for_function("() => window.voiceApp?.handoffPanel")
    page.click(".lang-option[data-lang=uk]")
    page.evaluate("""() => {
        window.__sent = [];
        window.voiceApp.send = (m) => { window.__sent.push(m); return true; };
        const say = (m) => window.voiceApp.handleMessage(m);
        say({type: "transcript", turn_id: "t1", text: "Як отримати NIF?", final: true,
             language: "uk"});
        say({type: "reply", turn_id: "t1", faq_id: "nif", language: "uk", link: null,
             handoff: false, speaker: "assistant", staff_name: null});
        say({type: "sentence", turn_id: "t1", text: "NIF можна отримати в Serviço de Finanças."});
        say({type: "reply_end", turn_id: "t1", text: "NIF можна отримати в Serviço de Finanças.",
             cancelled: false});
        say({type: "handoff", turn_id: null, handoff_id: "h1", state: "waiting", on_duty: true,
             position: 2, staff_name: null, helpline: null, helpline_mobile: null, hours: null});
    }""")
    assert page.is_visible("#handoff-panel")
    assert "2" in page.inner_text("#handoff-status") and "черз" in page.inner_text(
        "#handoff-status"
    )
    assert page.is_visible("#thumbs")
    page.click("#thumbs .thumb[data-rating=down]")
    assert page.evaluate("window.__sent") == [
        {"type": "feedback", "turn_id": "t1", "rating": "down"}
    ]
    shot(page, "kiosk-waiting")
    assert_accessible(page, "kiosk waiting for a person")
    page.click("#handoff-cancel")
    assert page.evaluate("window.__sent.at(-1)") == {"type": "handoff_cancel"}
    page.evaluate("""() => {
        const say = (m) => window.voiceApp.handleMessage(m);
        say({type: "handoff", turn_id: null, handoff_id: "h1", state: "accepted", on_duty: true,
             position: null, staff_name: "Samuel", helpline: null, helpline_mobile: null,
             hours: null});
        say({type: "staff_viewing", turn_id: null, viewing: true});
        say({type: "reply", turn_id: "s1", faq_id: null, language: "uk", link: null,
             handoff: false, speaker: "staff", staff_name: "Samuel"});
        say({type: "sentence", turn_id: "s1", text: "Зачекайте хвилинку, я вам допоможу."});
        say({type: "reply_end", turn_id: "s1", text: "Зачекайте хвилинку, я вам допоможу.",
             cancelled: false});
    }""")
    assert "Samuel" in page.inner_text("#handoff-status")
    assert page.is_visible("#staff-viewing")
    assert page.is_visible("#staff-label") and "Samuel" in page.inner_text("#staff-label")
    assert page.is_hidden("#thumbs")  # staff words are not rated as FAQ answers
    shot(page, "kiosk-staff")
    assert_accessible(page, "kiosk with a person holding the conversation")
    page.evaluate("""() => window.voiceApp.handleMessage({type: "handoff", turn_id: null,
        handoff_id: null, state: "unavailable", on_duty: false, position: null, staff_name: null,
        helpline: "808 257 257", helpline_mobile: "+351 218 106 191",
        hours: "Пн–Пт, 09:00–18:00"})""")
    detail = page.inner_text("#handoff-detail")
    assert "09:00–18:00" in detail
    # the numbers are on the screen once: in the panel, or in the page's helpline box
    numbers = detail + (page.inner_text("#human") if page.is_visible("#human") else "")
    assert "808 257 257" in numbers and "218 106 191" in numbers
    assert page.is_hidden("#handoff-cancel")  # nothing to wait for: no promise
    shot(page, "kiosk-nobody")
    assert errors == []
    context.close()


def test_ratings_reach_the_editors_inbox(chromium: Any, live: LiveConsole) -> None:
    live.publish(
        opened("k-braga-1", "pt"),
        *turn(
            "k-braga-1",
            "b1",
            "Qual é o número do SNS 24?",
            "pt",
            "faq",
            "sns24-line",
            "Ligue para o SNS 24 pelo 808 24 24 24.",
        ),
        {
            "session": "k-braga-1",
            "type": "feedback",
            "turn_id": "b1",
            "t": 2.0,
            "rating": "down",
            "faq_id": "sns24-line",
        },
    )
    # a question the uncovered rule kept from an entry it was near to (confidence 0.97)
    company = "¿Cómo registro una empresa unipersonal en Portugal?"
    decided = ev.Decided(
        turn_id="c1",
        t=0.2,
        text=company,
        language="es",
        kind="no_answer",
        faq_id=None,
        confidence=0.97,
        best_entry="eu-registration-certificate",
        best_score=0.2,
    )
    live.call(live.app.state.content.unanswered.record, [bus_message("k-braga-2", decided)])
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live.url}/editor#/inbox")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    page.fill("#login-user", "ed")
    page.fill("#login-password", PASSWORD)
    page.click("#login-go")
    page.wait_for_selector("#ratings li.rating")
    text = page.inner_text("#ratings")
    assert "sns24-line v1" in text and "not helpful" in text and "SNS 24" in text
    results = Axe().run(page, context=".ratings", options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    # the inbox says what happened to it, without a near-miss number for an unused entry
    card = page.locator("li.cluster", has_text="empresa unipersonal")
    card.wait_for()
    text = card.inner_text()
    assert "1 question" in text and "1 questions" not in text
    assert "not answered · nearest entry eu-registration-certificate, not used" in text
    assert "0.97" not in text
    context.close()
