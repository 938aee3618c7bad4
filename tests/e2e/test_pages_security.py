"""Security hygiene over real HTTP: the HTML pages' headers and assets, and API error bodies.

Every HTML page (the e-mail link pages, the checkout, return and sandbox pages, their error
variants) carries a Content-Security-Policy with no external source, ``X-Content-Type-Options:
nosniff``, ``Referrer-Policy: no-referrer`` (the URL holds a token) and ``X-Request-Id``; in the
real Chromium every request a page makes goes to the local server and no CSP violation is
reported. No API error body, whatever the input, contains a stack trace or AWS error text.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.test_races import PASSWORD, links, new_email, new_holder, registered, step2

pytestmark = pytest.mark.e2e

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
KEYWORDS = {"'self'", "'none'", "'unsafe-inline'", "data:"}
LEAKS = (
    "Traceback",
    "botocore",
    "boto3",
    "ClientError",
    "Exception",
    "An error occurred (",
    "arn:aws",
    "moto",
    'File "/',
    "ConditionalCheckFailed",
    "ValidationException",
    "ResourceNotFound",
    "pydantic",
)


# ---------------------------------------------------------------- checks
def csp_sources(csp: str) -> dict[str, list[str]]:
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_secure_page(reply: Any, base: str) -> None:
    assert reply.header("Content-Type").startswith("text/html"), reply.header("Content-Type")
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("X-Request-Id")
    csp = csp_sources(reply.header("Content-Security-Policy") or "")
    assert csp.get("default-src") == ["'none'"], csp
    assert csp.get("frame-ancestors") == ["'none'"]
    assert "script-src" not in csp  # no JavaScript at all
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    for directive, sources in csp.items():
        for source in sources:
            assert source in KEYWORDS or source.startswith("'sha256-") or source == origin, (directive, source)
            assert source != "'unsafe-inline'", directive
    text = reply.text
    # no external asset in the markup either
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', text):
        external = "://" in url or url.startswith("//") or url.lower().startswith(("javascript:", "data:"))
        assert not external or url.startswith(origin + "/"), url
    assert "<script" not in text.lower()
    no_leak(reply)


def no_leak(reply: Any) -> None:
    for leak in LEAKS:
        assert leak not in reply.text, (leak, reply.status)


# ---------------------------------------------------------------- the pages
@pytest.fixture(scope="module")
def pages(server) -> dict[str, tuple[str, str, dict[str, str] | None]]:
    """(method, path?query, form) of every page, good and bad variants."""
    from tests.e2e.conftest import HttpClient
    from tests.e2e.test_payments_e2e import _hidden_fields, _path, _register_and_log_in

    api = HttpClient(server)
    pending = new_email("page")
    assert step2(api, new_holder(api), pending).status == 201
    [verify] = links(api, pending, "verify-email")
    email, pair = registered(api)
    assert api.post("/v1/auth/password/forgot", {"email": email}).status == 202
    [reset] = links(api, email, "reset-password")
    target = new_email("nouvelle")
    assert (
        api.post(
            "/v1/account/email", {"new_email": target, "current_password": PASSWORD}, token=pair["access_token"]
        ).status
        == 202
    )
    [confirm] = links(api, target, "confirm-email")
    _, _, token = _register_and_log_in(api)
    payment = api.post(
        "/v1/payments", {"amount_cents": 22000}, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
    ).json()
    checkout_path, checkout_query = _path(payment["checkout_url"])
    form = _hidden_fields(api.get(checkout_path, query=checkout_query).text)
    journey = api.post(
        "/v1/payments", {"amount_cents": 15000}, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
    ).json()
    journey_path, journey_query = _path(journey["checkout_url"])
    return {
        "journey": ("GET", f"{journey_path}?{journey_query}", None),
        "verify": ("GET", f"/links/verify-email?token={verify}", None),
        "verify-bad": ("GET", "/links/verify-email?token=nimportequoi", None),
        "verify-missing": ("GET", "/links/verify-email", None),
        "verify-post-bad": ("POST", "/links/verify-email", {"token": "faux"}),
        "reset": ("GET", f"/links/reset-password?token={reset}", None),
        "reset-bad": ("GET", "/links/reset-password?token=%00%ff", None),
        "reset-post-weak": (
            "POST",
            "/links/reset-password",
            {"token": reset, "password": "a", "password_confirmation": "b"},
        ),
        "confirm": ("GET", f"/links/confirm-email?token={confirm}", None),
        "confirm-bad": ("GET", "/links/confirm-email?token=x", None),
        "return": ("GET", f"/links/payment-return?payment_id={payment['id']}", None),
        "return-unknown": ("GET", "/links/payment-return?payment_id=inconnu", None),
        "return-weird": ("GET", "/links/payment-return?payment_id=%3Cscript%3E", None),
        "checkout": ("GET", f"{checkout_path}?{checkout_query}", None),
        "checkout-forged": ("GET", f"/links/checkout?payment_id={payment['id']}&sig=faux", None),
        "sandbox": ("POST", "/sandbox/payment", form),
        "sandbox-forged": ("POST", "/sandbox/payment", {**form, "vads_amount": "1"}),
        "sandbox-unknown-card": ("POST", "/sandbox/payment/submit", {**form, "card_number": "1234"}),
    }


def _fetch(api: Any, spec: tuple[str, str, dict[str, str] | None]) -> Any:
    method, target, form = spec
    path, _, query = target.partition("?")
    if form is None:
        return api.request(method, path, query=query)
    return api.request(method, path, body=urlencode(form), headers=FORM)


@pytest.mark.parametrize(
    "name",
    [
        "verify",
        "verify-bad",
        "verify-missing",
        "verify-post-bad",
        "reset",
        "reset-bad",
        "reset-post-weak",
        "confirm",
        "confirm-bad",
        "return",
        "return-unknown",
        "return-weird",
        "checkout",
        "checkout-forged",
        "sandbox",
        "sandbox-forged",
        "sandbox-unknown-card",
    ],
)
def test_every_page_carries_the_security_headers(api, pages, name):
    reply = _fetch(api, pages[name])
    assert reply.status < 500, reply.text
    assert_secure_page(reply, api.base)
    assert '<html lang="fr">' in reply.text


def test_the_sandbox_redirect_carries_them_too(api, pages):
    _, _, form = pages["sandbox"]
    assert form is not None
    reply = api.request("POST", "/sandbox/payment/submit", body=urlencode({**form, "cancel": "1"}), headers=FORM)
    assert reply.status == 303
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("X-Request-Id")
    assert urlsplit(reply.header("Location")).path == "/links/payment-return"


@pytest.mark.browser
@pytest.mark.parametrize("name", ["verify", "reset", "confirm", "return", "verify-bad", "return-unknown"])
def test_pages_in_chromium_load_nothing_external(api, pages, page, name):
    method, target, _ = pages[name]
    assert method == "GET"
    requests_seen: list[str] = []
    violations: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.on("console", lambda message: violations.append(message.text))
    response = page.goto(api.base + target)
    page.wait_for_load_state("networkidle")
    assert response is not None and response.status < 500
    assert response.headers["referrer-policy"] == "no-referrer"
    assert requests_seen, "no request recorded"
    for url in requests_seen:
        assert url.startswith(api.base), url
    assert not [v for v in violations if "Content Security Policy" in v], violations
    # the inline stylesheet is allowed by its hash: the page is really styled
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(0, 75, 135)"


@pytest.mark.browser
def test_checkout_to_sandbox_to_return_in_chromium_stays_local(api, pages, page):
    requests_seen: list[str] = []
    violations: list[str] = []
    documents: list[Any] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.on("console", lambda message: violations.append(message.text))
    page.on(
        "response",
        lambda response: documents.append(response) if response.request.resource_type == "document" else None,
    )
    _, target, _ = pages["journey"]
    page.goto(api.base + target)
    page.get_by_role("button", name=re.compile("^Payer")).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Paiement sécurisé (simulation)"
    page.fill("#card_number", "4970 1000 0000 0014")
    page.get_by_role("button", name=re.compile("^Payer")).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Paiement refusé"
    assert len(documents) >= 4  # checkout, sandbox, redirect, return
    for response in documents:
        headers = response.headers
        assert headers.get("referrer-policy") == "no-referrer", response.url
        assert headers.get("x-content-type-options") == "nosniff", response.url
        assert headers.get("x-request-id"), response.url
    for url in requests_seen:
        assert url.startswith(api.base), url
    assert not [v for v in violations if "Content Security Policy" in v], violations


# ---------------------------------------------------------------- API errors
WEIRD = ["..%2F..%2Fetc%2Fpasswd", "x" * 300, "%C3%BC%00", "%27%20OR%201%3D1", "%F0%9F%92%A5", "-"]
BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b'{"a": ', "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"email": {"$ne": null}, "password": [1], "token": 12, "amount_cents": "1e9", "period": 5}', "application/json"),
    (json.dumps({"x" * 100: "y" * 70000}).encode(), "application/json"),
    (b"email=a&password=b", "application/x-www-form-urlencoded"),
    (b"<xml/>", "text/xml"),
]


@pytest.fixture(scope="module")
def routes(server) -> list[tuple[str, str]]:
    import requests

    spec = requests.get(server + "/_dev/openapi.json", timeout=10).json()
    found = []
    for path, operations in spec["paths"].items():
        for method in operations:
            if method.upper() in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                found.append((method.upper(), path))
    assert len(found) >= 15
    return found


def _problem(reply: Any) -> None:
    assert reply.status < 500, (reply.status, reply.text[:300])
    no_leak(reply)
    assert reply.header("X-Request-Id")
    if reply.status >= 400:
        assert (reply.header("Content-Type") or "").startswith("application/problem+json"), reply.status
        body = reply.json()
        assert body["request_id"] == reply.header("X-Request-Id")
        assert body["code"] and body["title"]


def test_no_error_body_on_any_route_leaks_internals(api, routes):
    """Every route of the spec, with hostile path parameters, bodies, tokens and methods."""
    email, pair = registered(api)
    tokens = [None, pair["access_token"], "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer" * 50]
    checked = 0
    for method, template in routes:
        paths = [re.sub(r"\{[^}]+\}", weird, template) for weird in WEIRD] if "{" in template else [template]
        for path in paths:
            for i, (body, content_type) in enumerate(BODIES):
                token = tokens[(i + checked) % len(tokens)]
                reply = api.request(
                    method,
                    path,
                    body=body if method != "GET" else None,
                    headers={"Content-Type": content_type, "Idempotency-Key": "k" * (10 + i * 40)},
                    token=token,
                )
                _problem(reply)
                checked += 1
            # wrong method on the same path
            wrong = "PATCH" if method != "PATCH" else "GET"
            _problem(api.request(wrong, path))
            checked += 1
    assert checked > 300
    assert api.get("/v1/account", token=pair["access_token"]).json()["email"] == email  # still fine


def test_unknown_routes_and_odd_queries_are_clean(api):
    for path, query in [
        ("/v1/../../etc/passwd", ""),
        ("/v1/documents", "type=%00"),
        ("/v1/documents", "type=notice&type=receipt"),
        ("/v2/anything", ""),
        ("/links/checkout", "payment_id=" + "9" * 500 + "&sig=" + "a" * 500),
        ("/links/payment-return", "payment_id[]=1"),
        ("/_dev/../v1/account", ""),
    ]:
        reply = api.get(path, query=query)
        assert reply.status < 500, (path, reply.status)
        no_leak(reply)
        assert reply.header("X-Request-Id"), path
