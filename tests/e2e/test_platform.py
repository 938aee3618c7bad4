"""The local server itself: health, dev endpoints, OpenAPI and Swagger UI, the HTTP edge."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_health(api):
    reply = api.get("/_dev/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    assert reply.header("X-Request-Id")


def test_openapi_is_the_committed_document(api):
    reply = api.get("/_dev/openapi.json")
    assert reply.status == 200
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert reply.json() == committed
    assert "/v1/registrations/identity" in committed["paths"]


def test_outbox_starts_as_a_list(api):
    reply = api.get("/_dev/outbox")
    assert reply.status == 200
    assert isinstance(reply.json()["messages"], list)


def test_clock_offset_is_reported(api):
    reply = api.post("/_dev/clock", {"offset_seconds": 90000})
    assert reply.status == 200
    assert reply.json()["offset_seconds"] == 90000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", reply.json()["now"])
    assert api.post("/_dev/clock", {"offset_seconds": "x"}).status == 422


def test_unknown_route_is_problem_json_with_request_id(api):
    reply = api.get("/v1/nope")
    assert reply.status == 404
    assert reply.json()["request_id"] == reply.header("X-Request-Id")


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "code"),
    [
        ("/v1/registrations/identity", "{", "application/json", 400, "malformed_json"),
        (
            "/v1/auth/login",
            '{"email": "a@b.fr", "password": "x", "oops": 1}',
            "application/json",
            422,
            "validation_error",
        ),
        ("/v1/registrations/identity", "x" * 100_000, "application/json", 413, "payload_too_large"),
        ("/v1/auth/login", "{}", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_edge_errors_over_http(api, path, body, content_type, status, code):
    reply = api.request("POST", path, body=body, headers={"Content-Type": content_type})
    assert reply.status == status
    assert reply.header("Content-Type").startswith("application/problem+json")
    assert reply.json()["code"] == code
    assert reply.json()["request_id"] == reply.header("X-Request-Id")


@pytest.mark.browser
def test_swagger_ui_works_offline(api, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(api.base + "/_dev/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/registrations/identity" in p.replace("\u200b", "") for p in paths), paths
    assert all(url.startswith(api.base) for url in requested), requested


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT", "BREW"])
def test_methods_no_route_declares_are_problem_json_like_api_gateway(server, method):
    # API Gateway answers a method no route declares with its (404) gateway response, in our
    # problem+json: the local server must too, never the Python server's HTML 501 page.
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, "/v1/account")
        reply = connection.getresponse()
        body = reply.read()
    finally:
        connection.close()
    assert reply.status == 404
    assert reply.getheader("Content-Type", "").startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["code"] == "not_found"
    assert problem["request_id"] == reply.getheader("X-Request-Id")
    assert b"<html" not in body.lower()
