"""Hostile HTTP input, as found by trying the running server as an attacker would: bodies that
are not UTF-8, megabyte questions echoed back, floods of questions, pages without security
headers. Each answer is a clear 4xx, and the server goes on serving."""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.testclient import TestClient

from voice_agent.transports.http_guard import CSP, RateLimiter

PAGES_AND_APIS = ["/healthz", "/api/languages", "/openapi.json", "/api/auth/me"]


def test_non_utf8_body_on_a_json_route_is_a_4xx_not_a_500(app: FastAPI) -> None:
    with TestClient(app) as client:
        for route in ("/api/rtc/offer", "/api/ask", "/api/auth/login"):
            r = client.post(
                route, content=os.urandom(512), headers={"content-type": "application/json"}
            )
            assert 400 <= r.status_code < 500, (route, r.status_code, r.text[:200])
            assert r.json()["detail"]
        assert client.get("/healthz").status_code == 200  # still serving


def test_a_huge_question_is_refused_without_echoing_it(app: FastAPI) -> None:
    text = "a" * 3_000_000
    with TestClient(app) as client:
        r = client.post("/api/ask", json={"text": text})
    assert r.status_code == 413
    assert len(r.content) < 1000
    assert "larger than" in r.json()["detail"]


def test_validation_errors_do_not_echo_the_input(app: FastAPI) -> None:
    secret = "x" * 150_000  # over AskRequest's max_length, under the body limit
    with TestClient(app) as client:
        r = client.post("/api/ask", json={"text": secret})
    assert r.status_code == 422
    assert "xxxxxxxx" not in r.text
    assert r.json()["errors"][0]["loc"] == ["body", "text"]


def test_body_without_content_length_is_counted_as_it_arrives(app: FastAPI) -> None:
    def chunks():  # streamed: no Content-Length header
        for _ in range(40):
            yield b"x" * 64_000

    with TestClient(app) as client:
        r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_questions_from_one_address_are_rate_limited(app: FastAPI) -> None:
    with TestClient(app) as client:
        codes = [
            client.post("/api/ask", json={"text": "Como tiro o NIF?"}).status_code
            for _ in range(40)
        ]
    assert codes[0] == 200
    assert 429 in codes, codes
    assert codes.count(200) <= 12  # the burst (10) plus what refilled meanwhile


def test_rate_limit_answer_says_when_to_retry(app: FastAPI) -> None:
    with TestClient(app) as client:
        for _ in range(12):
            r = client.post("/api/handoff", json={})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["retry_after"] > 0


def test_every_response_carries_security_headers(app: FastAPI) -> None:
    with TestClient(app) as client:
        responses = [client.get(p) for p in PAGES_AND_APIS]
        responses.append(
            client.post("/api/ask", content=b"\xff", headers={"content-type": "application/json"})
        )
        responses.append(client.get("/no/such/page"))
    for r in responses:
        csp = r.headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        )
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "microphone=(self)" in r.headers["permissions-policy"]
    assert CSP.count("'self'") >= 5


def test_no_cdn_docs_pages(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN script
        assert client.get("/openapi.json").status_code == 200


def test_rate_limiter_refills_and_stays_bounded() -> None:
    now = [0.0]
    rl = RateLimiter(per_second=1.0, burst=2, clock=lambda: now[0], max_clients=3)
    assert rl.take("a") == 0 and rl.take("a") == 0
    assert rl.take("a") > 0
    now[0] += 1.0
    assert rl.take("a") == 0
    for c in "bcdef":
        rl.take(c)
    assert len(rl) == 3
