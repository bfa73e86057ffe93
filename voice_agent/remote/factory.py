"""What `Engine.create` calls: each engine local, or remote with the local one behind it.

Each function gets a builder of the local engine; with no URL configured it is built and
returned as it is (nothing is contacted), with one the remote engine holds the builder and
calls it only when a request needs the local engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from voice_agent.config import Settings
from voice_agent.remote.fallback import Streak
from voice_agent.remote.openai_llm import LocalGenerator, OpenAiChat, RemoteGenerator
from voice_agent.remote.wyoming_client import WyomingClient
from voice_agent.remote.wyoming_stt import LocalStt, RemoteStt
from voice_agent.remote.wyoming_tts import RemoteVoices
from voice_agent.speech_out.voices import VoiceRegistry, Voices


def speech_to_text(settings: Settings, local: Callable[[], LocalStt]) -> LocalStt:
    s = settings.stt
    if not s.url:
        return local()
    client = WyomingClient(s.url, s.remote_timeout_s, s.connect_timeout_s)
    return RemoteStt(client, local, Streak("speech-to-text", s.url), settings.default_language)


def reply_generator(settings: Settings, local: Callable[[], LocalGenerator]) -> LocalGenerator:
    if not settings.llm.url:
        return local()
    return RemoteGenerator(OpenAiChat(settings.llm), local, Streak("LLM", settings.llm.url))


def voices(settings: Settings, local: Callable[[Settings], Voices] = VoiceRegistry) -> Voices:
    """With a URL, the local voices are built without the reply-audio cache."""
    s = settings.tts
    if not s.url:
        return local(settings)
    uncached = replace(settings, tts=replace(s, reply_cache=False))
    client = WyomingClient(s.url, s.remote_timeout_s, s.connect_timeout_s)
    return RemoteVoices(
        client, lambda: local(uncached), Streak("speech synthesis", s.url), s.remote_voices
    )
