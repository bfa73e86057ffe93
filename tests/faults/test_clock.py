"""The wall clock jumping (NTP fixing a wrong time, an operator setting it, daylight-saving
bugs): timeouts, idle limits and intervals run on monotonic clocks and do not move; only what
is about dates (file ages for retention, opening hours, login expiry) follows the wall clock."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import fake_engine
from tests.unit.test_manager import data_offer
from voice_agent.config import ServerSettings
from voice_agent.errors import StageTimeout
from voice_agent.transports.rtc.manager import SessionManager
from voice_agent.transports.rtc.recorder import UtteranceRecorder
from voice_agent.workers import ModelWorker

DAY = 86_400.0
YEAR = 365 * DAY


def test_retention_purges_go_on_when_the_wall_clock_is_set_back(tmp_path: Path) -> None:
    """Before: the hourly purge compared wall times, so a clock set back a day stopped
    purging for a day and recordings outlived their retention."""
    wall = [time.time()]
    mono = [0.0]
    rec = UtteranceRecorder(
        tmp_path / "audio", 7, clock=lambda: wall[0], interval_clock=lambda: mono[0]
    )
    first = rec.save("s", np.zeros(1600, np.float32))  # purges (nothing yet), at mono 0
    os.utime(first, (wall[0] - 9 * DAY, wall[0] - 9 * DAY))  # older than 7 days, even after
    wall[0] -= DAY  # the wall clock is set back a day
    mono[0] += 2 * 3600  # two hours really pass
    second = rec.save("s", np.zeros(1600, np.float32))
    assert not first.exists() and second.exists()


def jump(monkeypatch: pytest.MonkeyPatch, by: float) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + by)


@pytest.mark.parametrize("by", [YEAR, -YEAR])
async def test_sessions_are_not_closed_as_idle_when_the_wall_clock_jumps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by: float
) -> None:
    (tmp_path / "faq" / "entries").mkdir(parents=True)
    engine = fake_engine(tmp_path, tmp_path / "faq")
    manager = SessionManager(engine, ServerSettings(session_idle_seconds=60), engine.bus)
    pc, sdp = await data_offer()
    sid = (await manager.offer(sdp, "offer", "en", "1.2.3.4"))["session_id"]
    jump(monkeypatch, by)
    assert await manager.close_idle() == 0 and sid in manager.sessions
    assert manager.sessions[sid].conversation.idle_seconds() < 5
    pc2, sdp2 = await data_offer()  # the offer rate limit is not refilled nor drained by it
    assert (await manager.offer(sdp2, "offer", "en", "1.2.3.4"))["session_id"]
    await manager.close_all()
    await pc.close()
    await pc2.close()
    engine.close()


@pytest.mark.parametrize("by", [YEAR, -YEAR])
async def test_stage_limits_do_not_fire_or_stretch_when_the_wall_clock_jumps(
    monkeypatch: pytest.MonkeyPatch, by: float
) -> None:
    worker = ModelWorker("stt")

    def work() -> str:
        jump(monkeypatch, by)  # the clock jumps while the job runs
        time.sleep(0.1)
        return "done"

    try:
        t0 = time.monotonic()
        assert await worker.run_for(1.0, work) == "done"
        assert worker.timeouts == 0
        with pytest.raises(StageTimeout):  # and a real hang still ends on time
            await worker.run_for(0.2, time.sleep, 0.4)
        assert time.monotonic() - t0 < 1.0
    finally:
        worker.close()
