"""Creating a payment ("payer en ligne") and the pages of its journey: the signed checkout
link, the checkout page's gateway form, the return page's recorded status."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from oph.payments import systempay
from oph.payments.adapters.gateway import GatewayPayment, gateway_keys, get_gateway
from oph.payments.model import CREATED, IdempotencyKeyUsed, IdempotencyRecord, Payment, is_valid_payment_id
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.errors import IdempotencyConflict, NotFound, ServiceUnavailable, TooManyRequests
from oph.platform.observability import count
from oph.platform.rate_limit_store import rate_limiter
from oph.platform.settings import get_settings
from oph.platform.transaction import RaceLost, Transaction
from oph.tenancy.model import normalize_tenant_number

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


# ---------------------------------------------------------------- links
def _checkout_link_key() -> bytes:
    keys = gateway_keys()
    return hashlib.sha256(f"oph-checkout-link|{keys.test_key}|{keys.production_key}".encode()).digest()


def checkout_signature(payment_id: str) -> str:
    """The ``sig`` of a checkout link: nobody can open the checkout of a payment not theirs."""
    digest = hmac.new(_checkout_link_key(), f"checkout|{payment_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def checkout_url(payment_id: str) -> str:
    return get_settings().link(f"/links/checkout?payment_id={payment_id}&sig={checkout_signature(payment_id)}")


def return_url(payment_id: str) -> str:
    return get_settings().link(f"/links/payment-return?payment_id={payment_id}")


def gateway_payment(payment: Payment) -> GatewayPayment:
    """What the gateway needs to know of a payment."""
    return GatewayPayment(
        payment_id=payment.payment_id,
        amount_cents=payment.amount_cents,
        site_id=payment.site_id,
        ctx_mode=payment.ctx_mode,
        trans_id=payment.trans_id,
        trans_date=payment.trans_date,
    )


# ---------------------------------------------------------------- creating
CREATIONS = "payments-created"
CREATIONS_PER_HOUR = 10


def request_hash(amount_cents: int) -> str:
    return hashlib.sha256(json.dumps({"amount_cents": amount_cents}, sort_keys=True).encode()).hexdigest()


def stored_answer(account_id: str, key: str, body_hash: str) -> dict[str, Any] | None:
    """The first answer for this key if still kept; 409 if it was for another body."""
    record = payment_store().idempotency_record(account_id, key)
    if record is None or record.valid_until <= clock.now_ts():
        return None
    if record.request_hash != body_hash:
        raise IdempotencyConflict()
    return record.answer


def _new_payment(account_id: str, tenant_number: str, amount_cents: int) -> Payment:
    gateway = get_gateway()
    site_id = gateway_keys().site_id
    now = clock.now()
    sequence = payment_store().next_trans_sequence(site_id, now.astimezone(UTC).strftime("%Y%m%d"))
    return Payment(
        payment_id=uuid.uuid4().hex,
        tenant_number=normalize_tenant_number(tenant_number),
        account_id=account_id,
        amount_cents=amount_cents,
        status=CREATED,
        created_at=clock.iso_instant(now),
        provider=gateway.name,
        site_id=site_id,
        ctx_mode=gateway.ctx_mode(),
        trans_id=systempay.format_trans_id(sequence + 1),  # 000001 for the first of the day, never 000000
        trans_date=systempay.format_trans_date(now),
    )


def create_payment(
    *, account_id: str, tenant_number: str, amount_cents: int, idempotency_key: str
) -> tuple[int, dict[str, Any]]:
    """201 and the new payment, or 200 and the first answer for a replayed key.

    The idempotency record, the payment and its day index are written in one transaction
    whose first item only succeeds for an unused (or expired) key: a double tap creates one
    payment, the loser replays the winner's answer.
    """
    body_hash = request_hash(amount_cents)
    try:
        stored = stored_answer(account_id, idempotency_key, body_hash)
    except IdempotencyConflict:
        _check_creation_budget(account_id)  # 429 comes before 409 (contract section 1)
        raise
    if stored is not None:
        return 200, stored  # a replay of a known key is not a creation: never throttled
    _charge_creation(account_id)
    try:
        return _create(account_id, tenant_number, amount_cents, idempotency_key, body_hash)
    except Exception:
        rate_limiter().refund(CREATIONS, account_id)  # nothing created: not counted
        raise


def _charge_creation(account_id: str) -> None:
    """At most ``CREATIONS_PER_HOUR`` payments per account per rolling hour (contract
    section 6), counted and checked in one conditional write."""
    charge = rate_limiter().charge(CREATIONS, account_id, limit=CREATIONS_PER_HOUR, window=3600)
    if not charge.counted:
        raise TooManyRequests(retry_after=charge.seconds_left)


def _check_creation_budget(account_id: str) -> None:
    count_so_far, left = rate_limiter().current(CREATIONS, account_id)
    if count_so_far >= CREATIONS_PER_HOUR:
        raise TooManyRequests(retry_after=left)


def _create(
    account_id: str, tenant_number: str, amount_cents: int, idempotency_key: str, body_hash: str
) -> tuple[int, dict[str, Any]]:
    payment = _new_payment(account_id, tenant_number, amount_cents)
    answer = {
        "id": payment.payment_id,
        "status": CREATED,
        "amount_cents": amount_cents,
        "checkout_url": checkout_url(payment.payment_id),
    }
    now_ts = int(clock.now_ts())
    record = IdempotencyRecord(body_hash, payment.payment_id, answer, now_ts + IDEMPOTENCY_TTL_SECONDS)
    store = payment_store()
    try:
        Transaction(
            store.claim_idempotency_key(account_id, idempotency_key, record, now_ts), store.add(payment)
        ).commit()
    except IdempotencyKeyUsed:
        stored = stored_answer(account_id, idempotency_key, body_hash)
        if stored is None:  # the winner's answer expired in between: the caller tries again
            raise ServiceUnavailable() from None
        rate_limiter().refund(CREATIONS, account_id)  # the double tap's loser created nothing
        return 200, stored
    except RaceLost:
        raise ServiceUnavailable() from None
    count("PaymentsCreated")
    return 201, answer


# ---------------------------------------------------------------- pages
@dataclass(frozen=True)
class CheckoutView:
    payment: Payment
    expired: bool
    action: str = ""
    form_action_source: str = ""
    fields: dict[str, str] | None = None


def expired_by_age(payment: Payment) -> bool:
    """Still ``created`` past ``PAYMENT_EXPIRY_MINUTES``: no checkout, even before the job runs."""
    created = datetime.strptime(payment.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return clock.now() - created >= timedelta(minutes=get_settings().payment_expiry_minutes)


def checkout(payment_id: str, sig: str) -> CheckoutView:
    """The checkout page: the signed gateway form of a payment still waiting to be paid."""
    if not payment_id or not sig or len(sig) > 128 or not is_valid_payment_id(payment_id):
        raise NotFound()
    if not hmac.compare_digest(checkout_signature(payment_id).encode(), sig.encode("utf-8", "surrogatepass")):
        raise NotFound()
    payment = payment_store().find(payment_id, patience=3)  # the link was signed: it exists
    if payment is None:
        raise NotFound()
    if payment.status != CREATED or expired_by_age(payment):
        return CheckoutView(payment=payment, expired=payment.status == CREATED)
    form = get_gateway(payment.provider).checkout_form(gateway_payment(payment), return_url(payment_id))
    return CheckoutView(
        payment=payment,
        expired=False,
        action=form.action,
        form_action_source=form.form_action_source,
        fields=form.fields,
    )


def payment_status(payment_id: str) -> Payment:
    """The recorded payment, for the return page (the browser's parameters are ignored)."""
    payment = payment_store().find(payment_id or "")
    if payment is None:
        raise NotFound()
    return payment
