"""Model assembly from packages: sha256 verified, idempotent, clear errors."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

import pytest

from voice_agent import models
from voice_agent.errors import ModelMissing


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "site" / "fake_weights"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "a.bin").write_bytes(b"A" * 1000)
    (pkg / "data" / "b.bin").write_bytes(b"B" * 500)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.modules.pop("fake_weights", None)
    return pkg


def spec(sha: str | None) -> models.ModelSpec:
    return models.ModelSpec(
        name="fake",
        kind="llm",
        dest="llm/fake.gguf",
        parts=(("fake_weights", "data/a.bin"), ("fake_weights", "data/b.bin")),
        sha256=sha,
        size=1500,
        licence="MIT",
        languages=("en",),
    )


def test_parts_are_concatenated_and_verified(fake_package: Path, tmp_path: Path) -> None:
    sha = hashlib.sha256(b"A" * 1000 + b"B" * 500).hexdigest()
    out = io.StringIO()
    entry = models._assemble(spec(sha), tmp_path / "models", out)
    assert (tmp_path / "models" / "llm" / "fake.gguf").read_bytes() == b"A" * 1000 + b"B" * 500
    assert entry.sha256 == sha and entry.source_package == "fake-weights"
    again = io.StringIO()
    models._assemble(spec(sha), tmp_path / "models", again)
    assert "already installed" in again.getvalue()


def test_corrupt_install_is_rebuilt(fake_package: Path, tmp_path: Path) -> None:
    sha = hashlib.sha256(b"A" * 1000 + b"B" * 500).hexdigest()
    models._assemble(spec(sha), tmp_path / "models", io.StringIO())
    target = tmp_path / "models" / "llm" / "fake.gguf"
    target.write_bytes(b"X" * 1500)
    out = io.StringIO()
    models._assemble(spec(sha), tmp_path / "models", out)
    assert "corrupt" in out.getvalue() and target.read_bytes().startswith(b"A")


def test_damaged_source_package_is_named(fake_package: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="fake_weights.*reinstall"):
        models._assemble(spec("0" * 64), tmp_path / "models", io.StringIO())
    assert not (tmp_path / "models" / "llm" / "fake.gguf").exists()


def test_missing_package_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="not-a-real-package is not installed"):
        models.package_file("not_a_real_package", "data/x.bin")


def test_check_file_messages(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="missing; run `voice-agent models install`"):
        models.check_file(tmp_path / "nope.bin", what="LLM")
    f = tmp_path / "short.bin"
    f.write_bytes(b"123")
    with pytest.raises(ModelMissing, match="truncated or corrupt"):
        models.check_file(f, 10, what="LLM")
