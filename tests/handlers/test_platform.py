"""The shared HTTP edge, through every function: contract precedence and problem+json."""

from __future__ import annotations

import pytest

from tests.factories import tenant_with_login

# One JSON route per function; authenticated ones get a valid token so the body checks run.
JSON_ROUTES = [
    ("POST", "/v1/registrations/identity", False),
    ("POST", "/v1/auth/login", False),
    ("PUT", "/v1/account/preferences", True),
    ("POST", "/v1/documents/receipts", True),
    ("POST", "/v1/payments", True),
]


def _problem(reply, status, code):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["request_id"] == reply.header("X-Request-Id")
    assert "Traceback" not in reply.text
    return body


@pytest.fixture
def token(runtime):
    return tenant_with_login()[1].access_token


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_malformed_json_is_400(client, token, method, path, auth):
    reply = client.request(
        method, path, body='{"a": ', headers={"Content-Type": "application/json"}, token=token if auth else None
    )
    _problem(reply, 400, "malformed_json")


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_invalid_utf8_is_400(client, token, method, path, auth):
    reply = client.request(
        method, path, body=b'{"a": "\xff"}', headers={"Content-Type": "application/json"}, token=token if auth else None
    )
    _problem(reply, 400, "malformed_json")


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_unknown_field_is_422(client, token, method, path, auth):
    reply = client.request(method, path, json_body={"surprise": 1}, token=token if auth else None)
    body = _problem(reply, 422, "validation_error")
    assert {"field": "surprise", "code": "unknown_field"} in [
        {k: e[k] for k in ("field", "code")} for e in body["errors"]
    ]


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_non_object_json_is_422_on_body(client, token, method, path, auth):
    reply = client.request(
        method, path, body="[1, 2]", headers={"Content-Type": "application/json"}, token=token if auth else None
    )
    body = _problem(reply, 422, "validation_error")
    assert body["errors"][0]["field"] == "body"


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_body_over_64_kib_is_413(client, token, method, path, auth):
    big = '{"x": "' + "a" * (100 * 1024) + '"}'
    reply = client.request(
        method, path, body=big, headers={"Content-Type": "application/json"}, token=token if auth else None
    )
    _problem(reply, 413, "payload_too_large")


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_text_plain_is_415(client, token, method, path, auth):
    reply = client.request(
        method, path, body="{}", headers={"Content-Type": "text/plain"}, token=token if auth else None
    )
    _problem(reply, 415, "unsupported_media_type")


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
@pytest.mark.parametrize("content_type", ["application/merge-patch+json", "application/problem+json; charset=utf-8"])
def test_json_variants_are_415_not_500(client, token, method, path, auth, content_type):
    # Contract section 1: only application/json (charset optional); a +json variant used to 500.
    reply = client.request(
        method, path, body="{}", headers={"Content-Type": content_type}, token=token if auth else None
    )
    _problem(reply, 415, "unsupported_media_type")


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_json_charset_is_accepted(client, token, method, path, auth):
    reply = client.request(
        method,
        path,
        body="{}",
        headers={"Content-Type": "application/json; charset=UTF-8"},
        token=token if auth else None,
    )
    assert reply.status not in (400, 415, 500), reply.text


@pytest.mark.parametrize(("method", "path", "auth"), JSON_ROUTES)
def test_json_nested_deeper_than_32_levels_is_400(client, token, method, path, auth):
    deep = '{"x": ' + "[" * 40 + "]" * 40 + "}"
    reply = client.request(
        method, path, body=deep, headers={"Content-Type": "application/json"}, token=token if auth else None
    )
    _problem(reply, 400, "malformed_json")
    hostile = "[" * 60_000  # under 64 KiB: a one-line anonymous request must never crash the function (RecursionError)
    reply = client.request(
        method, path, body=hostile, headers={"Content-Type": "application/json"}, token=token if auth else None
    )
    _problem(reply, 400, "malformed_json")


def test_nesting_at_the_limit_is_not_malformed(client):
    within = '{"tenant_number": "1", "x": ' + "[" * 31 + "]" * 31 + "}"  # 32 levels in all
    reply = client.post(
        "/v1/registrations/identity", body=within, headers={"Content-Type": "application/json"}, json=None
    )
    body = _problem(reply, 422, "validation_error")  # validation (unknown field x), not malformed_json
    assert any(e["field"] == "x" for e in body["errors"])


@pytest.mark.parametrize(("method", "path", "auth"), [r for r in JSON_ROUTES if r[2]])
def test_authentication_comes_before_body_checks(client, method, path, auth):
    reply = client.request(method, path, body="x" * (100 * 1024), headers={"Content-Type": "text/plain"})
    _problem(reply, 401, "unauthorized")


def test_unknown_route_is_404_problem(client):
    reply = client.get("/v1/nothing-here")
    assert reply.status == 404


def test_every_answer_has_a_request_id(client):
    reply = client.post("/v1/registrations/identity", json={})
    assert reply.header("X-Request-Id")
    assert reply.json()["request_id"] == reply.header("X-Request-Id")
