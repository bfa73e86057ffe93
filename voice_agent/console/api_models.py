"""Request bodies of the console API (strict: unknown fields are refused)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from voice_agent.content.schema import StrictModel

SESSION_ID = r"^[A-Za-z0-9_-]{1,64}$"


class MessageRequest(StrictModel):
    """Either a published FAQ answer (sent in the citizen's language) or typed text."""

    text: str | None = Field(None, min_length=1, max_length=1000)
    faq_id: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def one_of(self) -> MessageRequest:
        if (self.text is None) == (self.faq_id is None):
            raise ValueError('give exactly one of "text" or "faq_id"')
        if self.text is not None and not self.text.strip():
            raise ValueError('"text" is empty')
        return self


class CloseRequest(StrictModel):
    outcome: Literal["resolved", "referred", "unresolved", "no_response"]


class RatingRequest(StrictModel):
    session_id: str = Field(pattern=SESSION_ID)
    turn_id: str = Field(min_length=1, max_length=100)
    rating: Literal["good", "wrong", "incomplete"]
    note: str = Field("", max_length=500)


class DescribeRequest(StrictModel):
    """What a kiosk says about itself (its location label comes from its URL: ?location=)."""

    session_id: str = Field(pattern=SESSION_ID)
    source: Literal["kiosk", "browser"]
    location: str = Field("", max_length=80)
