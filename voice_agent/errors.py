"""Typed errors. Each carries a stable code and a message written for the person who sees it."""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class BadInput(ServiceError):
    """The request itself is wrong (empty text, not audio, unknown language...)."""

    code = "bad_input"


class ModelMissing(ServiceError):
    """A model file is absent, truncated or corrupt; the message names the file and the fix."""

    code = "model_missing"


class EngineFailure(ServiceError):
    """A model failed while running; the turn degrades, the service goes on."""

    code = "engine_failure"


class StageTimeout(EngineFailure):
    """A model ran over its time limit; its worker thread was abandoned (workers.py)."""

    code = "timeout"

    def __init__(self, stage: str, limit: float) -> None:
        super().__init__(
            f"{stage} took longer than its {limit:.1f} s limit and was abandoned", retryable=True
        )
        self.stage = stage
        self.limit = limit


class StageFailed(ServiceError):
    """A stage of a turn (stt, retrieval, llm, tts) failed; `code` says which and how
    (`stt_timeout`, `stt_model_missing`, ...): the console counts and flags by it."""

    def __init__(self, stage: str, cause: Exception) -> None:
        inner = cause if isinstance(cause, ServiceError) else None
        message = inner.message if inner else f"{stage} failed: {cause.__class__.__name__}: {cause}"
        super().__init__(message, retryable=inner.retryable if inner else False)
        self.stage = stage
        self.code = f"{stage}_{inner.code if inner else 'engine_failure'}"
