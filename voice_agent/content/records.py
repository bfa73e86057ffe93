"""What the content tables hold, as frozen dataclasses (rows in, records out)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

State = Literal["draft", "review", "published", "superseded", "rejected", "deleted"]
STATES: tuple[State, ...] = ("draft", "review", "published", "superseded", "rejected", "deleted")
Role = Literal["editor", "reviewer", "admin", "staff", "supervisor"]
ROLES: tuple[Role, ...] = ("editor", "reviewer", "admin", "staff", "supervisor")
# The FAQ side: each may do what the previous may. Console roles (staff < supervisor, see
# voice_agent/console/access.py) rank below all of them here: they never edit the FAQ.
CONTENT_ROLES: tuple[Role, ...] = ("editor", "reviewer", "admin")
ClusterStatus = Literal["open", "dismissed", "resolved"]
CLUSTER_STATUSES: tuple[ClusterStatus, ...] = ("open", "dismissed", "resolved")
SYSTEM_AUTHOR = "faq_db"  # versions imported from the YAML files


def role_rank(role: str) -> int:
    return CONTENT_ROLES.index(role) if role in CONTENT_ROLES else -1  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Version:
    entry_id: str
    version: int
    state: State
    body: dict[str, Any]
    author: str
    created_at: float
    note: str
    base_version: int | None


@dataclass(frozen=True, slots=True)
class EntrySummary:
    entry_id: str
    topic: str
    latest: Version
    published_version: int | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: float
    username: str
    action: str
    entry_id: str | None
    version: int | None
    changes: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    created_at: float
    disabled: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """A logged-in user, as the session cookie resolves."""

    username: str
    role: Role
    csrf_token: str
    expires_at: float
    token_hash: str


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    at: float
    language: str
    text: str  # redacted
    kind: str  # no_answer | faq (low confidence) | off_topic
    flagged: bool
    best_entry: str | None
    score: float | None
    confidence: float | None
    cluster_id: int
    status: ClusterStatus


@dataclass(frozen=True, slots=True)
class Cluster:
    id: int
    status: ClusterStatus
    created_at: float
    updated_at: float
    size: int
    entry_id: str | None  # the entry it was turned into (resolved clusters)
    questions: tuple[Question, ...]
