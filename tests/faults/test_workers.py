"""A worker whose job hangs or raises: the caller hears about it within the stage's limit, the
stuck thread is abandoned, the next job runs on a fresh thread (and a fresh model), and the
number of stuck threads is bounded."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from voice_agent.errors import EngineFailure, StageTimeout
from voice_agent.workers import ModelWorker


class Model:
    """A stand-in model: `hang` blocks until released (as a stuck native call would)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.threads: list[str] = []

    def hang(self) -> str:
        self.threads.append(threading.current_thread().name)
        self.release.wait(30)
        return "late"

    def work(self, x: int) -> int:
        self.threads.append(threading.current_thread().name)
        return x * 2

    def slow(self, s: float) -> str:
        time.sleep(s)
        return "done"


async def test_a_hung_job_times_out_and_the_next_job_runs_on_a_fresh_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    models = [Model()]
    worker = ModelWorker("stt", on_abandon=lambda: models.append(Model()))
    try:
        stuck = models[0]
        t0 = time.monotonic()
        with (
            caplog.at_level(logging.ERROR, logger="voice_agent.workers"),
            pytest.raises(StageTimeout) as info,
        ):
            await worker.run_for(0.3, stuck.hang)
        waited = time.monotonic() - t0
        assert 0.3 <= waited < 1.5
        assert info.value.code == "timeout" and info.value.stage == "stt"
        assert "0.3 s" in info.value.message
        # the owner was told: it dropped the stuck model, the next job uses a fresh one
        assert len(models) == 2
        fresh = models[-1]
        t1 = time.monotonic()
        assert await worker.run_for(0.3, fresh.work, 21) == 42
        assert time.monotonic() - t1 < 0.3  # not queued behind the stuck job
        assert fresh.threads[0] != stuck.threads[0]
        assert worker.timeouts == 1 and len(worker.stuck) == 1
        lines = [r.getMessage() for r in caplog.records]
        assert any("stt worker" in m and "abandoned" in m and "fresh thread" in m for m in lines)
        stuck.release.set()  # the stuck call finally returns: its thread exits, never reused
        await asyncio.sleep(0.2)
        assert not any(t.is_alive() for t in worker.stuck)
        assert await worker.run(fresh.work, 1) == 2
        assert set(fresh.threads) == {fresh.threads[0]}
    finally:
        for m in models:
            m.release.set()
        worker.close()


async def test_time_waiting_behind_other_jobs_does_not_count() -> None:
    """A busy worker is not a hung one: the limit starts when the job starts."""
    worker = ModelWorker("tts")
    m = Model()
    try:
        first = asyncio.ensure_future(worker.run(m.slow, 0.5))
        second = asyncio.ensure_future(worker.run_for(0.3, m.slow, 0.05))
        assert await first == "done" and await second == "done"
        assert worker.timeouts == 0 and not worker.stuck
    finally:
        worker.close()


async def test_a_raising_job_reaches_its_caller_and_the_worker_goes_on() -> None:
    worker = ModelWorker("llm")
    m = Model()

    def boom() -> None:
        raise RuntimeError("onnxruntime exploded")

    try:
        with pytest.raises(RuntimeError, match="exploded"):
            await worker.run_for(1.0, boom)
        assert await worker.run_for(1.0, m.work, 2) == 4
        assert worker.timeouts == 0 and not worker.stuck
    finally:
        worker.close()


async def test_stuck_threads_are_bounded_then_the_worker_refuses_until_one_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = ModelWorker("embeddings", max_abandoned=1)
    a, b, c = Model(), Model(), Model()
    try:
        with pytest.raises(StageTimeout):
            await worker.run_for(0.2, a.hang)
        queued = asyncio.ensure_future(worker.run_for(0.5, c.work, 1))
        with (
            caplog.at_level(logging.ERROR, logger="voice_agent.workers"),
            pytest.raises(StageTimeout),
        ):
            await worker.run_for(0.2, b.hang)  # second stuck thread: over the bound
        with pytest.raises(EngineFailure, match="stuck"):
            await queued  # it was waiting: it is refused, not left hanging
        with pytest.raises(EngineFailure, match="restart"):
            await worker.run(c.work, 1)
        assert len(worker.stuck) == 2
        assert any("no more work" in r.getMessage() for r in caplog.records)
        a.release.set()  # one stuck call returns: the worker takes work again
        await asyncio.sleep(0.2)
        assert await worker.run_for(0.5, c.work, 5) == 10
    finally:
        for m in (a, b, c):
            m.release.set()
        worker.close()


async def test_a_caller_that_leaves_before_its_job_starts_never_runs_it() -> None:
    worker = ModelWorker("stt")
    m = Model()
    try:
        busy = asyncio.ensure_future(worker.run(m.slow, 0.3))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(worker.run_for(1.0, m.work, 3))
        await asyncio.sleep(0.05)
        waiting.cancel()
        await busy
        await asyncio.sleep(0.1)
        assert m.threads == []  # `work` never ran
    finally:
        worker.close()


async def test_a_stream_that_stalls_times_out_on_its_first_item_and_between_items() -> None:
    worker = ModelWorker("llm")
    gate = threading.Event()

    def stalls_at_once() -> Iterator[str]:
        gate.wait(30)
        yield "late"

    def stalls_later() -> Iterator[str]:
        yield "one"
        yield "two"
        gate.wait(30)
        yield "late"

    try:
        with pytest.raises(StageTimeout):
            async for _ in worker.stream(stalls_at_once, first_s=0.3, item_s=0.3):
                pass
        got: list[str] = []
        t0 = time.monotonic()
        with pytest.raises(StageTimeout):
            async for token in worker.stream(stalls_later, first_s=0.3, item_s=0.3):
                got.append(token)
        assert got == ["one", "two"] and time.monotonic() - t0 < 1.5
        assert worker.timeouts == 2

        def fine() -> Iterator[str]:
            yield from ["a", "b", "c"]

        assert [t async for t in worker.stream(fine, first_s=0.3, item_s=0.3)] == ["a", "b", "c"]
    finally:
        gate.set()
        worker.close()


async def test_a_hung_job_whose_caller_left_is_still_abandoned_on_time() -> None:
    """A turn cancelled (barge-in, a new question) while its transcription hangs: the limit
    still frees the worker, so the next session's job does not wait forever behind it."""
    worker = ModelWorker("stt")
    m = Model()
    try:
        caller = asyncio.ensure_future(worker.run_for(0.3, m.hang))
        await asyncio.sleep(0.1)
        caller.cancel()
        t0 = time.monotonic()
        assert await worker.run_for(1.0, m.work, 4) == 8  # queued behind the hung one
        assert 0.1 < time.monotonic() - t0 < 1.5 and worker.timeouts == 1
    finally:
        m.release.set()
        worker.close()


async def test_a_stream_left_while_its_producer_hangs_frees_the_worker() -> None:
    worker = ModelWorker("llm")
    gate, inside = threading.Event(), threading.Event()

    def stalls_after_one() -> Iterator[str]:
        yield "one"
        inside.set()
        gate.wait(30)
        yield "late"

    try:
        tokens = worker.stream(stalls_after_one, first_s=0.3, item_s=0.3)
        assert await anext(tokens) == "one"
        assert await asyncio.to_thread(inside.wait, 5)  # the producer is stuck now
        t0 = time.monotonic()
        await tokens.aclose()  # the consumer leaves (a barge-in) while the producer is stuck
        assert time.monotonic() - t0 < 1.0
        assert await worker.run_for(1.0, Model().work, 1) == 2
        assert worker.timeouts == 1
    finally:
        gate.set()
        worker.close()
