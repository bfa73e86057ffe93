"""faq_db/entries/ <-> versions: publishing writes YAML; edits made outside (git pull, a text
editor) are re-imported, by the watcher or directly; our own writes are not."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.content.conftest import Api, entry_file, make_settings
from tests.fakes import fake_engine
from voice_agent.config import Settings
from voice_agent.content.service import ContentService
from voice_agent.language.languages import CODES

EN_OLD = "More information at"
EN_NEW = "Further information at"


async def start(settings: Settings) -> ContentService:
    svc = ContentService(settings, fake_engine(settings.root, settings.faq_dir))
    await svc.start()
    return svc


async def stop(svc: ContentService) -> None:
    await svc.stop()
    svc.engine.close()


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[ContentService]:
    s = await start(settings)
    yield s
    await stop(s)


def en_answer(svc: ContentService, entry_id: str = "nif") -> str:
    return svc.engine.retriever.entries[entry_id].languages["en"].answer


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_publish_writes_readable_yaml(api: Api, settings: Settings) -> None:
    v1 = api("GET", "/api/faq/entries/nif", "ed").json()["latest"]
    body = copy.deepcopy(v1["body"])
    body["languages"]["en"]["answer"] = body["languages"]["en"]["answer"].replace(EN_OLD, EN_NEW)
    api("PUT", "/api/faq/entries/nif", "ed", json={"base_version": 1, "body": body})
    api("POST", "/api/faq/entries/nif/submit", "ed", json={"version": 2})
    assert (
        api("POST", "/api/faq/entries/nif/publish", "rita", json={"version": 2}).status_code == 200
    )
    text = entry_file(settings, "nif").read_text(encoding="utf-8")
    # reviews are recorded per language: the old entry-level date is not written back
    assert text.startswith("id: nif\ntopic: taxes\nowner: content-team\nsources:")
    assert "Як отримати NIF у Португалії?" in text and "\\u" not in text  # allow_unicode
    assert "  en:\n    status: machine-translated\n    question:" in text
    data = yaml.safe_load(text)
    assert list(data["languages"]) == list(CODES)
    assert " ".join(data["languages"]["en"]["answer"].split()) == body["languages"]["en"]["answer"]
    assert not list(entry_file(settings, "nif").parent.glob(".*"))  # no temporary files left


async def test_external_edit_is_reimported(svc: ContentService, settings: Settings) -> None:
    path = entry_file(settings, "nif")
    edit_file(path, EN_OLD, EN_NEW)
    report = await svc.files.reimport([path])
    assert report.imported == ["nif"]
    assert EN_NEW in en_answer(svc)
    versions = await svc.db.run(svc.workflow.repo.versions, "nif")
    assert [(v.version, v.state, v.author) for v in versions] == [
        (2, "published", "faq_db"),
        (1, "superseded", "faq_db"),
    ]
    again = await svc.files.reimport([path])
    assert not again.changed and len(await svc.db.run(svc.workflow.repo.versions, "nif")) == 2


async def test_own_write_is_not_reimported(svc: ContentService, settings: Settings) -> None:
    wf = svc.workflow
    v1 = await svc.db.run(wf.repo.latest, "nif")
    assert v1 is not None
    body = copy.deepcopy(v1.body)
    body["languages"]["en"]["answer"] = body["languages"]["en"]["answer"].replace(EN_OLD, EN_NEW)
    await wf.update("ed", "nif", 1, body)
    await wf.submit("ed", "nif", 2)
    await wf.publish("rita", "nif", 2)
    report = await svc.files.reimport([entry_file(settings, "nif")])
    assert report.own_writes == 1 and not report.changed
    assert [v.version for v in await svc.db.run(wf.repo.versions, "nif")] == [2, 1]


async def test_removed_file_deletes_the_entry(svc: ContentService, settings: Settings) -> None:
    path = entry_file(settings, "niss")
    path.unlink()
    report = await svc.files.reimport([path])
    assert report.deleted == ["niss"]
    assert "niss" not in svc.engine.retriever.entries
    latest = await svc.db.run(svc.workflow.repo.latest, "niss")
    assert latest is not None and latest.state == "deleted"


async def test_start_up_sync_imports_only_what_changed(settings: Settings) -> None:
    svc = await start(settings)
    await stop(svc)
    edit_file(entry_file(settings, "nif"), EN_OLD, EN_NEW)
    svc = await start(settings)
    try:
        rows = {s.entry_id: s for s in await svc.db.run(svc.workflow.repo.summaries)}
        assert rows["nif"].latest.version == 2 and rows["nif"].published_version == 2
        assert all(rows[e].latest.version == 1 for e in ("niss", "sns24-line", "emergency-112"))
        assert EN_NEW in en_answer(svc)
    finally:
        await stop(svc)


async def test_unreadable_file_keeps_the_last_published_version(settings: Settings) -> None:
    svc = await start(settings)
    await stop(svc)
    entry_file(settings, "nif").write_text("id: nif\nlanguages: [unclosed\n", encoding="utf-8")
    svc = await start(settings)
    try:
        assert "nif" in svc.engine.retriever.entries  # still answered, from the database
        rows = {s.entry_id: s for s in await svc.db.run(svc.workflow.repo.summaries)}
        assert rows["nif"].published_version == 1
        report = await svc.files.reimport([entry_file(settings, "nif")])
        assert report.problems and "nif.yaml" in report.problems[0]
    finally:
        await stop(svc)


async def test_watcher_reimports_an_edit(tmp_path: Path, faq_dir: Path) -> None:
    settings = make_settings(tmp_path, faq_dir, watch=True)
    svc = await start(settings)
    try:
        await asyncio.sleep(0.3)  # let inotify set up
        edit_file(entry_file(settings, "nif"), EN_OLD, EN_NEW)
        for _ in range(100):
            if EN_NEW in en_answer(svc):
                break
            await asyncio.sleep(0.1)
        assert EN_NEW in en_answer(svc)
        latest = await svc.db.run(svc.workflow.repo.latest, "nif")
        assert latest is not None and latest.author == "faq_db" and latest.version == 2
        # our own publish writes the file too: the watcher sees it and must not re-import it
        body = copy.deepcopy(latest.body)
        body["languages"]["en"]["answer"] += " Bring a copy."
        await svc.workflow.update("ed", "nif", 2, body)
        await svc.workflow.submit("ed", "nif", 3)
        await svc.workflow.publish("rita", "nif", 3)
        await asyncio.sleep(1.5)  # > the watcher's debounce
        versions = await svc.db.run(svc.workflow.repo.versions, "nif")
        assert [(v.version, v.author) for v in versions][:2] == [(3, "ed"), (2, "faq_db")]
        assert en_answer(svc).endswith("Bring a copy.")
    finally:
        await stop(svc)
