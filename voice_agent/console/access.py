"""Who may use which console route: one table, checked on every request and websocket.

Roles: `staff` (the console), `supervisor` (the console, the dashboard, all history and the
audit log), the content team's `editor` < `reviewer` < `admin` (FAQ; admins: accounts and
`/metrics`). A route must be in `RULES` or it refuses everyone (fail closed); the test suite
generates one test per route and role from the app's route table (tests/console/test_access.py).
Writes also need the session's CSRF token in `X-CSRF-Token`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.requests import HTTPConnection
from starlette.routing import Route, WebSocketRoute

from voice_agent.content.accounts import Accounts
from voice_agent.content.api_deps import COOKIE, CSRF_HEADER
from voice_agent.content.errors import Forbidden, NotLoggedIn
from voice_agent.content.records import Principal

STAFF = frozenset({"staff", "supervisor"})
SUPERVISOR = frozenset({"supervisor"})
CONTENT = frozenset({"editor", "reviewer", "admin"})
OPERATIONS = frozenset({"supervisor", "admin"})
EVERY_ROLE = ("staff", "supervisor", "editor", "reviewer", "admin")


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[str]
    bearer: bool = False  # a scraper's `Authorization: Bearer <metrics_token>` also passes


# (method, route path) -> who may; "WS" for websockets
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/console/sessions"): Rule(STAFF),
    ("GET", "/api/console/sessions/{session_id}"): Rule(STAFF),
    ("GET", "/api/console/handoffs"): Rule(STAFF),
    ("POST", "/api/console/handoffs/{handoff_id}/accept"): Rule(STAFF),
    ("POST", "/api/console/handoffs/{handoff_id}/message"): Rule(STAFF),
    ("POST", "/api/console/handoffs/{handoff_id}/return"): Rule(STAFF),
    ("POST", "/api/console/handoffs/{handoff_id}/close"): Rule(STAFF),
    ("GET", "/api/console/answers"): Rule(STAFF),
    ("POST", "/api/console/ratings"): Rule(STAFF),
    ("GET", "/api/console/history"): Rule(STAFF),  # staff: only conversations they handled
    ("GET", "/api/console/stats"): Rule(SUPERVISOR),
    ("GET", "/api/console/stats.csv"): Rule(SUPERVISOR),
    ("GET", "/api/console/audit"): Rule(SUPERVISOR),
    ("GET", "/api/console/export/{session_id}"): Rule(SUPERVISOR),
    ("WS", "/api/console/live"): Rule(STAFF),
    ("GET", "/api/feedback"): Rule(CONTENT),
    ("POST", "/api/feedback/{feedback_id}/done"): Rule(CONTENT),
    ("GET", "/metrics"): Rule(OPERATIONS, bearer=True),
}
# Routes of this package anyone may call: the page itself (it holds no data) and the kiosk's
# description of its own session (the session id is the caller's secret).
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {("GET", "/console"), ("POST", "/api/kiosk/describe")}
)
SCRAPER = "metrics-scraper"


def rule_for(method: str, path: str) -> Rule | None:
    return RULES.get((method, path))


class Access:
    def __init__(self, accounts: Callable[[HTTPConnection], Accounts], metrics_token: str) -> None:
        self._accounts = accounts
        self._token = metrics_token

    async def check(self, conn: HTTPConnection, method: str) -> Principal:
        """The caller, if the route's rule lets them in; else NotLoggedIn (401) / Forbidden."""
        route = conn.scope.get("route")
        path = getattr(route, "path", None) or conn.url.path
        rule = rule_for(method, path)
        if rule is None:
            raise Forbidden(f"no access rule for {method} {path}: refused")
        if rule.bearer and self._token:
            given = conn.headers.get("authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
                return Principal(SCRAPER, "admin", "", 0.0, "")
        token = conn.cookies.get(COOKIE)
        if not token:
            raise NotLoggedIn("log in first")
        p = await self._accounts(conn).resolve(token)
        if p is None:
            raise NotLoggedIn("your session has ended: log in again")
        if method not in ("GET", "WS"):
            csrf = conn.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(csrf.encode(), p.csrf_token.encode()):
                raise Forbidden(f"missing or wrong {CSRF_HEADER} header")
        if p.role not in rule.roles:
            allowed = " or ".join(sorted(rule.roles))
            raise Forbidden(f"this needs the {allowed} role (you are {p.role})")
        return p


def route_table(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every HTTP and websocket route of an app (`app.routes`), included
    routers flattened; HEAD is left out (it follows GET). Static mounts are not routes."""
    out: list[tuple[str, str]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            inner = prefix + getattr(getattr(route, "include_context", None), "prefix", "")
            out += route_table(list(included.routes), inner)
        elif isinstance(route, APIWebSocketRoute | WebSocketRoute):
            out.append(("WS", prefix + route.path))
        elif isinstance(route, APIRoute | Route):
            out += [(m, prefix + route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return out
