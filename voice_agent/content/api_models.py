"""Request and response models of the content API (they make /openapi.json describe it)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, Field

from voice_agent.content.records import Cluster, Principal, Question, User, Version
from voice_agent.content.schema import ENTRY_ID_PATTERN, LANG_PATTERN, EntryBody, StrictModel

RoleName = Literal["editor", "reviewer", "admin", "staff", "supervisor"]
BIG = 2**31 - 1  # SQLite integers: keep generated numbers in range


# --- requests ----------------------------------------------------------------------------------
class LoginRequest(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewUserRequest(StrictModel):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    role: RoleName
    password: str = Field(min_length=1, max_length=1024)


class DraftRequest(StrictModel):
    body: EntryBody
    note: str = Field("", max_length=500)


class UpdateRequest(StrictModel):
    base_version: int = Field(ge=1, le=BIG, description="the version this edit started from")
    body: EntryBody
    note: str = Field("", max_length=500)


class VersionRequest(StrictModel):
    version: int = Field(ge=1, le=BIG)
    note: str = Field("", max_length=500)


class TryRequest(StrictModel):
    text: str = Field(min_length=1, max_length=500)
    lang: str | None = Field(None, pattern=LANG_PATTERN)


class NewEntryRequest(StrictModel):
    entry_id: str | None = Field(None, pattern=ENTRY_ID_PATTERN, max_length=80)
    topic: str = Field("unsorted", min_length=1, max_length=80)


class ParaphraseRequest(StrictModel):
    entry_id: str = Field(min_length=1, max_length=200)


# --- responses ---------------------------------------------------------------------------------
class ErrorOut(BaseModel):
    detail: str
    code: str
    problems: list[str] = []
    line: int | None = None
    field: str | None = None
    retry_after: float | None = None


class LanguageTextOut(BaseModel):
    status: str = "draft"
    last_reviewed: str = Field("", description="set when a second person published it reviewed")
    reviewed_by: str = ""
    question: str = ""
    paraphrases: list[str] = []
    answer: str = ""


class EntryBodyOut(BaseModel):
    id: str
    topic: str = ""
    owner: str = ""
    sources: list[str] = []
    languages: dict[str, LanguageTextOut] = {}


class VersionOut(BaseModel):
    entry_id: str
    version: int
    state: str
    author: str
    created_at: float
    note: str
    base_version: int | None
    body: EntryBodyOut

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls.model_validate(asdict(v))


class ConflictOut(BaseModel):
    detail: str
    code: str
    current: VersionOut | None = None
    yours: dict[str, Any] | None = None


class EntrySummaryOut(BaseModel):
    id: str
    topic: str
    latest_version: int
    latest_state: str
    published_version: int | None
    updated_at: float
    author: str
    languages: dict[str, str] = Field(description="review status per language (latest version)")


class EntryDetailOut(EntrySummaryOut):
    latest: VersionOut
    published: VersionOut | None


class MeOut(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description="send it back as the X-CSRF-Token header on writes")
    expires_at: float

    @classmethod
    def of(cls, p: Principal) -> MeOut:
        return cls(
            username=p.username, role=p.role, csrf_token=p.csrf_token, expires_at=p.expires_at
        )


class OkOut(BaseModel):
    ok: bool = True


class UserOut(BaseModel):
    username: str
    role: str
    created_at: float
    disabled: bool

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls.model_validate(asdict(u))


class SearchHitOut(BaseModel):
    entry_id: str
    topic: str
    state: str
    version: int
    language: str | None
    field: str
    text: str


class RankOut(BaseModel):
    entry_id: str
    topic: str
    score: float
    question_score: float
    matched_text: str
    matched_lang: str
    lexical_rank: int | None


class ScreeningOut(BaseModel):
    injection: str | None
    domain: float | None
    intent: str | None
    intent_score: float | None
    uncovered: float | None = Field(
        None, description="similarity to the nearest in-domain question the FAQ does not cover"
    )
    uncovered_area: str | None = None
    classified: str | None = Field(
        None, description="the classifier's class: an entry id, uncovered:<area> or off-topic"
    )
    classified_p: float | None = Field(None, description="its posterior (0-1)")


class TryOut(BaseModel):
    text: str
    language: str
    language_probability: float | None
    language_source: str
    kind: str
    faq_id: str | None
    confidence: float | None
    handoff: bool
    answer: str | None
    status: str | None = Field(None, description="review status of the answer in this language")
    route: str | None = Field(None, description="no answer: the area whose office is named")
    ranking: list[RankOut]
    screening: ScreeningOut


class AuditOut(BaseModel):
    id: int
    at: float
    username: str
    action: str
    entry_id: str | None
    version: int | None
    changes: list[str]
    note: str


class QuestionOut(BaseModel):
    id: int
    at: float
    language: str
    text: str
    kind: str
    flagged: bool
    best_entry: str | None
    score: float | None
    confidence: float | None

    @classmethod
    def of(cls, q: Question) -> QuestionOut:
        d = asdict(q)
        return cls.model_validate({k: d[k] for k in cls.model_fields})


class ClusterOut(BaseModel):
    id: int
    status: str
    size: int
    created_at: float
    updated_at: float
    entry_id: str | None
    languages: list[str]
    flagged: int = Field(description="how many of the shown questions were refused as off-topic")
    questions: list[QuestionOut]

    @classmethod
    def of(cls, c: Cluster) -> ClusterOut:
        return cls(
            id=c.id,
            status=c.status,
            size=c.size,
            created_at=c.created_at,
            updated_at=c.updated_at,
            entry_id=c.entry_id,
            languages=sorted({q.language for q in c.questions}),
            flagged=sum(q.flagged for q in c.questions),
            questions=[QuestionOut.of(q) for q in c.questions],
        )


class ImportOut(BaseModel):
    created: list[VersionOut]
