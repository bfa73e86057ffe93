"""The answer LLM on an OpenAI-compatible server: llama.cpp's own server (llama-cpp-python's
`llama_cpp.server`) started by the test on loopback with the installed GGUF, and servers that
are down, hang or answer garbage (the local model answers then, and it is logged)."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.remote.servers import BadServer, free_port
from voice_agent.answer.answerer import Answerer, Messages
from voice_agent.answer.decision import Decision
from voice_agent.answer.grounding import check
from voice_agent.answer.llm import LlamaGenerator
from voice_agent.config import Settings
from voice_agent.content.faq import FaqEntry, load_entries
from voice_agent.conversation.engine import DATA
from voice_agent.language.lid import LanguageIdentifier, TextLanguageDetector
from voice_agent.remote import factory
from voice_agent.remote.fallback import Streak
from voice_agent.remote.openai_llm import OpenAiChat, RemoteGenerator
from voice_agent.speech_out.normalize import split_sentences

pytestmark = pytest.mark.models

TIMEOUT_S = 2.0
MESSAGES = [
    {"role": "system", "content": "Answer in one short English sentence."},
    {"role": "user", "content": "What is the capital of Portugal?"},
]


@pytest.fixture(scope="module")
def settings(base_settings: Settings) -> Settings:
    llm = replace(
        base_settings.llm, max_tokens=48, remote_timeout_s=TIMEOUT_S, connect_timeout_s=1.0
    )
    return replace(base_settings, llm=llm)


class LocalModel:
    """Builds the local model (the real one, loaded once per module); records when."""

    def __init__(self, model: LlamaGenerator) -> None:
        self.model = model
        self.asked_at: list[float] = []

    def __call__(self) -> LlamaGenerator:
        self.asked_at.append(time.monotonic())
        return self.model


@pytest.fixture(scope="module")
def local_model(settings: Settings) -> Iterator[LlamaGenerator]:
    path = settings.model_path(settings.llm.model_file)
    model = LlamaGenerator(path, settings.llm, settings.models_path)
    yield model
    model.close()


@pytest.fixture()
def local(local_model: LlamaGenerator) -> LocalModel:
    return LocalModel(local_model)


def remote(
    settings: Settings, url: str, local: LocalModel, timeout_s: float = TIMEOUT_S
) -> RemoteGenerator:
    """The LLM at `url`; the real server gets a generous timeout (this machine is shared)."""
    llm = replace(settings.llm, url=url, remote_timeout_s=timeout_s)
    gen = factory.reply_generator(replace(settings, llm=llm), local)
    assert isinstance(gen, RemoteGenerator)
    return gen


async def collect(gen: RemoteGenerator) -> str:
    return "".join([t async for t in gen.stream_reply(MESSAGES)])


async def test_answer_streams_from_the_server(
    settings: Settings, llama_url: str, local: LocalModel
) -> None:
    gen = remote(settings, llama_url, local, timeout_s=60)
    chunks = [t async for t in gen.stream_reply(MESSAGES)]
    text = "".join(chunks)
    assert "lisbon" in text.lower()
    assert local.asked_at == []  # the local model was never needed
    assert not gen.streak.failing
    assert gen.name.startswith("openai:") and gen.name.endswith(".gguf")  # from GET /models


async def test_no_local_engine_without_a_url(settings: Settings, local: LocalModel) -> None:
    gen = factory.reply_generator(settings, local)
    assert gen is local.model and len(local.asked_at) == 1


@pytest.mark.parametrize("fault", ["down", "hang", "garbage"])
async def test_failing_server_gives_the_local_answer_in_time(
    settings: Settings, local: LocalModel, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voice_agent.remote")
    with BadServer("garbage" if fault == "garbage" else "hang") as bad:
        port = free_port() if fault == "down" else bad.port
        gen = remote(settings, f"http://127.0.0.1:{port}/v1", local)
        t0 = time.monotonic()
        text = await collect(gen)
    assert local.asked_at, "the local model did not answer"
    assert local.asked_at[0] - t0 < TIMEOUT_S + 1.0  # the local model started within the timeout
    assert "lisbon" in text.lower()
    failures = [r.getMessage() for r in caplog.records if "remote LLM" in r.getMessage()]
    assert len(failures) == 1 and f"127.0.0.1:{port}" in failures[0], failures
    reason = {"down": "ConnectError", "hang": "timed out", "garbage": "RemoteProtocolError"}
    assert reason[fault] in failures[0]


async def test_one_log_line_per_failure_streak(
    settings: Settings, local: LocalModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="voice_agent.remote")
    now = [0.0]
    with BadServer("hang") as bad:
        url = f"http://127.0.0.1:{bad.port}/v1"
        streak = Streak("LLM", url, clock=lambda: now[0])
        gen = RemoteGenerator(OpenAiChat(replace(settings.llm, url=url)), local, streak)
        await collect(gen)
        now[0] += 5
        t0 = time.monotonic()
        await collect(gen)  # still resting: straight to the local model, no second wait
        assert local.asked_at[-1] - t0 < 0.5
        assert bad.accepted == 1
        now[0] += 60
        await collect(gen)  # tried again (and failed again: the same streak)
        assert bad.accepted == 2
    lines = [r.getMessage() for r in caplog.records]
    assert sum("failed" in m for m in lines) == 1, lines
    assert streak.fallbacks == 3


class _Inventing(http.server.BaseHTTPRequestHandler):
    """A real OpenAI-style streaming endpoint whose model invents a phone number."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for token in ["Call ", "the line ", "on 999 123 456", " today. ", "It is free."]:
            chunk = json.dumps({"choices": [{"delta": {"content": token}}]})
            self.wfile.write(f"data: {chunk}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def inventing_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Inventing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def entry(settings: Settings, faq_id: str) -> FaqEntry:
    return next(e for e in load_entries(settings.path(settings.faq_dir)) if e.id == faq_id)


def answerer(gen: RemoteGenerator) -> tuple[Answerer, LanguageIdentifier]:
    lid = LanguageIdentifier(TextLanguageDetector())
    return Answerer(Messages(DATA / "messages.yaml"), lid, gen, frozenset({"en"})), lid


async def test_remote_rephrasing_passes_the_same_grounding(
    settings: Settings, llama_url: str, local: LocalModel
) -> None:
    faq = entry(settings, "sns24-line")
    curated = faq.answer_in("en")[1]
    ans, lid = answerer(remote(settings, llama_url, local, timeout_s=60))
    said = [x async for x in ans.sentences(Decision("faq", "en", faq, 0.9, False), "sns number?")]
    assert said
    for mode, sentence in said:
        assert mode in ("rephrased", "curated")
        if mode == "rephrased":  # every rephrased sentence spoken passed the grounding check
            assert check(sentence, curated, "en", lid).ok
    if {m for m, _ in said} == {"curated"}:
        assert [s for _, s in said] == split_sentences(curated)
    assert local.asked_at == []


async def test_remote_invention_is_not_spoken(
    settings: Settings, inventing_url: str, local: LocalModel
) -> None:
    faq = entry(settings, "sns24-line")
    settings = replace(settings, llm=replace(settings.llm, remote_model="scripted"))
    ans, _ = answerer(remote(settings, inventing_url, local))
    said = [x async for x in ans.sentences(Decision("faq", "en", faq, 0.9, False), "number?")]
    assert said == [("curated", s) for s in split_sentences(faq.answer_in("en")[1])]
    assert local.asked_at == []  # the server answered; its answer failed the grounding
