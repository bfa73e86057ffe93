"""The answer LLM (llama-cpp-python), streaming tokens from a worker thread.

It is only ever asked to rephrase one curated FAQ answer; its output is checked by
`grounding.check` before a word of it is spoken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol

from voice_agent.config import LlmSettings
from voice_agent.errors import ModelMissing
from voice_agent.models import FIX, check_file, expected_size
from voice_agent.workers import ModelWorker


class ReplyGenerator(Protocol):
    name: str

    def stream_reply(self, messages: list[dict[str, str]]) -> AsyncIterator[str]: ...


class LlamaGenerator:
    def __init__(self, path: Path, settings: LlmSettings, models_dir: Path) -> None:
        self._path = path
        self._settings = settings
        self._models_dir = models_dir
        self._worker = ModelWorker("llm", on_abandon=self._drop)
        self._llm: Any = None
        self.name = path.stem

    def _load(self) -> Any:
        if self._llm is None:
            check_file(self._path, expected_size(self._models_dir, self._path), what="LLM")
            from llama_cpp import Llama

            try:
                self._llm = Llama(
                    model_path=str(self._path),
                    n_ctx=self._settings.n_ctx,
                    n_threads=self._settings.n_threads,
                    use_mmap=False,  # read into memory: a file rewritten in place cannot SIGBUS
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ModelMissing(f"LLM file {self._path} failed to load ({exc}); {FIX}") from exc
        return self._llm

    def _drop(self) -> None:
        """Generation hung: the stuck thread keeps that context, the next reply loads afresh
        (a llama.cpp context must never be driven from two threads)."""
        self._llm = None

    async def load(self) -> None:
        await self._worker.run(self._load)

    def _tokens(self, messages: list[dict[str, str]]) -> Iterator[str]:
        llm = self._load()
        for part in llm.create_chat_completion(
            messages=messages,
            stream=True,
            temperature=0.0,
            max_tokens=self._settings.max_tokens,
        ):
            delta = part["choices"][0].get("delta", {})
            if text := delta.get("content"):
                yield text

    async def stream_reply(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        await self._worker.run(self._load)  # (re)loading is not held to the token limits
        s = self._settings
        tokens = self._worker.stream(
            lambda: self._tokens(messages),
            first_s=s.first_token_timeout_s,
            item_s=s.token_timeout_s,
        )
        async for token in tokens:
            yield token

    def close(self) -> None:
        self._worker.close()
