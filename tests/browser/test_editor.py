"""The content team's FAQ editor (/editor) in real headless Chromium, on the real server.

The server answers from the repository's faq_db/, so these tests never publish a change to a
real entry: each makes its own `zz-browser-test-<random>` entry (the body of an existing one,
with its questions made unique), works on it, and deletes it (and its YAML file) at the end.
Screenshots of each step go to var/screenshots/editor-*.png.
"""

from __future__ import annotations

import copy
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
ENTRIES = ROOT / "faq_db" / "entries"
SOURCE_ENTRY = "victim-support-apav"  # copied for the test entries; no other test asks about it
XSS = '<script>window.__xss = 1</script><img src="/x-injected" onerror="window.__xss = 2">'
# Correctness, not speed: a publish must become what citizens get (the time is printed;
# bench.stages measures it). Bounded so a change that never goes live fails.
LIVE_WITHIN_S = 60.0


# --- accounts, pages and the API ---------------------------------------------------------------
def _users(config: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voice_agent.cli", "--config", config, "users", *args],
        cwd=ROOT,
        input=f"{password}\n" if password else None,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def accounts(server_config: str) -> dict[str, str]:
    """browser-admin (admin), browser-reviewer (reviewer) and browser-editor (editor) with
    fresh passwords."""
    out = {}
    people = (
        ("browser-admin", "admin"),
        ("browser-reviewer", "reviewer"),
        ("browser-editor", "editor"),
    )
    for name, role in people:
        password = f"pw-{secrets.token_urlsafe(16)}"
        done = _users(
            server_config, "add", name, "--role", role, "--password-stdin", password=password
        )
        if done.returncode != 0:
            assert "already exists" in done.stderr, done.stderr
            done = _users(server_config, "passwd", name, "--password-stdin", password=password)
            assert done.returncode == 0, done.stderr
        out[name] = password
    return out


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"editor-{name}.png"), full_page=True)


def open_editor(page, base_url: str, hash_: str = "") -> None:
    """Load /editor afresh (a new hash on the same page would not reload it)."""
    page.goto("about:blank")
    page.goto(f"{base_url}/editor{hash_}")
    page.wait_for_selector("body[data-ready]")


def login(page, base_url: str, user: str, password: str, hash_: str = "") -> None:
    open_editor(page, base_url, hash_)
    page.fill("#login-user", user)
    page.fill("#login-password", password)
    page.click("#login-go")
    page.wait_for_selector("#app:not([hidden])")


class Api:
    """The content API with the page's session cookie and CSRF token."""

    def __init__(self, page, base_url: str) -> None:
        self.request = page.context.request
        self.base = base_url
        self.csrf = page.evaluate("window.faqEditor.api.csrf")
        assert self.csrf

    def call(self, method: str, path: str, data: Any = None) -> Any:
        r = self.request.fetch(
            f"{self.base}{path}",
            method=method,
            data=data,
            headers={"X-CSRF-Token": self.csrf},
        )
        assert r.ok, f"{method} {path}: {r.status} {r.text()}"
        return r.json()

    def ask(self, text: str) -> dict[str, Any]:
        """Ask as a citizen would; a 429 from the per-address rate limit means: wait as told."""
        for _ in range(100):
            r = self.request.fetch(
                f"{self.base}/api/ask", method="POST", data={"text": text, "lang": "en"}
            )
            if r.status != 429:
                assert r.ok, f"POST /api/ask: {r.status} {r.text()}"
                return r.json()  # type: ignore[no-any-return]
            time.sleep(float(r.json().get("retry_after", 1.0)))
        raise AssertionError("/api/ask kept answering 429")

    def remove(self, entry_id: str) -> None:
        """Delete the entry if it is still there, and its YAML file."""
        r = self.request.fetch(
            f"{self.base}/api/faq/entries/{entry_id}",
            method="DELETE",
            headers={"X-CSRF-Token": self.csrf},
        )
        assert r.status in (200, 404, 409), r.text()
        (ENTRIES / f"{entry_id}.yaml").unlink(missing_ok=True)


def make_body(api: Api, entry_id: str, token: str) -> dict[str, Any]:
    """All 20 languages of SOURCE_ENTRY, every question made unique; the English one is
    about a fishing licence (a service the FAQ lacks), so asking it finds this entry."""
    src = api.call("GET", f"/api/faq/entries/{SOURCE_ENTRY}")
    body = copy.deepcopy((src["published"] or src["latest"])["body"])
    body["id"] = entry_id
    body["topic"] = "browser-test"
    for loc in body["languages"].values():
        loc["question"] = f"{loc['question']} ({token})"
        loc["paraphrases"] = [f"{p} ({token})" for p in loc["paraphrases"]]
    en = body["languages"]["en"]
    en["question"] = f"How do I renew my fishing licence, case {token}?"
    en["paraphrases"] = [
        f"fishing licence renewal {token}",
        f"where can I renew a fishing license {token}",
        f"I need a new fishing licence {token}",
    ]
    en["answer"] = f"Test answer {token}. {en['answer']}"
    return body


def wait_until(ask: Callable[[], dict], ok: Callable[[dict], bool], within: float) -> float:
    """Seconds until ask() gives an answer with ok(answer); fails after `within` s."""
    start = time.monotonic()
    while True:
        answer = ask()
        took = time.monotonic() - start
        if ok(answer):
            return took
        assert took < within, f"not live after {took:.2f} s: {answer}"
        time.sleep(0.2)


@pytest.fixture
def entry_id() -> Iterator[str]:
    yield f"zz-browser-test-{secrets.token_hex(4)}"


def confirm(page) -> None:
    page.click("dialog.dialog button[value=ok]")
    page.wait_for_selector("dialog.dialog", state="detached")


def ok_message(page, pattern: str) -> None:
    """Wait for a success message matching `pattern`."""
    expect(page.locator("#entry-msg[data-kind=ok]")).to_contain_text(
        re.compile(pattern), timeout=15_000
    )


def only_http_errors(console_errors: list[str]) -> list[str]:
    """Console errors other than Chromium's note on an expected 4xx answer."""
    return [e for e in console_errors if "Failed to load resource" not in e]


# --- tests -------------------------------------------------------------------------------------
def test_login_wrong_password_then_right_password_then_logout(
    ui_page, recorder, base_url, accounts
):
    page = ui_page
    open_editor(page, base_url)
    assert page.is_visible("#login-form")
    assert not page.is_visible("#app")
    shot(page, "1-login")

    # Failed logins are limited per username and per client address (5 in 5 minutes), and
    # the test server's database outlives a run: so this failure is an unknown user (the
    # server answers exactly as for a wrong password) from an address of its own (uvicorn
    # takes X-Forwarded-For from a loopback client), and repeated runs never lock anyone out.
    fake_client = (
        f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    )
    page.route(
        "**/api/auth/login",
        lambda route: route.continue_(
            headers={**route.request.headers, "x-forwarded-for": fake_client}
        ),
    )
    page.fill("#login-user", f"nobody-{secrets.token_hex(4)}")
    page.fill("#login-password", "not-the-password")
    page.click("#login-go")
    page.wait_for_selector("#login-msg[data-kind=error]")
    assert "Wrong username or password" in page.inner_text("#login-msg")
    assert page.get_attribute("#login-msg", "role") == "alert"
    assert not page.is_visible("#app")

    page.unroute("**/api/auth/login")
    page.fill("#login-user", "browser-admin")
    page.fill("#login-password", accounts["browser-admin"])
    page.click("#login-go")
    page.wait_for_selector("#entry-list .entry-row")
    assert page.inner_text("#who-name") == "browser-admin · admin"
    assert page.locator("#entry-list .entry-row").count() >= 30
    row = page.locator(".entry-row[data-id=nif]")
    assert row.locator(".chip").count() == 20
    assert "en: machine-translated" in row.locator(".chips").inner_text()  # words, not colour
    shot(page, "2-list")

    page.click("#logout")
    page.wait_for_selector("#login-form")
    assert not page.is_visible("#app")
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert page.is_visible("#login-form")  # the session is gone on the server too
    assert recorder.page_errors == []
    assert only_http_errors(recorder.console_errors) == []
    assert recorder.foreign_requests() == []


def test_too_many_attempts_shows_the_wait(ui_page, base_url):
    page = ui_page
    page.route(
        "**/api/auth/login",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "287"},
            json={
                "detail": "too many failed logins",
                "code": "too_many_attempts",
                "retry_after": 286.4,
            },
        ),
    )
    open_editor(page, base_url)
    page.fill("#login-user", "someone")
    page.fill("#login-password", "whatever-it-is")
    page.click("#login-go")
    page.wait_for_selector("#login-msg[data-kind=error]")
    assert "Try again in 287 s" in page.inner_text("#login-msg")
    assert page.is_disabled("#login-go")


def test_html_in_an_entry_shows_as_text(ui_page, recorder, base_url, accounts, entry_id):
    page = ui_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, base_url, "browser-admin", accounts["browser-admin"])
    api = Api(page, base_url)
    body = make_body(api, entry_id, entry_id[-8:])
    body["topic"] = "<i>topic</i>"
    body["languages"]["pt"]["answer"] = f"{XSS} Texto."
    body["languages"]["en"]["question"] = "<b>bold?</b>"
    body["languages"]["en"]["answer"] = f"{XSS} Text."
    try:
        api.call("POST", "/api/faq/entries", {"body": body})
        open_editor(page, base_url, "#/entries")  # the session cookie keeps us logged in
        page.wait_for_selector(f".entry-row[data-id={entry_id}]")
        assert page.inner_text(f".entry-row[data-id={entry_id}] .topic") == "<i>topic</i>"

        page.click(f".entry-row[data-id={entry_id}] .entry-id")
        page.wait_for_selector("#pane-target[lang=en]")
        assert page.input_value("#t-answer") == f"{XSS} Text."
        assert page.input_value("#t-question") == "<b>bold?</b>"
        assert page.inner_text("#s-answer") == f"{XSS} Texto."
        assert page.locator("#view-entry img, #view-entry script, #view-entry b").count() == 0
        assert page.evaluate("window.__xss") is None
        shot(page, "xss")
    finally:
        api.remove(entry_id)
    assert dialogs == []
    assert not any("x-injected" in url for url in recorder.requests)
    assert recorder.page_errors == []


@pytest.fixture
def reviewer_page(chromium, base_url, accounts):
    """A second person, signed in as browser-reviewer in their own browser context."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1400}, locale="en-GB")
    page = context.new_page()
    login(page, base_url, "browser-reviewer", accounts["browser-reviewer"])
    yield page
    context.close()


def test_publish_ask_rollback_delete(
    ui_page, reviewer_page, recorder, base_url, accounts, entry_id
):
    page = ui_page
    login(page, base_url, "browser-admin", accounts["browser-admin"])
    api = Api(page, base_url)
    reviewer = Api(reviewer_page, base_url)
    token = entry_id[-8:]
    body = make_body(api, entry_id, token)
    question = body["languages"]["en"]["question"]
    edit = f"Edited in the browser {token}."
    try:
        api.call("POST", "/api/faq/entries", {"body": body, "note": "browser test"})
        # version 1 is published first (by a second person: the author may not), so there is
        # reviewed text to roll back to later
        api.call("POST", f"/api/faq/entries/{entry_id}/submit", {"version": 1})
        reviewer.call("POST", f"/api/faq/entries/{entry_id}/publish", {"version": 1})
        # 1. open it in Arabic and English: the right pane follows the language
        open_editor(page, base_url, f"#/entry/{entry_id}?lang=ar")
        page.wait_for_selector("#pane-target[lang=ar]")
        assert page.get_attribute("#pane-target", "dir") == "rtl"
        assert page.get_attribute("#t-answer", "dir") == "rtl"
        assert page.get_attribute("#pane-source", "lang") == "pt"
        assert page.locator("#pane-target .chip").count() == 20
        page.select_option("#lang-pick", "en")
        page.wait_for_selector("#pane-target[lang=en][dir=ltr]")

        # 2. edit the English answer, save a draft
        page.fill("#t-answer", f"{body['languages']['en']['answer']} {edit}")
        page.select_option("#t-status", "reviewed")
        assert page.is_visible("#unsaved")
        assert page.is_disabled("#publish")
        page.click("#save")
        ok_message(page, r"version 2")
        assert page.locator(".chip-buttons [data-lang=en][data-status=reviewed]").count() == 1
        shot(page, "3-saved-draft")

        # 3. submit for review; its author cannot publish it, a second person can
        page.click("#submit")
        ok_message(page, r"waiting for review")
        assert page.is_enabled("#publish")
        shot(page, "4-in-review")
        with page.expect_response(lambda r: r.url.endswith("/publish")) as refused:
            page.click("#publish")
        assert refused.value.status == 403
        expect(page.locator("#entry-msg")).to_contain_text("another reviewer", timeout=15_000)
        open_editor(reviewer_page, base_url, f"#/entry/{entry_id}?lang=en")
        reviewer_page.wait_for_selector("#publish:not([disabled])")
        with reviewer_page.expect_response(lambda r: r.url.endswith("/publish")) as published:
            reviewer_page.click("#publish")
        assert published.value.ok
        live = wait_until(
            lambda: api.ask(question),
            lambda a: a["faq_id"] == entry_id and edit in a["answer"],
            LIVE_WITHIN_S,
        )
        expect(reviewer_page.locator("#entry-msg[data-kind=ok]")).to_contain_text(
            re.compile("published"), timeout=15_000
        )
        # the review is recorded for English, by the second person, read-only
        expect(reviewer_page.locator("#t-review")).to_contain_text(
            "by browser-reviewer", timeout=15_000
        )
        assert (ENTRIES / f"{entry_id}.yaml").is_file()
        assert "reviewed_by: browser-reviewer" in (ENTRIES / f"{entry_id}.yaml").read_text()
        shot(reviewer_page, "5-published")
        print(f"published -> answered in {live:.3f} s")
        open_editor(page, base_url, f"#/entry/{entry_id}?lang=en")

        # 4. the "try a question" box sees it too
        page.click("#nav a[data-view=try]")
        page.fill("#try-text", question)
        page.select_option("#try-lang", "en")
        page.click("#try-go")
        page.wait_for_selector("#try-ranking")
        assert page.inner_text("#try-faq") == entry_id
        assert page.inner_text("#try-kind") == "faq"
        assert edit in page.inner_text("#try-answer")
        assert page.locator("#try-ranking tbody tr").count() == 5
        assert page.get_attribute("#try-answer", "lang") == "en"
        assert re.search(r"class \S+ \(p=[01]\.\d\d\)", page.inner_text("#try-facts"))
        shot(page, "6-try")

        # 5. roll back to version 1 (the text before the edit)
        page.click("#try-faq")
        page.wait_for_selector("#history-table tr[data-version='1'] .rollback")
        with page.expect_response(lambda r: r.url.endswith("/rollback")):
            page.click("#history-table tr[data-version='1'] .rollback")
            confirm(page)
        wait_until(
            lambda: api.ask(question),
            lambda a: a["faq_id"] == entry_id and edit not in a["answer"],
            LIVE_WITHIN_S,
        )
        ok_message(page, r"Rolled back")
        page.wait_for_selector("#audit-list")
        assert "rollback" in page.inner_text("#audit-list")
        shot(page, "7-rolled-back")

        # 6. delete: no longer answered, its file is gone
        with page.expect_response(
            lambda r: "/api/faq/entries/" in r.url and r.request.method == "DELETE"
        ):
            page.click("#delete")
            confirm(page)
        wait_until(lambda: api.ask(question), lambda a: a["faq_id"] != entry_id, LIVE_WITHIN_S)
        ok_message(page, r"deleted")
        assert not (ENTRIES / f"{entry_id}.yaml").exists()
        assert page.is_disabled("#delete")
        shot(page, "8-deleted")
    finally:
        api.remove(entry_id)
    assert recorder.page_errors == []
    assert only_http_errors(recorder.console_errors) == []
    assert recorder.foreign_requests() == []


def test_conflict_shows_both_versions_and_loses_nothing(
    chromium, ui_page, base_url, accounts, entry_id
):
    a = ui_page
    login(a, base_url, "browser-admin", accounts["browser-admin"])
    api = Api(a, base_url)
    body = make_body(api, entry_id, entry_id[-8:])
    other = chromium.new_context(viewport={"width": 1280, "height": 1000})
    b = other.new_page()
    try:
        api.call("POST", "/api/faq/entries", {"body": body})
        login(
            b, base_url, "browser-admin", accounts["browser-admin"], f"#/entry/{entry_id}?lang=en"
        )
        open_editor(a, base_url, f"#/entry/{entry_id}?lang=en")
        for page in (a, b):
            page.wait_for_selector("#pane-target[lang=en]")
            page.wait_for_selector("#history-table")

        # A saves first; B, still on version 1, saves a different change
        a.fill("#t-answer", "Answer written by A.")
        a.click("#save")
        ok_message(a, r"version 2")
        b.fill("#t-question", "Question written by B?")
        b.click("#save")
        b.wait_for_selector("#conflict:not([hidden])")
        conflict = b.inner_text("#conflict")
        assert "version 2" in conflict
        server = b.locator(".conflict-table td.diff-server").all_inner_texts()
        yours = b.locator(".conflict-table td.diff-yours").all_inner_texts()
        assert "Answer written by A." in server
        assert "Question written by B?" in yours
        assert "changed on the server" in conflict and "changed by you" in conflict
        assert b.input_value("#t-question") == "Question written by B?"  # nothing lost
        shot(b, "conflict")

        # keep mine: a new draft on top of version 2 with B's text
        b.click("#keep-mine")
        ok_message(b, r"version 3")
        assert b.is_hidden("#conflict")
        latest = api.call("GET", f"/api/faq/entries/{entry_id}")["latest"]
        assert latest["version"] == 3
        assert latest["base_version"] == 2
        assert latest["body"]["languages"]["en"]["question"] == "Question written by B?"

        # a second conflict, combined: A's answer and B's paraphrases both survive
        open_editor(a, base_url, f"#/entry/{entry_id}?lang=en")
        a.wait_for_selector("#pane-target[lang=en]")
        a.fill("#t-answer", "Second answer by A.")
        a.click("#save")
        ok_message(a, r"version 4")
        b.fill("#t-paraphrases", "one by B\ntwo by B\nthree by B")
        b.click("#save")
        b.wait_for_selector("#conflict:not([hidden]) #combine")
        b.click("#combine")
        ok_message(b, r"version 5")
        en = api.call("GET", f"/api/faq/entries/{entry_id}")["latest"]["body"]["languages"]["en"]
        assert en["answer"] == "Second answer by A."
        assert en["paraphrases"] == ["one by B", "two by B", "three by B"]
        assert en["question"] == "Question written by B?"
    finally:
        other.close()
        api.remove(entry_id)


def test_an_editor_cannot_publish_reject_or_delete(ui_page, base_url, accounts):
    page = ui_page
    login(page, base_url, "browser-editor", accounts["browser-editor"], "#/entry/nif?lang=fa")
    page.wait_for_selector("#pane-target[lang=fa][dir=rtl]")
    assert page.inner_text("#who-name") == "browser-editor · editor"
    for button in ("#publish", "#reject", "#delete"):
        assert page.is_disabled(button), button
    assert page.is_disabled("#save")  # nothing changed yet
    page.fill("#t-question", "یک پرسش دیگر؟")  # an editor may still write drafts
    assert page.is_enabled("#save")
    assert page.is_visible("#unsaved")
    assert "reviewer role" in page.inner_text("#role-hint")
    assert page.locator("#history-table .rollback:enabled").count() == 0


def test_keyboard_reaches_the_editor_with_a_visible_focus(ui_page, base_url, accounts):
    page = ui_page
    login(page, base_url, "browser-admin", accounts["browser-admin"], "#/entry/nif?lang=en")
    page.wait_for_selector("#pane-target[lang=en]")
    page.focus("#lang-pick")
    page.keyboard.press("Tab")  # to the first language chip
    focused = page.evaluate("document.activeElement.dataset.lang")
    assert focused == "pt"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the "es" chip
    page.wait_for_selector("#pane-target[lang=es]")
