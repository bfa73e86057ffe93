"""Servers the remote-engine tests start on 127.0.0.1: the real ones (llama.cpp's OpenAI
server, wyoming-faster-whisper, wyoming-piper) as processes, and misbehaving ones (a server
that accepts and never answers, one that answers garbage) as threads. Nothing but loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest


def free_port() -> int:
    """A port nothing listens on (a server that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process_server(args: list[str], port: int, log: Path, ready_s: float = 180) -> Iterator[None]:
    """`python -m <args>` at the lowest CPU priority, offline; ready when the port accepts."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", ORT_DISABLE_TELEMETRY="1")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "-m", *args], stdout=out, stderr=out, env=env
        )
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{args[0]} exited: {log.read_text(errors='replace')[-2000:]}")
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"{args[0]} not ready in {ready_s:.0f} s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class BadServer:
    """A TCP server on loopback that misbehaves: `hang` accepts, reads and never answers;
    `garbage` answers whatever it is sent with bytes that are no protocol at all."""

    GARBAGE = b"\x00\xff this is not a protocol \xfe\n{not json\r\n\r\n"

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.accepted = 0
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> BadServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for c in self._conns:
            c.close()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._conns.append(conn)
            if self.mode == "garbage":
                conn.settimeout(2)
                with suppress(OSError):
                    conn.recv(65536)
                    conn.sendall(self.GARBAGE)
                conn.close()
            # hang: keep the connection open, never read, never answer
