"""The answer LLM on an OpenAI-compatible chat endpoint (llama.cpp's server, vLLM), streamed.

`OpenAiChat` sends the same messages the local model gets (`POST {url}/chat/completions`,
`stream: true`) and yields the content of each server-sent event. `RemoteGenerator` is the
`ReplyGenerator` the answerer uses: remote first, the local model when the remote fails.
Either way the answerer's grounding check judges every sentence, unchanged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import httpx

from voice_agent.answer.llm import ReplyGenerator
from voice_agent.config import LlmSettings
from voice_agent.remote.fallback import Lazy, RemoteFailure, Streak
from voice_agent.speech_out.normalize import split_sentences


class LocalGenerator(ReplyGenerator, Protocol):
    def close(self) -> None: ...


class OpenAiChat:
    """One streamed chat completion per call; every failure is a `RemoteFailure`."""

    def __init__(self, settings: LlmSettings) -> None:
        self._settings = settings
        self._base = settings.url.rstrip("/")
        self._model = settings.remote_model
        self._client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None
        self.name = f"openai:{self._model or self._base}"

    @property
    def _http(self) -> httpx.AsyncClient:
        """One client (and connection pool) per event loop: pooled connections belong to the
        loop that opened them (the CLI and tests run several loops over one engine)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop:
            s = self._settings
            headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
            timeout = httpx.Timeout(s.remote_timeout_s, connect=s.connect_timeout_s)
            # trust_env=False: no proxy from the environment; the operator's URL is the peer
            client = httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False)
            self._client = (loop, client)
        return self._client[1]

    async def _model_name(self) -> str:
        """The configured model, else the first one the server lists (vLLM needs a name)."""
        if not self._model:
            r = await self._http.get(f"{self._base}/models")
            if r.status_code != 200:
                raise RemoteFailure(f"GET /models: HTTP {r.status_code}")
            try:
                self._model = str(r.json()["data"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise RemoteFailure("GET /models: not an OpenAI model list") from exc
            self.name = f"openai:{self._model}"
        return self._model

    async def stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        try:
            async for text in self._stream(messages):
                yield text
        except httpx.TimeoutException as exc:
            raise RemoteFailure(f"timed out ({exc.__class__.__name__})") from exc
        except httpx.HTTPError as exc:
            raise RemoteFailure(f"{exc.__class__.__name__}: {exc}") from exc

    async def _stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        body: dict[str, Any] = {
            "model": await self._model_name(),
            "messages": messages,
            "stream": True,
            "temperature": 0.0,
            "max_tokens": self._settings.max_tokens,
        }
        async with self._http.stream("POST", f"{self._base}/chat/completions", json=body) as r:
            if r.status_code != 200:
                raise RemoteFailure(f"POST /chat/completions: HTTP {r.status_code}")
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, comments, `event:` lines
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    choice = json.loads(data)["choices"][0]
                    text = (choice.get("delta") or {}).get("content")
                except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                    raise RemoteFailure("not an OpenAI chat stream") from exc
                if isinstance(text, str) and text:
                    yield text
        raise RemoteFailure("the stream ended without [DONE]")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client[1].aclose()
            self._client = None


class RemoteGenerator:
    """`ReplyGenerator`: the remote model's tokens, or the local model's when it fails.

    Tokens are passed on a whole sentence at a time (the answerer speaks whole sentences
    anyway, so nothing is said later): if the remote fails before a sentence was passed on,
    the local model answers the request from the start; if it fails after, the reply ends at
    its last whole sentence (no half sentence is ever spoken)."""

    def __init__(
        self, remote: OpenAiChat, local: Callable[[], LocalGenerator], streak: Streak
    ) -> None:
        self._remote = remote
        self._local = Lazy(local)
        self.streak = streak
        self.name = remote.name  # "openai:<model>" once the server named its model

    async def stream_reply(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        if not self.streak.resting():
            passed = False
            pending = ""
            try:
                async for token in self._remote.stream(messages):
                    pending += token
                    parts = split_sentences(pending)
                    if len(parts) > 1:
                        cut = pending.rfind(parts[-1])
                        yield pending[:cut]
                        passed = True
                        pending = pending[cut:]
                if pending:
                    yield pending
                self.name = self._remote.name
                self.streak.succeeded()
                return
            except RemoteFailure as exc:
                self.streak.failed(exc.message)
                if passed:
                    return
        self.streak.fell_back()
        async for token in self._local.get().stream_reply(messages):
            yield token

    async def aclose(self) -> None:
        await self._remote.aclose()

    def close(self) -> None:
        if self._local.built is not None:
            self._local.built.close()
