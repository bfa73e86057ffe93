"""voice-agent: offline multilingual voice assistant for public services."""

import os

# onnxruntime (Piper, Silero VAD) starts telemetry on import unless told not to. A public
# service makes no outbound calls, so this is set before anything can import onnxruntime.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

__version__ = "0.1.0"
