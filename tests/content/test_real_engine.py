"""Publish -> live with the real e5 embedder (models installed), with the latency printed."""

from __future__ import annotations

import copy
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.content.conftest import ROOT, make_settings
from voice_agent.content.faq import FaqStore
from voice_agent.content.search import try_question
from voice_agent.content.service import ContentService
from voice_agent.conversation.engine import Engine

pytestmark = pytest.mark.models
E5 = ROOT / "models" / "embeddings" / "e5-small-q4.bin"
QUESTION = "How do I get a NIF (tax number) in Portugal?"


def seed_embedding_cache(db: Path) -> None:
    """Reuse vectors an earlier run embedded (only the embeddings table: nothing else)."""
    FaqStore(db).close()
    for src in (ROOT / "var" / "test", ROOT / "var"):
        src = src / "voice_agent.sqlite3"
        if src.exists():
            conn = sqlite3.connect(db)
            try:
                conn.execute("ATTACH DATABASE ? AS src", (str(src),))
                conn.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM src.embeddings")
                conn.commit()
            except sqlite3.Error:
                pass
            finally:
                conn.close()


@pytest.mark.skipif(not E5.exists(), reason="e5 model not installed (voice-agent models install)")
async def test_a_published_change_is_what_the_next_question_gets_on_e5(
    tmp_path: Path, faq_dir: Path
) -> None:
    settings = replace(make_settings(tmp_path, faq_dir), models_dir=ROOT / "models")
    seed_embedding_cache(settings.db_path)
    engine = Engine.create(settings)
    svc = ContentService(settings, engine)
    await svc.start()
    try:
        await try_question(engine, QUESTION, "en")  # the model is loaded on first use
        wf, timings = svc.workflow, []
        for i in range(5):
            latest = await svc.db.run(wf.repo.latest, "nif")
            assert latest is not None
            body = copy.deepcopy(latest.body)
            body["languages"]["en"]["answer"] += f" Bring copy number {i} of your documents."
            await wf.update("ed", "nif", latest.version, body)
            await wf.submit("ed", "nif", latest.version + 1)
            t0 = time.perf_counter()
            await wf.publish("rita", "nif", latest.version + 1)
            out = await try_question(engine, QUESTION, "en")
            timings.append(time.perf_counter() - t0)
            assert out["faq_id"] == "nif" and out["answer"].endswith(f"{i} of your documents.")
        # Speed is measured, not asserted (a loaded 2-core machine is 3-6x slower): printed
        # here, and in bench.stages.
        print("\npublish -> live on e5 (ms):", [round(t * 1000) for t in timings])
    finally:
        await svc.stop()
        engine.close()
