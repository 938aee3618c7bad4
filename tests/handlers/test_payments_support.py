"""Shared helpers of the payment handler tests (no tests here).

Genuine notifications are built the way the gateway builds them: from the checkout form
the backend signed, completed with the IPN fields and signed with the shop's key.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.factories import log_in, tenant_with_login

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def payer(runtime):
    """A tenant with a logged-in holder (balance 610,68 € on 2019-05-23)."""
    tenant, login = tenant_with_login(balance_cents=61068, balance_date="2019-05-23")
    return tenant, login


@pytest.fixture
def in_process_sandbox(runtime):
    """The sandbox delivers its notification to the use case in-process (no HTTP server)."""
    from oph.payments import notifications
    from oph.payments.adapters import gateway as payment_gateway
    from oph.platform import errors

    def deliver(url: str, fields: dict[str, str]) -> int:
        assert url.endswith("/v1/payments/notifications/sandbox")
        try:
            notifications.handle_notification("sandbox", urlencode(fields).encode())
        except errors.ApiError as exc:
            return exc.status
        return 200

    payment_gateway.notification_sender.set(deliver)
    yield deliver
    payment_gateway.notification_sender.set(None)


def create(client, login, amount: int = 22000, key: str | None = None) -> Any:
    return client.post(
        "/v1/payments",
        {"amount_cents": amount},
        token=login.access_token,
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def new_payment(client, login, amount: int = 22000) -> dict[str, Any]:
    reply = create(client, login, amount)
    assert reply.status == 201, reply.text
    return reply.json()


def checkout_form(payment_id: str) -> dict[str, str]:
    """The signed vads_* form the checkout page posts for this payment."""
    from oph.payments.adapters.gateway import get_gateway
    from oph.payments.checkout import gateway_payment, return_url
    from oph.payments.store import payment_store

    payment = payment_store().find(payment_id)
    assert payment is not None
    return get_gateway(payment.provider).checkout_form(gateway_payment(payment), return_url(payment_id)).fields


def genuine_notification(payment_id: str, status: str = "AUTHORISED", **overrides: str) -> dict[str, str]:
    """The IPN the gateway would send, signed with the right key (overrides are signed too)."""
    from oph.payments import systempay
    from oph.payments.adapters.gateway import build_notification, gateway_keys

    form = checkout_form(payment_id)
    fields = build_notification(form, status, "unused", card_number="4970100000000003")
    fields.pop("signature")
    fields.update(overrides)
    return systempay.signed(fields, gateway_keys().key_for(fields["vads_ctx_mode"]))


def notify(client, fields: dict[str, str], provider: str = "sandbox") -> Any:
    return client.request("POST", f"/v1/payments/notifications/{provider}", body=urlencode(fields), headers=dict(FORM))


def stored(payment_id: str) -> Any:
    from oph.payments.store import payment_store

    payment = payment_store().find(payment_id)
    assert payment is not None
    return payment


def path_and_query(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parts.query


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def co_holder_login(tenant: Any) -> Any:
    """A second holder of the same tenancy, with an account and a session."""
    from oph.tenancy.model import Holder
    from oph.tenancy.store import TenancyStore
    from tests.factories import Tenant, make_account

    holder = Holder(tenant.holder.tenant_number, "MARTIN", "Paul", "1979-03-14")
    TenancyStore().put_holder(holder)
    return log_in(make_account(Tenant(holder, tenant.tenancy)))
