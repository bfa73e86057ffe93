"""Typed errors of the content backend; the API maps each to one HTTP status."""

from __future__ import annotations

from typing import Any

from voice_agent.errors import BadInput, ServiceError


class ContentError(ServiceError):
    code = "content_error"
    status = 400


class NotFound(ContentError):
    code = "not_found"
    status = 404


class InvalidState(ContentError):
    """The version is not in a state that allows this action (e.g. publishing a draft)."""

    code = "invalid_state"
    status = 409


class Conflict(ContentError):
    """The entry moved on since the editor's base version: both versions go back to them."""

    code = "conflict"
    status = 409

    def __init__(
        self, message: str, current: dict[str, Any] | None, yours: dict[str, Any] | None
    ) -> None:
        super().__init__(message)
        self.current = current
        self.yours = yours


class ValidationFailed(ContentError):
    """The entry does not pass parse_entry / faq_validate: each problem is one line."""

    code = "validation_failed"
    status = 422

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class BadFile(BadInput):
    """An imported file is malformed; `line` and `field` say where."""

    status = 400

    def __init__(self, message: str, line: int | None = None, field: str | None = None) -> None:
        where = f"line {line}" if line is not None else ""
        if field:
            where = f"{where}, field {field}" if where else f"field {field}"
        super().__init__(f"{where}: {message}" if where else message)
        self.line = line
        self.field = field


class InvalidField(BadFile):
    """A field of an imported entry breaks a limit (too long, wrong type): 422."""

    status = 422


class NotLoggedIn(ContentError):
    code = "not_logged_in"
    status = 401


class Forbidden(ContentError):
    code = "forbidden"
    status = 403


class TooManyAttempts(ContentError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"too many failed logins; try again in {retry_after:.0f} s", retryable=True
        )
        self.retry_after = retry_after


class BadAccount(ContentError):
    """An account cannot be created as asked (bad username, unknown role...): 422."""

    code = "bad_account"
    status = 422


class WeakPassword(BadAccount):
    code = "weak_password"


def status_of(exc: ServiceError) -> int:
    return int(getattr(exc, "status", 400))
