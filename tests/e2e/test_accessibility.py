"""Accessibility of every HTML page, audited in the real Chromium with axe-core: 0 violations.

Every variant a tenant can land on is visited: verify-email (the button, confirmed, expired
with its resend form, resend done, invalid), reset-password (the form, the form with errors,
done, invalid link), confirm-email (the page, invalid, expired), the checkout (to pay, already
paid, no longer valid, forged), the sandbox card page (and its unknown-card error), the
payment-return page in each state, and the error pages. Besides axe's rules (WCAG 2.0/2.1/2.2
A and AA, best practices, and ``target-size``, which axe leaves off by default), each page is
checked for what the issue asks in so many words: tap targets (buttons, inputs, links styled
as buttons) at least 44 px high, errors announced (``role="alert"``) and tied to their field
(``aria-invalid="true"`` and ``aria-describedby`` naming the message), a label on every
input, ``lang="fr"``. The HTML part of every kind of e-mail those journeys send is audited too
(WCAG rules).

axe-core comes from the npm registry (``scripts/system-deps.sh`` unpacks it into
``.cache/axe-core/<version>/``). The pages forbid inline scripts (strict CSP); the audit's
browser context bypasses the CSP to inject axe, and only for the audit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import HttpClient
from tests.e2e.tenants import register_tenant
from tests.e2e.test_payments_e2e import _hidden_fields, _path
from tests.e2e.test_races import PASSWORD, links, new_email, new_holder, registered, step2

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DAY_AND_A_HALF = 36 * 3600
MIN_TARGET_PX = 44
PHONE = {"width": 390, "height": 844}


def axe_path() -> Path:
    version = re.search(r"^AXE_VERSION=(\S+)$", (ROOT / "scripts/system-deps.sh").read_text(), re.M)
    assert version, "AXE_VERSION missing from scripts/system-deps.sh"
    return ROOT / ".cache" / "axe-core" / version.group(1) / "axe.min.js"


@dataclass
class Variant:
    method: str
    target: str  # path?query
    form: dict[str, str] | None = None
    status: int = 200
    clock: int = 0  # seconds to move the server's clock before opening it
    field_errors: list[str] = field(default_factory=list)  # ids of inputs that must be marked invalid


@pytest.fixture(scope="module")
def axe_source() -> str:
    path = axe_path()
    if not path.exists():
        pytest.fail(f"axe-core is missing ({path}): run scripts/system-deps.sh (make test does)")
    return path.read_text(encoding="utf-8")


def _pay(api: HttpClient, form: dict[str, str], extra: dict[str, str]) -> None:
    reply = api.request("POST", "/sandbox/payment/submit", body=urlencode({**form, **extra}), headers=FORM)
    assert reply.status == 303, reply.text


def _checkout(api: HttpClient, token: str, amount: int) -> tuple[dict[str, Any], str, dict[str, str]]:
    payment = api.post(
        "/v1/payments", {"amount_cents": amount}, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
    ).json()
    path, query = _path(payment["checkout_url"])
    checkout = f"{path}?{query}"
    return payment, checkout, _hidden_fields(api.get(path, query=query).text)


def _account_variants(api: HttpClient) -> dict[str, Variant]:
    pending, confirmed = new_email("a11y"), new_email("a11y")
    assert step2(api, new_holder(api), pending).status == 201
    assert step2(api, new_holder(api), confirmed).status == 201
    [verify] = links(api, pending, "verify-email")
    [to_confirm] = links(api, confirmed, "verify-email")
    email, pair = registered(api)
    assert api.post("/v1/auth/password/forgot", {"email": email}).status == 202
    [reset] = links(api, email, "reset-password")
    other, _ = registered(api)
    assert api.post("/v1/auth/password/forgot", {"email": other}).status == 202
    [reset_done] = links(api, other, "reset-password")
    target = new_email("a11y-nouvelle")
    change = {"new_email": target, "current_password": PASSWORD}
    assert api.post("/v1/account/email", change, token=pair["access_token"]).status == 202
    [confirm] = links(api, target, "confirm-email")
    weak = {"token": reset, "password": "azerty", "password_confirmation": "autre"}
    strong = {
        "token": reset_done,
        "password": "Nouveau-Cheval-Pile-73",
        "password_confirmation": "Nouveau-Cheval-Pile-73",
    }
    return {
        "verify": Variant("GET", f"/links/verify-email?token={verify}"),
        "verify-confirmed": Variant("POST", "/links/verify-email", {"token": to_confirm}),
        "verify-expired": Variant("GET", f"/links/verify-email?token={verify}", status=400, clock=DAY_AND_A_HALF),
        "verify-resend": Variant("POST", "/links/verify-email", {"action": "resend", "email": pending}),
        "verify-invalid": Variant("GET", "/links/verify-email?token=nimportequoi", status=400),
        "verify-post-invalid": Variant("POST", "/links/verify-email", {"token": "faux"}, status=400),
        "reset": Variant("GET", f"/links/reset-password?token={reset}"),
        "reset-errors": Variant(
            "POST", "/links/reset-password", weak, status=422, field_errors=["password", "password_confirmation"]
        ),
        "reset-done": Variant("POST", "/links/reset-password", strong),
        "reset-invalid": Variant("GET", "/links/reset-password?token=faux", status=400),
        "confirm": Variant("GET", f"/links/confirm-email?token={confirm}"),
        "confirm-invalid": Variant("GET", "/links/confirm-email?token=faux", status=400),
        "confirm-expired": Variant("GET", f"/links/confirm-email?token={confirm}", status=400, clock=DAY_AND_A_HALF),
    }


def _payment_variants(api: HttpClient) -> dict[str, Variant]:
    token = register_tenant(api, prefix="a11y").access_token
    created, checkout, form = _checkout(api, token, 22000)
    paid, paid_checkout, paid_form = _checkout(api, token, 15000)
    _pay(api, paid_form, {"card_number": "4970 1000 0000 0003"})
    refused, refused_checkout, refused_form = _checkout(api, token, 12000)
    _pay(api, refused_form, {"card_number": "4970 1000 0000 0014"})
    abandoned, _, abandoned_form = _checkout(api, token, 11000)
    _pay(api, abandoned_form, {"cancel": "1"})

    def back(payment: dict[str, Any]) -> Variant:
        return Variant("GET", f"/links/payment-return?payment_id={payment['id']}")

    return {
        "checkout": Variant("GET", checkout),
        "checkout-paid": Variant("GET", paid_checkout),
        "checkout-gone": Variant("GET", refused_checkout, status=410),
        "checkout-forged": Variant("GET", f"/links/checkout?payment_id={created['id']}&sig=faux", status=404),
        "sandbox": Variant("POST", "/sandbox/payment", form),
        "sandbox-unknown-card": Variant(
            "POST", "/sandbox/payment/submit", {**form, "card_number": "1234"}, status=422, field_errors=["card_number"]
        ),
        "return-created": back(created),
        "return-succeeded": back(paid),
        "return-refused": back(refused),
        "return-abandoned": back(abandoned),
        "return-unknown": Variant("GET", "/links/payment-return?payment_id=inconnu", status=404),
    }


@pytest.fixture(scope="module")
def variants(server: str) -> dict[str, Variant]:
    api = HttpClient(server)
    api.set_clock(0)
    return {**_account_variants(api), **_payment_variants(api)}


NAMES = [
    "verify",
    "verify-confirmed",
    "verify-expired",
    "verify-resend",
    "verify-invalid",
    "verify-post-invalid",
    "reset",
    "reset-errors",
    "reset-done",
    "reset-invalid",
    "confirm",
    "confirm-invalid",
    "confirm-expired",
    "checkout",
    "checkout-paid",
    "checkout-gone",
    "checkout-forged",
    "sandbox",
    "sandbox-unknown-card",
    "return-created",
    "return-succeeded",
    "return-refused",
    "return-abandoned",
    "return-unknown",
]


@pytest.fixture
def audit_page(browser: Any) -> Iterator[Any]:
    """A phone-sized tab whose context ignores the CSP (only so that axe can be injected)."""
    context = browser.new_context(bypass_csp=True, java_script_enabled=True, locale="fr-FR", viewport=PHONE)
    tab = context.new_page()
    yield tab
    context.close()


SUBMIT = """([action, fields]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""

AXE_RUN = """async (options) => {
  const result = await axe.run(document, {...options, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' '))
  }));
}"""
# Every rule axe runs by default (WCAG 2.0/2.1/2.2 A and AA, best practices), plus target-size.
PAGE_RULES: dict[str, Any] = {"rules": {"target-size": {"enabled": True}}}
# For e-mails: the WCAG rules only (landmarks and headings are best practices for pages).
WCAG_RULES: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}

TARGETS = """() => Array.from(document.querySelectorAll(
  'button, input:not([type=hidden]), select, textarea, a.button'
)).map(e => ({what: e.outerHTML.slice(0, 80), height: e.getBoundingClientRect().height}))"""

UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.outerHTML)"""

DESCRIBED = """(id) => {
  const input = document.getElementById(id);
  if (!input) return null;
  const ids = (input.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  return {invalid: input.getAttribute('aria-invalid'),
          described: ids.map(i => (document.getElementById(i) || {}).textContent || '')};
}"""


def open_variant(tab: Any, base: str, variant: Variant) -> Any:
    """Open the page as a tenant would: a link (GET) or a form posted from another page."""
    if variant.method == "GET":
        return tab.goto(base + variant.target)
    tab.goto(base + "/_dev/health")
    with tab.expect_navigation() as navigation:
        tab.evaluate(SUBMIT, [base + variant.target, variant.form or {}])
    return navigation.value


def report(name: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{name}: {len(violations)} axe violation(s)"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {node}" for node in violation["nodes"]]
    return "\n".join(lines)


def assert_tap_targets_labels_and_errors(tab: Any, variant: Variant) -> None:
    small = [t for t in tab.evaluate(TARGETS) if t["height"] < MIN_TARGET_PX]
    assert small == [], small
    assert tab.evaluate(UNLABELLED) == []
    if variant.status >= 400:  # the error is announced to screen readers as the page opens
        alert = tab.locator("[role=alert]")
        assert alert.count() >= 1
        assert alert.first.inner_text().strip()
    for input_id in variant.field_errors:
        tied = tab.evaluate(DESCRIBED, input_id)
        assert tied is not None, input_id
        assert tied["invalid"] == "true", (input_id, tied)
        assert any(text.strip() for text in tied["described"]), (input_id, tied)


@pytest.mark.parametrize("name", NAMES)
def test_every_page_passes_the_audit(api, variants, axe_source, audit_page, name):
    """Opened once (a form that consumes a link cannot be posted twice), then audited."""
    variant = variants[name]
    api.set_clock(variant.clock)
    response = open_variant(audit_page, api.base, variant)
    assert response is not None and response.status == variant.status, (name, response and response.status)
    assert audit_page.evaluate("document.documentElement.lang") == "fr"
    audit_page.add_script_tag(content=axe_source)
    violations = audit_page.evaluate(AXE_RUN, PAGE_RULES)
    if violations:
        print(report(name, violations))
    assert violations == [], report(name, violations)
    assert_tap_targets_labels_and_errors(audit_page, variant)


def test_every_email_passes_the_wcag_rules(api, variants, axe_source, audit_page):
    """The HTML part of every kind of e-mail the journeys above sent (the page landmarks and
    headings of axe's best practices are for pages, not messages: WCAG rules only)."""
    by_subject = {message["subject"]: message["html"] for message in api.outbox()}
    assert len(by_subject) >= 5, sorted(by_subject)
    failures = []
    for subject, html in sorted(by_subject.items()):
        audit_page.set_content(html, wait_until="domcontentloaded")
        audit_page.add_script_tag(content=axe_source)
        violations = audit_page.evaluate(AXE_RUN, WCAG_RULES)
        if violations:
            failures.append(report(subject, violations))
    assert failures == [], "\n".join(failures)


def test_the_audit_finds_what_it_should(axe_source, audit_page):
    """The audit is not a silent no-op: a page with the usual faults fails it."""
    audit_page.set_content(
        '<html><body><img src="x.png"><input type="text"><p style="color:#aaa;background:#fff">Gris clair</p>'
        '<button style="min-height:10px;padding:0;font-size:8px">x</button></body></html>'
    )
    audit_page.add_script_tag(content=axe_source)
    found = {violation["id"] for violation in audit_page.evaluate(AXE_RUN, PAGE_RULES)}
    assert {"html-has-lang", "image-alt", "label", "color-contrast"} <= found, found
