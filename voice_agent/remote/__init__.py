"""Remote inference: STT, LLM and TTS on another box, over standard protocols.

Each engine is selected by its `url` setting (`[stt]`, `[llm]`, `[tts]`); empty, the default,
means local only and nothing is contacted. A remote engine sits behind the same Protocol as
the local one (`SpeechToText`, `ReplyGenerator`, `Voices`) and keeps the local engine behind
it: on an error, a timeout or an answer it cannot read, the local engine (built on first
need) answers that request, the failure streak is logged once, and the service goes on.

- `openai_llm.py`: an OpenAI-compatible chat endpoint, streamed (llama.cpp's server, vLLM);
- `wyoming_client.py`: one Wyoming exchange per request (the `wyoming` package's framing);
- `wyoming_stt.py`, `wyoming_tts.py`: speech in and out through Wyoming servers
  (wyoming-faster-whisper, wyoming-piper);
- `fallback.py`: the failure streak, the lazily built local engine;
- `factory.py`: what `Engine.create` calls to build each engine.
"""
