"""Importing YAML/CSV as drafts: good files become drafts; bad ones get a clear 400/422 that
names the line and the field, and create nothing."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import yaml

from tests.content.conftest import ROOT, Api
from voice_agent.content.body import canonical
from voice_agent.content.yaml_io import dump_entries


def real(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "faq_db" / "entries" / f"{name}.yaml").read_text("utf-8"))
    data["last_reviewed"] = str(data.get("last_reviewed", ""))
    return canonical(data)


def upload(api: Api, text: str, fmt: str = "yaml") -> httpx.Response:
    return api(
        "POST",
        f"/api/faq/import?format={fmt}",
        "ed",
        content=text.encode("utf-8"),
        headers={"Content-Type": f"text/{fmt}"},
    )


def drafts(api: Api) -> int:
    return sum(e["latest_state"] == "draft" for e in api("GET", "/api/faq/entries", "ed").json())


def test_yaml_import_creates_drafts(api: Api) -> None:
    changed = real("nif")
    changed["languages"]["pt"]["paraphrases"].append("onde faço o nif")
    new = real("loja-do-cidadao")
    r = upload(api, dump_entries([changed, new]))
    assert r.status_code == 201, r.text
    created = {(v["entry_id"], v["version"], v["state"]) for v in r.json()["created"]}
    assert created == {("nif", 2, "draft"), ("loja-do-cidadao", 1, "draft")}
    # drafts only: what citizens get is unchanged until a reviewer publishes
    assert api("GET", "/api/faq/entries/nif", "ed").json()["published_version"] == 1


def test_csv_round_trip(api: Api) -> None:
    text = api("GET", "/api/faq/export?format=csv", "ed").text
    r = upload(api, text, "csv")
    assert r.status_code == 201, r.text
    assert len(r.json()["created"]) == 4
    nif = api("GET", "/api/faq/entries/nif", "ed").json()
    assert nif["latest"]["body"] == nif["published"]["body"]


def test_malformed_yaml_names_the_line(api: Api) -> None:
    r = upload(api, "id: nif\ntopic: taxes\nlanguages:\n  pt: [unclosed\n")
    assert r.status_code == 400
    out = r.json()
    assert "not valid YAML" in out["detail"] and out["line"] in (4, 5)
    assert drafts(api) == 0


def test_missing_language_is_400(api: Api) -> None:
    body = real("nif")
    del body["languages"]["uk"]
    r = upload(api, dump_entries([body]))
    assert r.status_code == 400
    out = r.json()
    assert out["field"] == "languages" and "uk" in out["detail"] and out["line"] > 1
    assert drafts(api) == 0


def test_duplicate_id_is_400(api: Api) -> None:
    r = upload(api, dump_entries([real("nif"), real("niss"), real("nif")]))
    assert r.status_code == 400
    out = r.json()
    assert out["field"] == "id" and "duplicate id 'nif'" in out["detail"]
    text = dump_entries([real("nif"), real("niss"), real("nif")])
    third = [i for i, line in enumerate(text.splitlines(), 1) if line == "---"][2]
    assert out["line"] == third + 1
    assert drafts(api) == 0


def test_oversized_field_is_422_with_its_line(api: Api) -> None:
    body = real("niss")
    body["languages"]["fr"]["answer"] = "x" * 2001
    text = dump_entries([real("nif"), body])
    r = upload(api, text)
    assert r.status_code == 422
    out = r.json()
    assert out["field"] == "languages.fr.answer"
    assert text.splitlines()[out["line"] - 1].strip().startswith("answer:")
    assert drafts(api) == 0


def test_bad_csv(api: Api) -> None:
    text = api("GET", "/api/faq/export?format=csv", "ed").text
    lines = text.splitlines(keepends=True)
    r = upload(api, "".join(lines).replace("answer\n", "reply\n", 1), "csv")
    assert r.status_code == 400 and r.json()["field"] == "answer" and r.json()["line"] == 1
    broken = text.replace(",en,", ",xx,", 1)
    r = upload(api, broken, "csv")
    assert r.status_code == 400 and r.json()["field"] == "lang" and "'xx'" in r.json()["detail"]


def test_not_an_entry_and_not_utf8(api: Api) -> None:
    assert upload(api, "- 1\n- 2\n").status_code == 400
    r = api(
        "POST",
        "/api/faq/import?format=yaml",
        "ed",
        content=b"\xff\xfe\x00",
        headers={"Content-Type": "text/yaml"},
    )
    assert r.status_code == 400 and "UTF-8" in r.json()["detail"]
    alias = "a: &x [1, 2]\nb: *x\n"
    assert "aliases" in upload(api, alias).json()["detail"]


def test_unknown_field_is_400(api: Api) -> None:
    body = copy.deepcopy(real("nif"))
    body["languages"]["pt"]["anwser"] = "typo"
    r = upload(api, dump_entries([body]))
    assert r.status_code == 400 and r.json()["field"] == "languages.pt.anwser"
