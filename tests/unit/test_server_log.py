"""The server's own log lines reach the operator: `voice-agent serve` configures uvicorn's
logging, which alone would leave this package's INFO lines (start-up progress) dropped."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator

import pytest

from voice_agent.content.service import embedding_logged
from voice_agent.transports.server import log_config


@pytest.fixture
def restored_logging() -> Iterator[None]:
    names = ("voice_agent", "uvicorn", "uvicorn.error", "uvicorn.access")
    loggers = {n: logging.getLogger(n) for n in names}
    saved = {n: (lg.handlers[:], lg.level, lg.propagate, lg.disabled) for n, lg in loggers.items()}
    yield
    for n, (handlers, level, propagate, disabled) in saved.items():
        lg = logging.getLogger(n)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled


def test_info_lines_of_the_package_are_printed_with_their_logger(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(log_config())
    logging.getLogger("voice_agent.voices").info("reply audio: %d/%d pieces ready", 40, 1997)
    logging.getLogger("voice_agent.voices").debug("not shown")
    err = capsys.readouterr().err
    assert "voice_agent.voices: reply audio: 40/1997 pieces ready" in err
    assert "INFO" in err and "not shown" not in err


def test_embedding_progress_is_logged_for_a_long_run_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="voice_agent.content.service")
    for done in (64, 128, 640, 700, 1280, 1300):
        embedding_logged(done, 1300)
    embedding_logged(40, 40)  # a publish of a few edited texts: quiet
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("embedding 1300 texts not seen before (a first start")
    assert lines[1:] == [
        "embedding texts not seen before: 640/1300",
        "embedding texts not seen before: 1280/1300",
        "embedding texts not seen before: 1300/1300",
    ]
