"""One worker thread per model: blocking model calls never run on the event loop.

A single thread per model also serialises access to it (llama.cpp, CTranslate2 and onnxruntime
sessions are not safe to drive from two threads at once). `stream` runs a synchronous iterator
entirely inside the worker and hands items to async code; cancelling the consumer stops the
producer at the next item.

Hangs. A job may have a time limit (`run_for`; `stream`'s first-item and per-item limits),
counted from when the worker starts it, never while it waits behind other jobs (a busy server
is not a hung one). A job over its limit raises `StageTimeout` to its caller. A Python thread
cannot be killed, so the stuck thread is abandoned: it exits whenever its job returns, and the
next job runs on a fresh thread. `on_abandon` (called on the event loop) lets the owner drop
the model the stuck thread is inside, so the fresh thread loads its own. At most
`max_abandoned` stuck threads are kept per worker; beyond that the worker refuses work
(`EngineFailure`) until one of them returns: the process needs a restart, and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from typing import Any, ParamSpec, TypeVar

from voice_agent.errors import EngineFailure, StageTimeout

T = TypeVar("T")
P = ParamSpec("P")

log = logging.getLogger(__name__)

MAX_ABANDONED = 2  # stuck threads (and the models they hold) per worker, at most
_DONE = object()


class _Job:
    __slots__ = ("call", "result", "started", "thread")

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call
        self.result: Future[Any] = Future()
        self.started: Future[None] = Future()  # set when a thread begins it
        self.thread: threading.Thread | None = None


class ModelWorker:
    def __init__(
        self,
        name: str,
        *,
        on_abandon: Callable[[], None] | None = None,
        max_abandoned: int = MAX_ABANDONED,
    ) -> None:
        self.name = name
        self._on_abandon = on_abandon
        self._max_abandoned = max_abandoned
        self._cond = threading.Condition()
        self._pending: deque[_Job] = deque()
        self._thread: threading.Thread | None = None  # the one thread that takes jobs
        self._made = 0
        self._closed = False
        self.stuck: list[threading.Thread] = []  # abandoned threads still inside a job
        self.timeouts = 0  # jobs that ran over their limit

    # --- the thread ---------------------------------------------------------------------------
    def _start_thread(self) -> None:
        """A fresh thread (call with the lock held)."""
        self._made += 1
        thread = threading.Thread(
            target=self._serve, name=f"model-{self.name}-{self._made}", daemon=True
        )
        self._thread = thread
        thread.start()

    def _serve(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while not self._pending and self._thread is me:
                    self._cond.wait()
                if self._thread is not me:  # abandoned (its job returned late) or closed
                    return
                job = self._pending.popleft()
                job.thread = me
            if not job.result.set_running_or_notify_cancel():
                continue  # its caller went away before it started
            with contextlib.suppress(InvalidStateError):
                job.started.set_result(None)
            try:
                value = job.call()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                job.result.set_exception(exc)
            else:
                job.result.set_result(value)
            del job

    def _submit(self, call: Callable[[], Any]) -> _Job:
        job = _Job(call)
        with self._cond:
            if self._closed:
                raise EngineFailure(f"the {self.name} worker is closed")
            self.stuck = [t for t in self.stuck if t.is_alive()]
            if self._thread is None:
                if len(self.stuck) > self._max_abandoned:
                    raise EngineFailure(
                        f"the {self.name} worker has {len(self.stuck)} stuck jobs and takes no "
                        "more work; restart the service (voice-agent serve)"
                    )
                self._start_thread()
            self._pending.append(job)
            self._cond.notify_all()
        return job

    def _abandon(self, job: _Job, limit: float) -> None:
        """`job` ran over its limit: leave its thread behind, serve the queue on a fresh one."""
        with self._cond:
            if job.result.done() or job.thread is not self._thread or job.thread is None:
                return
            self.timeouts += 1
            self.stuck = [t for t in self.stuck if t.is_alive()] + [job.thread]
            refused: list[_Job] = []
            fresh = len(self.stuck) <= self._max_abandoned
            if fresh:
                self._start_thread()
            else:  # no fresh thread: too many stuck ones already
                self._thread = None
                refused, self._pending = list(self._pending), deque()
            self._cond.notify_all()
        log.error(
            "%s worker: a job ran over its %.1f s limit; thread %s abandoned (%d stuck, at most "
            "%d); %s",
            self.name, limit, job.thread.name, len(self.stuck), self._max_abandoned,
            "the next job runs on a fresh thread" if fresh
            else "no more work is taken until one returns: restart the service",
        )  # fmt: skip
        for other in refused:
            refusal = EngineFailure(f"the {self.name} worker has too many stuck jobs; restart it")
            other.result.set_exception(refusal)
            other.started.set_exception(refusal)
        if self._on_abandon is not None:
            try:
                self._on_abandon()
            except Exception:  # noqa: BLE001 - the timeout is what the caller must hear about
                log.exception("%s worker: on_abandon failed", self.name)

    # --- async side ---------------------------------------------------------------------------
    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the worker, with no time limit."""
        return await self.run_for(None, fn, *args, **kwargs)

    async def run_for(
        self, limit: float | None, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(*args, **kwargs)` in the worker; StageTimeout if it runs longer than `limit`
        seconds once started (None: no limit)."""
        job = self._submit(functools.partial(fn, *args, **kwargs))
        result = asyncio.wrap_future(job.result)
        result.add_done_callback(_retrieved)  # a late or abandoned result is nobody's error
        try:
            if limit is None:
                return await result  # type: ignore[no-any-return]
            await asyncio.wrap_future(job.started)
        except asyncio.CancelledError:
            job.result.cancel()  # not started yet: it never runs (started: it runs to its end)
            raise
        # the limit holds even if the caller goes away meanwhile (a cancelled turn): a job still
        # running then is abandoned all the same, so the jobs behind it are not stuck
        watchdog = asyncio.get_running_loop().call_later(limit, self._abandon, job, limit)
        await asyncio.wait({result}, timeout=limit)
        watchdog.cancel()
        if result.done():
            return result.result()  # type: ignore[no-any-return]
        self._abandon(job, limit)
        if result.done():  # finished while it was being abandoned
            return result.result()  # type: ignore[no-any-return]
        raise StageTimeout(self.name, limit)

    async def stream(
        self,
        make_iter: Callable[[], Iterator[T]],
        maxsize: int = 8,
        *,
        first_s: float | None = None,
        item_s: float | None = None,
    ) -> AsyncIterator[T]:
        """Iterate `make_iter()` in the worker thread; yield its items here.

        Back-pressure: the producer waits when `maxsize` items are unconsumed. Leaving the
        async loop early (break, cancellation) sets a stop flag the producer checks per item.
        Limits (None: none): `first_s` for the first item once the producer has started,
        `item_s` between items; over them the producer's thread is abandoned (StageTimeout).
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=maxsize)
        stop = threading.Event()

        def put(item: object) -> None:
            fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            while not stop.is_set():
                try:
                    fut.result(timeout=0.1)
                    return
                except TimeoutError:
                    continue
            fut.cancel()

        def produce() -> None:
            try:
                for item in make_iter():
                    if stop.is_set():
                        return
                    put(item)
                    if stop.is_set():
                        return
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                put(_Failure(exc))
                return
            put(_DONE)

        job = self._submit(produce)
        task = asyncio.wrap_future(job.result)
        task.add_done_callback(_retrieved)
        abandoned = started = False
        try:
            await asyncio.wrap_future(job.started)
            started = True
            limit = first_s
            while True:
                try:
                    async with asyncio.timeout(limit):
                        item = await queue.get()
                except TimeoutError:
                    if task.done() and not queue.empty():
                        continue
                    assert limit is not None
                    abandoned = True
                    self._abandon(job, limit)
                    raise StageTimeout(self.name, limit) from None
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.exc
                yield item  # type: ignore[misc]
                limit = item_s
        finally:
            stop.set()
            job.result.cancel()  # not started yet: it never runs
            # Drain so a producer blocked on a full queue can finish.
            while not queue.empty():
                queue.get_nowait()
            if started and not abandoned:
                limit = item_s if item_s is not None else first_s
                if limit is None:
                    await asyncio.shield(task)
                else:  # a producer stuck in its next item must not hold the worker (or us)
                    await asyncio.wait({task}, timeout=limit)
                    if not task.done():
                        self._abandon(job, limit)

    def close(self) -> None:
        """Stop taking work; jobs not started are cancelled (a running one runs to its end)."""
        with self._cond:
            self._closed = True
            self._thread = None
            pending, self._pending = list(self._pending), deque()
            self._cond.notify_all()
        for job in pending:
            job.result.cancel()
            job.started.cancel()


def _retrieved(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
