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
