"""Models an operator drops into models/ are used without code changes; the LLM stays grounded."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

from voice_agent.conversation.ask import ask
from voice_agent.config import LlmSettings, Settings
from voice_agent.conversation.engine import Engine, TurnInput
from voice_agent.language.textfacts import extract_facts

from tests.models.conftest import ROOT, run_cli


def test_a_dropped_in_piper_voice_speaks_its_language(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, copy_function=os.link)
    joe = models / "voices" / "en_US-joe-medium.onnx"
    # An operator's Portuguese voice: here the English weights under a pt_PT name and config.
    os.link(joe, models / "voices" / "pt_PT-operator-medium.onnx")
    cfg = json.loads((models / "voices" / "en_US-joe-medium.onnx.json").read_text())
    cfg["language"] = {"code": "pt_PT"}
    (models / "voices" / "pt_PT-operator-medium.onnx.json").write_text(json.dumps(cfg))
    conf = tmp_path / "cfg.toml"
    conf.write_text(f'models_dir = "{models}"\nvar_dir = "{tmp_path / "var"}"\n')
    listing = run_cli("models", "list", config=conf)
    assert listing.returncode == 0, listing.stderr
    pt_line = next(line for line in listing.stdout.splitlines() if line.startswith("pt "))
    assert "piper:pt_PT-operator-medium" in pt_line
    out = tmp_path / "pt.wav"
    said = run_cli("say", "--lang", "pt", "Bom dia.", "-o", str(out), config=conf)
    assert said.returncode == 0 and "piper:pt_PT-operator-medium" in said.stdout


def test_trusted_llm_rephrasing_only_says_facts_of_the_entry(settings: Settings) -> None:
    trusted = replace(settings, llm=LlmSettings(trusted_languages=("en",)))
    engine = Engine.create(trusted)
    try:
        asyncio.run(engine.load_faq())
        r = asyncio.run(ask(engine, TurnInput(text="What is the SNS 24 phone number?"),
                            want_audio=False)).result
        assert r["faq_id"] == "sns24-line" and r["mode"] == "rephrased"
        curated = engine.retriever.entries["sns24-line"].languages["en"].answer
        invented = extract_facts(r["answer"]).missing_from(extract_facts(curated))
        assert invented.is_empty(), (r["answer"], invented)
        assert "808 24 24 24" in r["answer"] or r["answer"] == curated
    finally:
        engine.close()
