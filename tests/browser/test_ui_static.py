"""The web client in real headless Chromium: loading, languages, RTL, notices, text fallback,
privacy reset, avatar mouth, translations.  Needs a server at `base_url` (see conftest.py)."""

from __future__ import annotations

import re

import pytest

from voice_agent.language.languages import LANGUAGES

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT_MS = 90_000  # /api/ask on the real models, first call included
READY = "() => window.voiceApp !== undefined"


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY)


def pick(page, code: str) -> None:
    page.click(f".lang-option[data-lang={code}]")


def test_kiosk_loads_without_console_errors_or_external_requests(ui_page, recorder, base_url):
    open_page(ui_page, f"{base_url}/kiosk")
    ui_page.wait_for_load_state("networkidle")
    assert recorder.page_errors == []
    assert recorder.console_errors == []
    assert recorder.foreign_requests() == []
    assert any(url.endswith("/static/app.js") for url in recorder.requests)


def test_browser_page_loads_without_console_errors_or_external_requests(
    ui_page, recorder, base_url
):
    open_page(ui_page, f"{base_url}/")
    ui_page.wait_for_load_state("networkidle")
    assert recorder.page_errors == []
    assert recorder.console_errors == []
    assert recorder.foreign_requests() == []
    assert ui_page.is_visible("#ask-input")


def test_language_picker_shows_all_20_native_names(ui_page, base_url):
    open_page(ui_page, f"{base_url}/kiosk")
    ui_page.wait_for_load_state("networkidle")
    shown = ui_page.locator("#lang-grid .lang-native").all_inner_texts()
    assert sorted(shown) == sorted(lang.native_name for lang in LANGUAGES)
    for lang in LANGUAGES:
        button = ui_page.locator(f".lang-option[data-lang={lang.code}]")
        assert button.is_visible()
        assert button.bounding_box()["height"] >= 64  # touch target
        assert button.locator(".lang-native").get_attribute("lang") == lang.code


def test_picking_arabic_sets_rtl_and_mirrors_the_layout(ui_page, base_url):
    open_page(ui_page, f"{base_url}/kiosk")
    assert ui_page.evaluate("document.documentElement.dir") == "ltr"
    pick(ui_page, "ar")
    ui_page.wait_for_selector("#conversation:not([hidden])")
    assert ui_page.evaluate("document.documentElement.lang") == "ar"
    assert ui_page.evaluate("document.documentElement.dir") == "rtl"
    assert re.search(r"[\u0600-\u06ff]", ui_page.inner_text("#notice"))
    brand = ui_page.locator(".brand").bounding_box()
    lang_button = ui_page.locator("#lang-button").bounding_box()
    assert brand["x"] > lang_button["x"]  # the header is mirrored
    # back to a left-to-right language
    ui_page.click("#lang-button")
    pick(ui_page, "pt")
    assert ui_page.evaluate("document.documentElement.dir") == "ltr"
    assert ui_page.evaluate("document.documentElement.lang") == "pt"


@pytest.mark.parametrize("path", ["/kiosk", "/"])
def test_automated_assistant_notice_and_talk_to_a_person_are_visible(ui_page, base_url, path):
    open_page(ui_page, f"{base_url}{path}?lang=en")
    assert ui_page.is_visible("#notice")
    assert "automated assistant" in ui_page.inner_text("#notice")
    assert "can make mistakes" in ui_page.inner_text("#notice")
    if path == "/kiosk":
        pick(ui_page, "en")
    handoff = ui_page.locator("#handoff")
    assert handoff.is_visible()
    assert handoff.inner_text().strip() == "Talk to a person"
    assert handoff.bounding_box()["height"] >= (64 if path == "/kiosk" else 44)


def test_talk_to_a_person_shows_the_human_channel(no_webrtc_page, base_url):
    page = no_webrtc_page
    open_page(page, f"{base_url}/?lang=en")
    with page.expect_request(lambda r: r.url.endswith("/api/handoff") and r.method == "POST"):
        page.click("#handoff")
    human = page.locator("#human")
    human.wait_for(state="visible")
    text = human.inner_text()
    assert "Linha de Apoio ao Migrante" in text
    assert "808 257 257" in text
    assert "218 106 191" in text


def _typed_over_http(page, url: str, question: str) -> dict:
    """Open `url` (no WebRTC), type `question`, and return /api/ask's answer."""
    open_page(page, url)
    page.fill("#ask-input", question)
    is_ask = lambda r: r.url.endswith("/api/ask")  # noqa: E731
    with page.expect_response(is_ask, timeout=ANSWER_TIMEOUT_MS) as info:
        page.press("#ask-input", "Enter")
    return info.value.json()


def test_text_mode_works_without_webrtc(no_webrtc_page, recorder, base_url):
    page = no_webrtc_page
    result = _typed_over_http(page, f"{base_url}/?lang=pt", "Como posso pedir o NIF?")
    assert result["answer"]
    page.wait_for_function(
        "t => document.querySelector('#cap-assistant .cap-text').textContent.trim() === t",
        arg=result["answer"].strip(),
        timeout=10_000,
    )
    assert page.inner_text("#cap-user .cap-text").strip()
    assert page.is_visible("#banner")  # "voice connection unavailable — text still works"
    assert page.get_attribute("#banner", "data-key") == "voice_unavailable"
    if result.get("link"):
        assert page.is_visible("#answer-source")
    assert recorder.foreign_requests() == []
    assert recorder.page_errors == []


def test_a_machine_translated_answer_over_http_says_so(no_webrtc_page, base_url):
    """Typed without WebRTC (/api/ask): the English answer is machine-translated, and the
    page says so under it, in English."""
    page = no_webrtc_page
    result = _typed_over_http(page, f"{base_url}/?lang=en", "How can I get a tax number (NIF)?")
    assert result["status"] == "machine-translated", result
    note = page.locator("#answer-source #mt-note")
    note.wait_for(timeout=10_000)
    assert note.get_attribute("lang") == "en"
    assert note.inner_text() == "Automatic translation, not yet checked by a person."


def test_idle_reset_clears_the_screen(no_webrtc_page, base_url):
    page = no_webrtc_page
    open_page(page, f"{base_url}/kiosk?idle=2")
    pick(page, "pt")
    page.wait_for_selector("#ask-form:not([hidden])")  # voice unavailable -> the text box shows
    page.fill("#ask-input", "Como posso pedir o NIF?")
    page.press("#ask-input", "Enter")
    page.wait_for_function(
        "() => document.querySelector('#cap-assistant .cap-text').textContent.trim() !== ''",
        timeout=ANSWER_TIMEOUT_MS,
    )
    # 2 s without activity: back to the language picker, captions gone, privacy notice shown
    page.wait_for_selector("#welcome:not([hidden])", timeout=10_000)
    assert page.inner_text("#cap-user .cap-text") == ""
    assert page.inner_text("#cap-assistant .cap-text") == ""
    assert page.is_hidden("#cap-user")
    assert page.is_hidden("#cap-assistant")
    assert page.is_visible("#privacy-note")


def test_avatar_mouth_follows_visemes(ui_page, base_url):
    open_page(ui_page, f"{base_url}/?lang=en")
    samples = ui_page.evaluate(
        """async () => {
            const app = window.voiceApp;
            app.handleMessage({type: "state", state: "speaking"});
            app.handleMessage({type: "visemes", duration: 0.9,
                               items: [[0, "A"], [0.3, "O"], [0.6, "M"], [0.75, "rest"]]});
            const out = [];
            for (let i = 0; i < 25; i++) {
                await new Promise((r) => setTimeout(r, 60));
                out.push(Number(document.querySelector(".va-avatar").dataset.mouth));
            }
            return out;
        }"""
    )
    assert max(samples) > 0.5, samples
    assert samples[-1] < 0.1, samples
    assert ui_page.get_attribute(".va-avatar", "data-state") == "speaking"


def test_server_events_drive_captions_and_the_official_link(ui_page, base_url):
    open_page(ui_page, f"{base_url}/?lang=en")
    ui_page.evaluate(
        """() => {
            const app = window.voiceApp;
            app.handleMessage({type: "transcript", text: "how do I get a NIF", final: true,
                               language: "en"});
            app.handleMessage({type: "reply", text: "", faq_id: "nif", handoff: false,
                               link: "https://www.portaldasfinancas.gov.pt", confidence: 0.8});
            app.handleMessage({type: "sentence", text: "You can ask for a NIF at a tax office."});
            app.handleMessage({type: "sentence", text: "Book an appointment first."});
            app.handleMessage({type: "reply_end"});
        }"""
    )
    assert ui_page.inner_text("#cap-user .cap-text") == "how do I get a NIF"
    spoken = ui_page.inner_text("#cap-assistant .cap-text")
    assert "tax office" in spoken and "appointment" in spoken
    link = ui_page.locator("#answer-source a")
    assert link.get_attribute("href") == "https://www.portaldasfinancas.gov.pt/"
    assert link.get_attribute("rel") == "noopener noreferrer"
    # an unsafe link is never rendered as a link
    ui_page.evaluate(
        """() => window.voiceApp.handleMessage(
            {type: "reply", text: "x", link: "javascript:alert(1)"})"""
    )
    assert ui_page.is_hidden("#answer-source")


def test_every_ui_string_exists_in_all_20_languages(ui_page, base_url):
    open_page(ui_page, f"{base_url}/")
    problems = ui_page.evaluate(
        """async (codes) => {
            const { STRINGS } = await import("/static/strings.js");
            const problems = [];
            for (const [key, entry] of Object.entries(STRINGS)) {
                const wanted = new Set((entry.en.match(/\\{\\w+\\}/g) ?? []));
                for (const code of codes) {
                    const text = entry[code];
                    if (!text || !text.trim()) {
                        problems.push(`${key}.${code} missing`);
                        continue;
                    }
                    const got = new Set(text.match(/\\{\\w+\\}/g) ?? []);
                    if ([...wanted].some((p) => !got.has(p)) || got.size !== wanted.size) {
                        problems.push(`${key}.${code} placeholders`);
                    }
                }
                for (const code of Object.keys(entry)) {
                    if (!codes.includes(code)) problems.push(`${key}.${code} unknown language`);
                }
            }
            return problems;
        }""",
        [lang.code for lang in LANGUAGES],
    )
    assert problems == []


def test_keyboard_enter_sends_and_focus_is_visible(no_webrtc_page, base_url):
    page = no_webrtc_page
    open_page(page, f"{base_url}/?lang=en")
    page.focus("#talk")
    assert page.evaluate("document.activeElement.id") == "talk"
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.fill("#ask-input", "NIF")
    with page.expect_request(lambda r: r.url.endswith("/api/ask"), timeout=ANSWER_TIMEOUT_MS):
        page.press("#ask-input", "Enter")
    assert page.get_attribute("#captions", "aria-live") == "polite"


def test_avatar_mouth_follows_the_reply_audio_envelope(ui_page, base_url):
    open_page(ui_page, f"{base_url}/?lang=en")
    ui_page.click("#status")  # a user gesture: the page may start audio
    samples = ui_page.evaluate(
        """async () => {
            const app = window.voiceApp;
            const ctx = new AudioContext();
            await ctx.resume();
            const osc = ctx.createOscillator();
            const gain = ctx.createGain();
            const out = ctx.createMediaStreamDestination();
            osc.connect(gain).connect(out);
            gain.gain.value = 0;
            osc.start();
            app.avatar.followStream(out.stream);
            app.handleMessage({type: "state", state: "speaking"});
            // visemes without items (a voice without phoneme timing): the envelope drives
            app.handleMessage({type: "visemes", items: [], duration: 3});
            const wait = (ms) => new Promise((r) => setTimeout(r, ms));
            const mouth = () => Number(document.querySelector(".va-avatar").dataset.mouth);
            await wait(300);
            const silent = mouth();
            gain.gain.value = 0.5;
            await wait(400);
            const loud = mouth();
            gain.gain.value = 0;
            await wait(400);
            return [silent, loud, mouth()];
        }"""
    )
    silent, loud, after = samples
    assert silent < 0.1, samples
    assert loud > 0.4, samples
    assert after < 0.1, samples


def test_sentences_sent_ahead_of_their_audio_are_highlighted_in_time(ui_page, base_url):
    """The server may send each sentence's visemes as its audio is queued: the avatar chains
    the segments and the caption highlights the sentence being heard."""
    open_page(ui_page, f"{base_url}/?lang=en")
    current = ui_page.evaluate(
        """async () => {
            const app = window.voiceApp;
            app.avatar.latency = 0;
            const send = (m) => app.handleMessage(m);
            send({type: "reply", text: "", faq_id: "nif", link: null, handoff: false});
            send({type: "state", state: "speaking"});
            send({type: "sentence", text: "First sentence."});
            send({type: "visemes", items: [[0, "A"], [0.2, "O"]], duration: 0.6});
            send({type: "sentence", text: "Second sentence."});
            send({type: "visemes", items: [[0, "E"], [0.2, "A"]], duration: 0.6});
            send({type: "reply_end", text: "First sentence. Second sentence.", cancelled: false});
            const wait = (ms) => new Promise((r) => setTimeout(r, ms));
            const highlighted = () =>
                document.querySelector("#cap-assistant .sentence.current")?.textContent ?? null;
            await wait(250);
            const early = highlighted();
            await wait(650);
            const later = highlighted();
            send({type: "state", state: "listening"});
            return [early, later, highlighted()];
        }"""
    )
    assert current == ["First sentence.", "Second sentence.", None]


def test_queued_session_shows_its_position_and_not_an_error(ui_page, base_url):
    open_page(ui_page, f"{base_url}/?lang=en")
    ui_page.evaluate(
        """() => {
            const app = window.voiceApp;
            app.handleMessage({type: "state", state: "queued", position: 2});
            app.handleMessage({type: "error", code: "bad_message",
                               message: "the session is queued; please wait"});
        }"""
    )
    assert ui_page.inner_text("#banner") == "You are in queue: position 2"
    ui_page.evaluate("() => window.voiceApp.handleMessage({type: 'state', state: 'listening'})")
    assert ui_page.is_hidden("#banner")


def test_a_machine_translated_answer_says_so_in_its_language(ui_page, base_url):
    open_page(ui_page, f"{base_url}/?lang=uk")
    show = """(status) => window.voiceApp.view.showAnswer({
        text: "Попросіть NIF у Serviço de Finanças.", lang: "uk", status,
        link: "https://www.portaldasfinancas.gov.pt"})"""
    ui_page.evaluate(show, "machine-translated")
    note = ui_page.locator("#answer-source #mt-note")
    assert note.get_attribute("lang") == "uk"
    assert note.inner_text() == "Автоматичний переклад, ще не перевірений людиною."
    assert ui_page.locator("#answer-source a").get_attribute("href") == (
        "https://www.portaldasfinancas.gov.pt/"
    )
    ui_page.evaluate(show, "reviewed")  # a reviewed translation has no such line
    assert ui_page.locator("#mt-note").count() == 0
    assert ui_page.is_visible("#answer-source a")
