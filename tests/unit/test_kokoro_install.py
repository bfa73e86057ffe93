"""Installing Kokoro: model parts from (fake) PyPI packages, voices from a (fake) npm tarball."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from voice_agent.errors import ModelMissing
from voice_agent.models import ModelSpec, _assemble
from voice_agent.models_npm import NpmFile, NpmFiles, install_npm
from voice_agent.speech_out.kokoro import KokoroModel, chunks, load_style


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_registry(tmp: Path, files: dict[str, bytes]) -> tuple[str, str]:
    """A folder laid out like the npm registry with one kokoro-js tarball: (file:// URL, sha)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = tmp / "registry" / "kokoro-js" / "-" / "kokoro-js-1.2.1.tgz"
    target.parent.mkdir(parents=True)
    target.write_bytes(buf.getvalue())
    return (tmp / "registry").as_uri(), sha(buf.getvalue())


def spec_for(tarball_sha: str, voices: dict[str, bytes]) -> NpmFiles:
    return NpmFiles(
        name="kokoro-voices", kind="tts-voice", package="kokoro-js", version="1.2.1",
        tarball_sha256=tarball_sha, licence="Apache-2.0",
        files=tuple(NpmFile(f"package/voices/{v}.bin", f"kokoro/voices/{v}.bin", sha(d), ("pt",))
                    for v, d in voices.items()),
    )  # fmt: skip


def test_npm_voices_are_extracted_verified_and_not_downloaded_twice(tmp_path: Path) -> None:
    voices = {"pf_dora": b"\x01" * 64, "ef_dora": b"\x02" * 64}
    files = {f"package/voices/{v}.bin": d for v, d in voices.items()}
    files["package/voices/unused.bin"] = b"\x03" * 64
    files["package/dist/kokoro.js"] = b"// not wanted"
    url, tar_sha = fake_registry(tmp_path, files)
    models = tmp_path / "models"
    out = io.StringIO()
    got = install_npm(spec_for(tar_sha, voices), models, out, registry=url)
    assert [size for _, size in got] == [64, 64]
    assert (models / "kokoro/voices/pf_dora.bin").read_bytes() == voices["pf_dora"]
    assert not (models / "kokoro/voices/unused.bin").exists()  # only the listed files
    assert not list(models.glob(".*.tgz"))  # the tarball is not kept
    assert "installed 2 of 2" in out.getvalue()
    # second run: everything verified on disk, the (now unreachable) registry is not asked
    out = io.StringIO()
    install_npm(spec_for(tar_sha, voices), models, out, registry=(tmp_path / "gone").as_uri())
    assert "already installed" in out.getvalue()
    # a damaged voice file is fetched again
    (models / "kokoro/voices/ef_dora.bin").write_bytes(b"broken")
    install_npm(spec_for(tar_sha, voices), models, io.StringIO(), registry=url)
    assert (models / "kokoro/voices/ef_dora.bin").read_bytes() == voices["ef_dora"]


def test_npm_tarball_with_wrong_sha_is_refused(tmp_path: Path) -> None:
    voices = {"pf_dora": b"\x01" * 64}
    url, _ = fake_registry(tmp_path, {"package/voices/pf_dora.bin": voices["pf_dora"]})
    with pytest.raises(ModelMissing) as err:
        install_npm(spec_for("0" * 64, voices), tmp_path / "models", io.StringIO(), registry=url)
    assert (
        "kokoro-js-1.2.1.tgz" in err.value.message
        and "voice-agent models install" in err.value.message
    )
    assert not (tmp_path / "models/kokoro/voices/pf_dora.bin").exists()


def test_unreachable_registry_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as err:
        install_npm(
            spec_for("0" * 64, {"pf_dora": b"x"}),
            tmp_path,
            io.StringIO(),
            registry=(tmp_path / "nowhere").as_uri(),
        )
    assert (
        "cannot download" in err.value.message and "VOICE_AGENT_NPM_REGISTRY" in err.value.message
    )


def test_model_parts_are_concatenated_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    parts = [bytes([i]) * 1000 for i in range(1, 5)]
    for i, data in enumerate(parts, 1):
        pkg = site / f"fake_kokoro_part_{i}"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "part.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(parts)
    spec = ModelSpec(
        name="kokoro",
        kind="tts",
        dest="kokoro/kokoro-v1.0.int8.onnx",
        parts=tuple((f"fake_kokoro_part_{i}", "part.bin") for i in range(1, 5)),
        sha256=sha(whole),
        size=len(whole),
        licence="Apache-2.0",
        languages=("pt",),
    )
    entry = _assemble(spec, tmp_path / "models", io.StringIO())
    assert (tmp_path / "models" / entry.file).read_bytes() == whole
    (tmp_path / "models/kokoro/kokoro-v1.0.int8.onnx").unlink()
    with pytest.raises(ModelMissing) as err:
        _assemble(replace(spec, sha256="0" * 64), tmp_path / "models", io.StringIO())
    assert "pip install --force-reinstall" in err.value.message


def test_missing_or_truncated_kokoro_files_name_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing) as err:
        KokoroModel(tmp_path / "kokoro-v1.0.int8.onnx", 1)
    assert (
        "kokoro-v1.0.int8.onnx" in err.value.message
        and "voice-agent models install" in err.value.message
    )
    voice = tmp_path / "pf_dora.bin"
    voice.write_bytes(b"\0" * 1000)
    with pytest.raises(ModelMissing) as err:
        load_style(voice)
    assert "pf_dora.bin" in err.value.message and "truncated" in err.value.message
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model" * 100)
    with pytest.raises(ModelMissing) as err:
        KokoroModel(garbage, 1)
    assert (
        "failed to load" in err.value.message and "voice-agent models install" in err.value.message
    )


def test_long_phoneme_strings_are_cut_at_punctuation() -> None:
    text = ("abc, " * 150).strip()
    parts = chunks(text, limit=510)
    assert all(len(p) <= 510 for p in parts) and "".join(parts).replace(" ", "") == text.replace(
        " ", ""
    )
    assert parts[0].endswith(",")


def test_manifest_lists_voices_with_licence(tmp_path: Path) -> None:
    from voice_agent.models import NPM_CATALOGUE

    spec = NPM_CATALOGUE[0]
    assert spec.package == "kokoro-js" and spec.version == "1.2.1"
    assert spec.tarball_sha256 == "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
    assert {Path(f.dest).stem for f in spec.files} >= {
        "pf_dora",
        "ef_dora",
        "ff_siwis",
        "if_sara",
        "hm_omega",
        "zf_xiaoxiao",
        "hf_alpha",
    }
