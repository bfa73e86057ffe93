"""Run from anywhere: models, content and data are found through one home folder, and a
missing model is a one-line message with its fix, for `serve` as for every other command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voice_agent.config import ConfigError, find_home, load_settings

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_home_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICE_AGENT_HOME", raising=False)
    monkeypatch.delenv("VOICE_AGENT_ROOT", raising=False)


def test_outside_any_home_the_installed_checkout_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_home() == CHECKOUT
    assert load_settings().faq_dir == Path("faq_db")
    assert load_settings().root == CHECKOUT


def test_a_folder_with_its_own_config_is_its_own_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "voice-agent.toml").write_text('default_language = "en"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, find_home())
    assert settings.root == tmp_path.resolve()
    assert settings.default_language == "en"


def test_the_environment_and_the_flag_name_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_AGENT_HOME", str(tmp_path))
    assert find_home() == tmp_path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    assert find_home(other) == other.resolve()
    with pytest.raises(ConfigError, match="does not exist"):
        find_home(tmp_path / "missing")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice_agent.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_without_models_says_how_to_fix_it_in_one_line(tmp_path: Path) -> None:
    r = _cli("--home", str(tmp_path), "serve", "--port", "1", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "no models installed" in lines[0] and "voice-agent models install" in lines[0]


def test_serve_with_a_truncated_model_names_the_file(tmp_path: Path) -> None:
    manifest = CHECKOUT / "models" / "manifest.json"
    if not manifest.exists():
        pytest.skip("models not installed")
    home = tmp_path / "home"
    (home / "models" / "vad").mkdir(parents=True)
    (home / "models" / "manifest.json").write_text(manifest.read_text())
    (home / "models" / "vad" / "silero_vad_v6.onnx").write_bytes(b"x")
    r = _cli("--home", str(home), "serve", "--port", "1", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "voice-agent models install" in r.stderr
    assert "models/" in r.stderr


@pytest.mark.parametrize(
    "command", [["ask", "--text", "Como tiro o NIF?"], ["eval", "questions.jsonl"]]
)
def test_commands_that_answer_without_models_say_how_to_fix_it(
    tmp_path: Path, command: list[str]
) -> None:
    """`ask` and `eval` load the embeddings first: that was "internal error:
    FileNotFoundError" instead of the fix."""
    (tmp_path / "questions.jsonl").write_text('{"text": "Como tiro o NIF?", "lang": "pt"}\n')
    r = _cli("--home", str(tmp_path), *command, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "embeddings model file" in lines[0] and "voice-agent models install" in lines[0]


@pytest.mark.parametrize(
    "command", [["eval", "nope.jsonl"], ["llm", "calibrate", "--dev", "nope.jsonl"]]
)
def test_a_missing_question_set_is_named_not_an_internal_error(
    tmp_path: Path, command: list[str]
) -> None:
    r = _cli("--home", str(tmp_path), *command, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "internal error" not in r.stderr and "nope.jsonl: no such file" in r.stderr


def test_models_list_in_a_home_without_models_says_so(tmp_path: Path) -> None:
    r = _cli("--home", str(tmp_path), "models", "list", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no models installed here" in r.stdout and "voice-agent models install" in r.stdout
