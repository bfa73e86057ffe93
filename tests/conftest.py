"""Fixtures shared by every test folder: a real PostgreSQL server, started once per run when a
test asks for it (tests/pg_server.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_server import PgServer, running_pg


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    folder = Path(tempfile.mkdtemp(prefix="voice-agent-pg-"))  # not under pytest's 0700 tmp
    try:
        with running_pg(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """ "" (the SQLite file) or a fresh PostgreSQL database: tests that take this run on both."""
    if request.param == "sqlite":
        return ""
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()
