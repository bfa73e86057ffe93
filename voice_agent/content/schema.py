"""The entry body as the editor sends it: the YAML schema, with size limits.

A draft may be incomplete (an empty answer, a few languages); publishing checks it with
`faq.parse_entry` and `faq_validate.validate`. Every string is stored as given: HTML or
script in a field stays text (the editor escapes it when it shows it).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voice_agent.language.languages import CODES

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 2000
MAX_BODY_BYTES = 200_000
MAX_PARAPHRASES = 50
ENTRY_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"
LANG_PATTERN = "^(" + "|".join(CODES) + ")$"

LangCode = Annotated[str, Field(pattern=LANG_PATTERN)]
QuestionText = Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]
SourceUrl = Annotated[str, Field(max_length=500)]
EntryId = Annotated[str, Field(pattern=ENTRY_ID_PATTERN, max_length=80)]


def _walk_strings(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # lone surrogates cannot be stored: UnicodeEncodeError
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk_strings(k)
            _walk_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _walk_strings(v)


class StrictModel(BaseModel):
    """Unknown fields are errors; every string must be encodable UTF-8."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _utf8(self) -> StrictModel:
        try:
            _walk_strings(self.model_dump())
        except UnicodeEncodeError as exc:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
        return self


class LanguageText(StrictModel):
    status: Literal["draft", "machine-translated", "reviewed"] = "draft"
    # Read-only: the workflow sets them when a reviewer publishes; values sent are replaced.
    last_reviewed: str = Field("", max_length=32)
    reviewed_by: str = Field("", max_length=64)
    question: QuestionText = ""
    paraphrases: list[QuestionText] = Field(default_factory=list, max_length=MAX_PARAPHRASES)
    answer: str = Field("", max_length=MAX_ANSWER_CHARS)


class EntryBody(StrictModel):
    id: EntryId
    topic: str = Field(min_length=1, max_length=80)
    owner: str = Field("", max_length=120)
    # Ignored (reviews are recorded per language); accepted so older exports still import.
    last_reviewed: str = Field("", max_length=32)
    sources: list[SourceUrl] = Field(default_factory=list, max_length=20)
    languages: dict[LangCode, LanguageText] = Field(min_length=1)

    @model_validator(mode="after")
    def _bounded(self) -> EntryBody:
        size = len(json.dumps(self.model_dump(), ensure_ascii=False).encode("utf-8", "replace"))
        if size > MAX_BODY_BYTES:
            raise ValueError(f"the entry is {size:,} bytes; the limit is {MAX_BODY_BYTES:,}")
        return self

    def as_body(self) -> dict[str, Any]:
        return self.model_dump()
