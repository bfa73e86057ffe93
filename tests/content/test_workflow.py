"""Draft -> review -> publish through the API, live in the engine at once; rollback; 409."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.content.conftest import Api, entry_file, make_app, make_settings
from voice_agent.config import ContentSettings, Settings
from voice_agent.content.workflow import SELF_REVIEW_NOTE
from voice_agent.language.languages import CODES

QUESTION = "How do I get a NIF (tax number) in Portugal?"
EXTRA = " Bring a printed copy of your appointment too."


def latest(api: Api, entry_id: str) -> dict[str, Any]:
    r = api("GET", f"/api/faq/entries/{entry_id}", "ed")
    assert r.status_code == 200, r.text
    return r.json()["latest"]  # type: ignore[no-any-return]


def edited(body: dict[str, Any], lang: str = "en", extra: str = EXTRA) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out["languages"][lang]["answer"] += extra
    return out


def test_start_up_imports_the_yaml_as_published_versions(api: Api) -> None:
    r = api("GET", "/api/faq/entries", "ed")
    assert r.status_code == 200
    rows = {e["id"]: e for e in r.json()}
    assert set(rows) == {"nif", "sns24-line", "emergency-112", "niss"}
    nif = rows["nif"]
    assert (nif["latest_version"], nif["latest_state"], nif["published_version"]) == (
        1,
        "published",
        1,
    )
    assert nif["author"] == "faq_db"
    assert len(nif["languages"]) == 20 and nif["languages"]["en"] == "machine-translated"


def test_draft_review_publish_is_live_within_a_second(api: Api, settings: Settings) -> None:
    v1 = latest(api, "nif")
    new_answer = v1["body"]["languages"]["en"]["answer"] + EXTRA
    before = api("POST", "/api/faq/try", "ed", json={"text": QUESTION, "lang": "en"}).json()
    assert before["faq_id"] == "nif" and before["answer"] != new_answer

    r = api(
        "PUT",
        "/api/faq/entries/nif",
        "ed",
        json={"base_version": 1, "body": edited(v1["body"]), "note": "appointment copy"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["state"], r.json()["author"]) == (2, "draft", "ed")
    # drafts are never answered from
    assert (
        api("POST", "/api/faq/try", "ed", json={"text": QUESTION, "lang": "en"}).json()["answer"]
        == before["answer"]
    )

    assert (
        api("POST", "/api/faq/entries/nif/submit", "ed", json={"version": 2}).json()["state"]
        == "review"
    )
    assert api("POST", "/api/faq/entries/nif/publish", "ed", json={"version": 2}).status_code == 403

    t0 = time.perf_counter()
    r = api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": 2})
    assert r.status_code == 200, r.text
    tried = api("POST", "/api/faq/try", "ed", json={"text": QUESTION, "lang": "en"}).json()
    elapsed = time.perf_counter() - t0
    assert tried["answer"] == new_answer
    assert elapsed < 1.0, f"publish -> live took {elapsed:.3f} s"
    print(f"\npublish -> live (fake engine): {elapsed * 1000:.0f} ms")

    asked = api("POST", "/api/ask", json={"text": QUESTION, "lang": "en"}).json()
    assert asked["faq_id"] == "nif" and EXTRA.strip() in asked["answer"]

    states = [
        (v["version"], v["state"]) for v in api("GET", "/api/faq/entries/nif/versions", "ed").json()
    ]
    assert states == [(2, "published"), (1, "superseded")]
    on_disk = yaml.safe_load(entry_file(settings, "nif").read_text(encoding="utf-8"))
    assert " ".join(on_disk["languages"]["en"]["answer"].split()) == new_answer
    audit = api("GET", "/api/faq/audit?entry_id=nif", "ed").json()
    assert [a["action"] for a in audit][:3] == ["publish", "submit", "update"]
    assert "en.answer changed" in audit[0]["changes"][0]


def test_try_ranks_the_top_five(api: Api) -> None:
    r = api("POST", "/api/faq/try", "ed", json={"text": QUESTION})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["language"] == "en" and out["kind"] == "faq" and out["faq_id"] == "nif"
    assert 1 <= len(out["ranking"]) <= 5
    top = out["ranking"][0]
    assert top["entry_id"] == "nif" and top["matched_lang"] == "en" and top["matched_text"]
    assert [x["score"] for x in out["ranking"]] == sorted(
        (x["score"] for x in out["ranking"]), reverse=True
    )


def test_publish_requires_review_and_validation(api: Api) -> None:
    v1 = latest(api, "nif")
    body = copy.deepcopy(v1["body"])
    del body["languages"]["uk"]
    v2 = api("PUT", "/api/faq/entries/nif", "ed", json={"base_version": 1, "body": body}).json()
    r = api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": v2["version"]})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    api("POST", "/api/faq/entries/nif/submit", "ed", json={"version": v2["version"]})
    r = api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": v2["version"]})
    assert r.status_code == 422
    assert any("missing languages: uk" in p for p in r.json()["problems"])
    # nothing changed for citizens
    assert latest(api, "nif")["state"] == "review"
    assert api("GET", "/api/faq/entries/nif", "ed").json()["published_version"] == 1


def test_reject(api: Api) -> None:
    v1 = latest(api, "niss")
    api("PUT", "/api/faq/entries/niss", "ed", json={"base_version": 1, "body": edited(v1["body"])})
    api("POST", "/api/faq/entries/niss/submit", "ed", json={"version": 2})
    r = api("POST", "/api/faq/entries/niss/reject", "rita", json={"version": 2, "note": "no"})
    assert r.status_code == 200 and r.json()["state"] == "rejected" and r.json()["note"] == "no"
    assert (
        api("POST", "/api/faq/entries/niss/publish", "rita", json={"version": 2}).status_code == 409
    )


def test_rollback_publishes_an_earlier_body(api: Api, settings: Settings) -> None:
    v1 = latest(api, "nif")
    old = v1["body"]["languages"]["en"]["answer"]
    api("PUT", "/api/faq/entries/nif", "ed", json={"base_version": 1, "body": edited(v1["body"])})
    api("POST", "/api/faq/entries/nif/submit", "ed", json={"version": 2})
    api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": 2})
    assert (
        api("POST", "/api/faq/try", "ed", json={"text": QUESTION, "lang": "en"}).json()["answer"]
        == old + EXTRA
    )

    r = api("POST", "/api/faq/entries/nif/rollback", "rita", json={"version": 1})
    assert r.status_code == 200, r.text
    v3 = r.json()
    assert (v3["version"], v3["state"], v3["base_version"]) == (3, "published", 1)
    assert v3["body"] == v1["body"]
    assert (
        api("POST", "/api/faq/try", "ed", json={"text": QUESTION, "lang": "en"}).json()["answer"]
        == old
    )
    on_disk = yaml.safe_load(entry_file(settings, "nif").read_text(encoding="utf-8"))
    assert " ".join(on_disk["languages"]["en"]["answer"].split()) == old
    # rolling back to the latest version is not a rollback
    assert (
        api("POST", "/api/faq/entries/nif/rollback", "rita", json={"version": 3}).status_code == 409
    )


def test_conflict_returns_both_versions(api: Api) -> None:
    v1 = latest(api, "nif")
    mine = edited(v1["body"], extra=" Mine.")
    theirs = edited(v1["body"], extra=" Theirs.")
    assert (
        api(
            "PUT", "/api/faq/entries/nif", "ed", json={"base_version": 1, "body": theirs}
        ).status_code
        == 200
    )
    r = api("PUT", "/api/faq/entries/nif", "rita", json={"base_version": 1, "body": mine})
    assert r.status_code == 409
    out = r.json()
    assert out["code"] == "conflict"
    assert out["current"]["version"] == 2 and out["current"]["body"]["languages"]["en"][
        "answer"
    ].endswith("Theirs.")
    assert out["yours"]["languages"]["en"]["answer"].endswith("Mine.")
    # nothing of either was lost: the current version is still theirs, and mine came back
    assert latest(api, "nif")["version"] == 2


def test_create_new_entry_and_html_is_stored_verbatim(api: Api) -> None:
    html = '<script>alert("x")</script> <b>bold</b> & <a href="javascript:1">link</a>'
    body = {
        "id": "new-thing",
        "topic": "misc",
        "languages": {"en": {"question": "What is <i>this</i>?", "answer": html}},
    }
    r = api("POST", "/api/faq/entries", "ed", json={"body": body})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["state"] == "draft"
    got = latest(api, "new-thing")["body"]["languages"]["en"]
    assert got["answer"] == html and got["question"] == "What is <i>this</i>?"
    assert api("POST", "/api/faq/entries", "ed", json={"body": body}).status_code == 409
    hits = api("GET", "/api/faq/search?q=ALERT", "ed").json()
    assert any(h["entry_id"] == "new-thing" and h["field"] == "answer" for h in hits)


def test_oversized_fields_are_422(api: Api) -> None:
    base = {"id": "big", "topic": "misc", "languages": {"en": {"question": "q", "answer": "a"}}}
    too_long_answer = copy.deepcopy(base)
    too_long_answer["languages"]["en"]["answer"] = "a" * 2001
    too_long_question = copy.deepcopy(base)
    too_long_question["languages"]["en"]["question"] = "q" * 501
    huge = copy.deepcopy(base)
    huge["languages"] = {
        c: {"question": "q" * 500, "paraphrases": ["p" * 500] * 20, "answer": "a" * 2000}
        for c in CODES
    }  # 20 x 12.5 KB: over the 200 KB limit on a whole entry
    for body in (too_long_answer, too_long_question, huge):
        r = api("POST", "/api/faq/entries", "ed", json={"body": body})
        assert r.status_code == 422, r.text[:300]
    bad_lang = copy.deepcopy(base)
    bad_lang["languages"]["xx"] = bad_lang["languages"].pop("en")
    assert api("POST", "/api/faq/entries", "ed", json={"body": bad_lang}).status_code == 422
    assert api("POST", "/api/faq/try", "ed", json={"text": "x" * 501}).status_code == 422


def test_delete_stops_answering_and_removes_the_file(api: Api, settings: Settings) -> None:
    r = api("DELETE", "/api/faq/entries/nif?note=obsolete", "rita")
    assert r.status_code == 200 and r.json()["state"] == "deleted"
    assert not entry_file(settings, "nif").exists()
    assert "nif" not in {e["id"] for e in api("GET", "/api/faq/entries", "ed").json()}
    tried = api("POST", "/api/faq/try", "ed", json={"text": QUESTION, "lang": "en"}).json()
    assert tried["faq_id"] != "nif"
    assert all(x["entry_id"] != "nif" for x in tried["ranking"])
    # a rollback brings it back
    r = api("POST", "/api/faq/entries/nif/rollback", "rita", json={"version": 1})
    assert r.status_code == 200 and entry_file(settings, "nif").exists()


def test_export_yaml_and_csv(api: Api) -> None:
    r = api("GET", "/api/faq/export?format=yaml", "ed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/yaml")
    docs = [d for d in yaml.safe_load_all(r.text) if d]
    assert sorted(d["id"] for d in docs) == ["emergency-112", "nif", "niss", "sns24-line"]
    r = api("GET", "/api/faq/export?format=csv", "ed")
    assert r.status_code == 200 and r.text.startswith("id,topic,owner")
    assert r.text.count("\nnif,") == 20


def test_rollback_to_a_never_published_draft_is_refused(api: Api) -> None:
    v1 = latest(api, "nif")
    api("PUT", "/api/faq/entries/nif", "ed", json={"base_version": 1, "body": edited(v1["body"])})
    api(
        "PUT",
        "/api/faq/entries/nif",
        "ed",
        json={"base_version": 2, "body": edited(v1["body"], extra=" Again.")},
    )
    r = api("POST", "/api/faq/entries/nif/rollback", "rita", json={"version": 2})
    assert r.status_code == 409 and "never published" in r.text


def test_publishing_needs_a_second_person(api: Api) -> None:
    v1 = latest(api, "nif")
    # an admin writes, submits... and may not publish their own change
    v2 = api(
        "PUT", "/api/faq/entries/nif", "ana", json={"base_version": 1, "body": edited(v1["body"])}
    )
    api("POST", "/api/faq/entries/nif/submit", "ana", json={"version": v2.json()["version"]})
    r = api("POST", "/api/faq/entries/nif/publish", "ana", json={"version": 2})
    assert r.status_code == 403 and "another reviewer" in r.text
    assert (
        api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": 2}).status_code == 200
    )


def test_reviews_are_recorded_by_the_workflow_per_language(api: Api, settings: Settings) -> None:
    v1 = latest(api, "nif")
    body = edited(v1["body"])
    body["languages"]["en"]["status"] = "reviewed"
    body["languages"]["en"]["last_reviewed"] = "2020-01-01"  # typed in: not a review record
    body["languages"]["en"]["reviewed_by"] = "somebody"
    body["last_reviewed"] = "2026-11-20"  # the old entry-level date: ignored
    r = api("PUT", "/api/faq/entries/nif", "ed", json={"base_version": 1, "body": body})
    draft = r.json()["body"]
    assert "last_reviewed" not in draft and draft["languages"]["en"]["last_reviewed"] == ""
    api("POST", "/api/faq/entries/nif/submit", "ed", json={"version": 2})
    published = api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": 2}).json()
    en = published["body"]["languages"]["en"]
    assert en["reviewed_by"] == "rita" and en["last_reviewed"] == time.strftime("%Y-%m-%d")
    assert published["body"]["languages"]["pt"]["last_reviewed"] == ""  # pt is still a draft
    data = yaml.safe_load(entry_file(settings, "nif").read_text(encoding="utf-8"))
    assert data["languages"]["en"]["reviewed_by"] == "rita"
    audit = api("GET", "/api/faq/audit?entry_id=nif", "ed").json()
    assert "reviewed by rita: en" in audit[0]["changes"]
    # an unchanged reviewed language keeps its record through later edits of other languages
    v3 = api(
        "PUT",
        "/api/faq/entries/nif",
        "ed",
        json={"base_version": 2, "body": edited(published["body"], "pt", " Obrigado.")},
    ).json()
    assert v3["body"]["languages"]["en"]["reviewed_by"] == "rita"
    # ... and loses it when its text changes (a reviewer must publish it again)
    v4 = api(
        "PUT",
        "/api/faq/entries/nif",
        "ed",
        json={"base_version": 3, "body": edited(v3["body"], "en", " Thanks.")},
    ).json()
    assert v4["body"]["languages"]["en"]["reviewed_by"] == ""


def test_a_one_person_team_may_self_publish_and_the_audit_says_so(
    tmp_path: Path, faq_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(
        make_settings(tmp_path, faq_dir),
        content=ContentSettings(watch_files=False, allow_self_review=True),
    )
    with TestClient(make_app(settings, monkeypatch)) as client:
        api = Api(client)
        v1 = latest(api, "nif")
        api(
            "PUT",
            "/api/faq/entries/nif",
            "ana",
            json={"base_version": 1, "body": edited(v1["body"])},
        )
        api("POST", "/api/faq/entries/nif/submit", "ana", json={"version": 2})
        r = api("POST", "/api/faq/entries/nif/publish", "ana", json={"version": 2})
        assert r.status_code == 200, r.text
        audit = api("GET", "/api/faq/audit?entry_id=nif", "ana").json()
        assert audit[0]["action"] == "publish" and SELF_REVIEW_NOTE in audit[0]["changes"]
