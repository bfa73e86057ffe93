"""One worker thread per model: blocking model calls never run on the event loop.

A single-thread executor per model also serialises access to it (llama.cpp, CTranslate2 and
onnxruntime sessions are not safe to drive from two threads at once). `stream` runs a
synchronous iterator entirely inside the worker and hands items to async code; cancelling the
consumer stops the producer at the next item.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

_DONE = object()


class ModelWorker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def stream(
        self, make_iter: Callable[[], Iterator[T]], maxsize: int = 8
    ) -> AsyncIterator[T]:
        """Iterate `make_iter()` in the worker thread; yield its items here.

        Back-pressure: the producer waits when `maxsize` items are unconsumed. Leaving the
        async loop early (break, cancellation) sets a stop flag the producer checks per item.
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

        task = loop.run_in_executor(self._executor, produce)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.exc
                yield item  # type: ignore[misc]
        finally:
            stop.set()
            # Drain so a producer blocked on a full queue can finish.
            while not queue.empty():
                queue.get_nowait()
            await asyncio.shield(task)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
