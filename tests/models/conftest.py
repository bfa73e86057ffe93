"""Fixtures for tests with the real models (installed by `make test` via `models install`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from voice_agent.config import Settings, load_settings
from voice_agent.conversation.engine import Engine
from voice_agent.models import read_manifest

ROOT = Path(__file__).resolve().parents[2]
TEST_VAR = "var/test"


@pytest.fixture(scope="session")
def settings() -> Settings:
    s = replace(load_settings(root=ROOT), var_dir=Path(TEST_VAR))
    if len(read_manifest(s.models_path)) < 5:
        pytest.fail("models are not installed: run `make test` (it runs `voice-agent models install`)")
    return s


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = Engine.create(settings)
    asyncio.run(eng.load_faq())
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "voice-agent.toml"
    path.write_text(f'var_dir = "{ROOT / TEST_VAR}"\n', encoding="utf-8")
    return path


def run_cli(*args: str, config: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", ORT_DISABLE_TELEMETRY="1")
    cmd = [sys.executable, "-m", "voice_agent.cli"]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run([*cmd, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
