"""Settings for the remote-engine tests: the installed models, a test var/ folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from voice_agent.config import Settings, load_settings
from voice_agent.models import read_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    s = replace(load_settings(root=ROOT), var_dir=Path("var/test"))
    if len(read_manifest(s.models_path)) < 5:
        pytest.fail("models are not installed: run `make test` (it runs `models install`)")
    return s
