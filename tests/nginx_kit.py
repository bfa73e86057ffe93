"""nginx with a shipped site file (deploy/nginx/), as shipped but for its certificate (a
throwaway one), its listen lines (loopback ports) and whatever the test replaces."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.server import ROOT, free_port

SITES = ROOT / "deploy" / "nginx"


def local_site(
    name: str, folder: Path, replace: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """The site file `name` with a throwaway certificate in `folder` and TLS on a free
    loopback port (returned); `replace` maps shipped text to the test's (upstream ports)."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=assistant.example.gov.pt", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    site = (SITES / name).read_text().replace("/etc/ssl/voice-agent/", f"{folder}/")
    for shipped, here in (replace or {}).items():
        site = site.replace(shipped, here)
    site = site.replace("listen [::]:443 ssl http2;", "").replace("listen [::]:80;", "")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    return site, port


def write_conf(site: str, folder: Path, *, daemon: bool = False) -> Path:
    """nginx.conf for `site`, every file nginx writes kept in `folder`."""
    (folder / "site.conf").write_text(site)
    conf = folder / "nginx.conf"
    conf.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        + ("" if daemon else "daemon off;\n")
        + f"events {{}}\nhttp {{\n access_log off;\n client_body_temp_path {folder}/body;\n"
        f" proxy_temp_path {folder}/proxy;\n include {folder}/site.conf;\n}}\n"
    )
    return conf


@contextmanager
def running_site(
    name: str, folder: Path, replace: Mapping[str, str] | None = None
) -> Iterator[str]:
    """nginx serving the site `name` on loopback; yields its https URL once it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    site, port = local_site(name, folder, replace)
    conf = write_conf(site, folder)
    nginx = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(conf)], stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _answers(url):
            assert nginx.poll() is None, nginx.stderr.read() if nginx.stderr else ""
            assert time.monotonic() < deadline, "nginx did not answer within 20 s"
            time.sleep(0.2)
        yield url
    finally:
        nginx.terminate()
        nginx.wait(10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", verify=False, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
