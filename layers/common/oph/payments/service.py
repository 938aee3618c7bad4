"""Online rent payments ("payer en ligne"): use cases and their DynamoDB repository.

Payments belong to the tenancy, not to the holder's account: the rent is the tenancy's, so
co-holders see the same history and the same ``pending_cents``; ``account_id`` records who
paid (that holder gets the confirmation e-mail), and ``Idempotency-Key`` values are scoped to
the account.

Keys
- TenantsTable ``TENANT#<tenant number>`` / ``PAYMENT#<payment id>``: the payment (status,
  amounts, gateway references); ``gsi1pk = PAYMENT#<id>`` finds it from a notification.
- TenantsTable ``PAYMENTS#<UTC day of creation>`` / ``<created_at>#<id>``: day index read by
  the expiry job.
- TenantsTable ``PAYMENTS_PAID#<Paris day of payment>`` / ``<paid_at>#<id>``: day index of
  succeeded payments, carrying the export's columns (the daily accounting CSV).
- TokensTable ``IDEMPOTENCY#<account id>#<sha256(key)>`` / ``PAYMENT``: the first answer to
  a ``POST /v1/payments``, kept 24 hours (TTL ``expires_at``).
- TokensTable ``TRANSID#<site id>#<YYYYMMDD>`` / ``COUNTER``: the per-site, per-UTC-day
  counter that makes ``vads_trans_id`` unique.

Status machine: ``created`` → ``succeeded`` | ``refused`` | ``abandoned`` | ``expired``, only
from a verified gateway notification (or the expiry job for ``expired``), with conditional
writes. ``succeeded`` never changes. A genuine success notification still wins over an earlier
``refused``/``abandoned``/``expired`` (a later attempt in the same payment session, or a
notification delayed past the expiry): the card was debited, so the payment must be counted.
The receipt and the e-mail of a success are produced once, by whoever claims the payment's
fulfilment lease (10 concurrent copies of a notification send one e-mail).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from oph.payments import systempay
from oph.payments.adapters.gateway import (
    TEST_CARD_REFUSED,
    TEST_CARD_SUCCESS,
    GatewayPayment,
    NotificationRejected,
    VerifiedNotification,
    gateway_keys,
    get_gateway,
)
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import IdempotencyConflict, NotFound
from oph.platform.french import date_long_fr, euros
from oph.platform.observability import count, get_logger
from oph.platform.settings import get_settings
from oph.tenancy.model import normalize_tenant_number
from oph.tenancy.store import tenancy_pk

CREATED = "created"
SUCCEEDED = systempay.SUCCEEDED
REFUSED = systempay.REFUSED
ABANDONED = systempay.ABANDONED
EXPIRED = systempay.EXPIRED
STATUSES = (CREATED, SUCCEEDED, REFUSED, ABANDONED, EXPIRED)

MIN_AMOUNT_CENTS = 100
MAX_AMOUNT_CENTS = 1_000_000
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
FULFILMENT_LEASE_SECONDS = 120
EXPIRY_LOOKBACK_DAYS = 7
PARIS = ZoneInfo("Europe/Paris")
MAX_ID_LENGTH = 64


# ---------------------------------------------------------------- formatting
def format_euros(cents: int) -> str:
    """French amount: ``220,00 €``, ``1 000,00 €``, ``-12,50 €`` (shared with the documents)."""
    return euros(cents)


def paris_moment(instant: str) -> datetime:
    """An ISO instant (``YYYY-MM-DDTHH:MM:SSZ``) in Paris local time."""
    return datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(PARIS)


def paris_day(instant: str) -> str:
    return paris_moment(instant).date().isoformat()


def french_date(day: str) -> str:
    """``2019-06-10`` → ``10 juin 2019``, ``2024-08-01`` → ``1er août 2024``."""
    return date_long_fr(day)


# ---------------------------------------------------------------- the record
@dataclass
class Payment:
    payment_id: str
    tenant_number: str
    account_id: str
    amount_cents: int
    status: str
    created_at: str
    provider: str
    site_id: str
    ctx_mode: str
    trans_id: str
    trans_date: str
    paid_at: str | None = None
    settled_at: str | None = None
    trans_status: str | None = None
    trans_uuid: str | None = None
    receipt_doc_id: str | None = None
    fulfilled_at: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status != CREATED

    def key(self) -> dict[str, Any]:
        return payment_key(self.tenant_number, self.payment_id)

    def to_item(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        values["tenant_number"] = normalize_tenant_number(self.tenant_number)
        values["gsi1pk"] = f"PAYMENT#{self.payment_id}"
        values["gsi1sk"] = "PAYMENT"
        return {**self.key(), **dynamo.to_item(values)}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Payment:
        values = dynamo.from_item(item)
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.payment_id,
            "amount_cents": self.amount_cents,
            "status": self.status,
            "created_at": self.created_at,
            "paid_at": self.paid_at,
        }

    def for_gateway(self) -> GatewayPayment:
        return GatewayPayment(
            payment_id=self.payment_id,
            amount_cents=self.amount_cents,
            site_id=self.site_id,
            ctx_mode=self.ctx_mode,
            trans_id=self.trans_id,
            trans_date=self.trans_date,
        )


def payment_key(tenant_number: str, payment_id: str) -> dict[str, Any]:
    return {"pk": {"S": tenancy_pk(tenant_number)}, "sk": {"S": f"PAYMENT#{payment_id}"}}


def _valid_id(payment_id: str) -> bool:
    return bool(payment_id) and len(payment_id) <= MAX_ID_LENGTH and payment_id.isascii() and payment_id.isalnum()


class PaymentRepository:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    def get(self, tenant_number: str, payment_id: str) -> Payment | None:
        """Only under the given tenancy: another tenancy's id is simply not found."""
        if not _valid_id(payment_id):
            return None
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb()
                .get_item(TableName=self.table, Key=payment_key(tenant_number, payment_id), ConsistentRead=True)
                .get("Item")
            )
        return Payment.from_item(item) if item else None

    def find(self, payment_id: str, *, patience: int = 0) -> Payment | None:
        """By id alone (notifications, public pages): the index gives the tenancy, then a
        consistent read gives the current state.

        The index is eventually consistent: pages opened right after the creation wait up
        to ``patience`` short retries for it (a notification is retried by the gateway).
        """
        if not _valid_id(payment_id):
            return None
        for attempt in range(patience + 1):
            with aws.unavailable_on_failure():
                items = (
                    aws.dynamodb()
                    .query(
                        TableName=self.table,
                        IndexName="gsi1",
                        KeyConditionExpression="gsi1pk = :p AND gsi1sk = :s",
                        ExpressionAttributeValues={":p": {"S": f"PAYMENT#{payment_id}"}, ":s": {"S": "PAYMENT"}},
                    )
                    .get("Items", [])
                )
            if items:
                return self.get(str(items[0]["tenant_number"]["S"]), payment_id)
            if attempt < patience:
                time.sleep(0.2)
        return None

    def for_tenancy(self, tenant_number: str) -> list[Payment]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": {":pk": {"S": tenancy_pk(tenant_number)}, ":p": {"S": "PAYMENT#"}},
            "ConsistentRead": True,
        }
        return [Payment.from_item(i) for i in dynamo.query_all(**kwargs)]

    def query_index(self, pk: str, sk_below: str | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        if sk_below is None:
            kwargs["KeyConditionExpression"] = "pk = :pk"
            kwargs["ExpressionAttributeValues"] = {":pk": {"S": pk}}
        else:
            kwargs["KeyConditionExpression"] = "pk = :pk AND sk < :below"
            kwargs["ExpressionAttributeValues"] = {":pk": {"S": pk}, ":below": {"S": sk_below}}
        return [dynamo.from_item(i) for i in dynamo.query_all(**kwargs)]


def newest_first(payments: list[Payment]) -> list[Payment]:
    return sorted(payments, key=lambda p: (p.created_at, p.payment_id), reverse=True)


# ---------------------------------------------------------------- reading
def list_payments(tenant_number: str) -> dict[str, Any]:
    return {"items": [p.as_api() for p in newest_first(PaymentRepository().for_tenancy(tenant_number))]}


def get_payment(tenant_number: str, payment_id: str) -> dict[str, Any]:
    payment = PaymentRepository().get(tenant_number, payment_id)
    if payment is None:
        raise NotFound()
    return payment.as_api()


def get_balance(tenant_number: str) -> dict[str, Any]:
    """Imported balance, online payments made after it, and the latest notice.

    One Query over the tenancy's partition with a projection (one round trip instead of
    three: tenancy, payments, documents), since the balance screen opens with the app.
    """
    from oph.documents.model import NOTICE

    kwargs: dict[str, Any] = {
        "TableName": get_settings().tenants_table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": tenancy_pk(tenant_number)}},
        "ProjectionExpression": "sk, #type, #status, balance_cents, balance_date, amount_cents, paid_at, "
        "issued_on, period, due_date, amount_due_cents",
        "ExpressionAttributeNames": {"#type": "type", "#status": "status"},
        "ConsistentRead": True,
    }
    items = [dynamo.from_item(i) for i in dynamo.query_all(**kwargs)]
    tenancy = next((i for i in items if i["sk"] == "TENANCY"), {})
    balance_cents = int(tenancy.get("balance_cents", 0))
    balance_date = tenancy.get("balance_date")
    pending = sum(
        int(i.get("amount_cents", 0))
        for i in items
        if str(i["sk"]).startswith("PAYMENT#")
        and i.get("status") == SUCCEEDED
        and i.get("paid_at")
        and (balance_date is None or paris_day(str(i["paid_at"])) > balance_date)
    )
    notices = [i for i in items if str(i["sk"]).startswith("DOC#") and i.get("type") == NOTICE]
    latest = max(notices, key=lambda d: (str(d.get("issued_on", "")), str(d.get("period") or "")), default=None)
    return {
        "balance_cents": balance_cents,
        "balance_date": balance_date,
        "pending_cents": pending,
        "amount_due_cents": int(latest.get("amount_due_cents") or 0) if latest else 0,
        "due_date": latest.get("due_date") if latest else None,
    }


# ---------------------------------------------------------------- creating
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


def _idempotency_key(account_id: str, key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return {"pk": {"S": f"IDEMPOTENCY#{account_id}#{digest}"}, "sk": {"S": "PAYMENT"}}


def _request_hash(amount_cents: int) -> str:
    return hashlib.sha256(json.dumps({"amount_cents": amount_cents}, sort_keys=True).encode()).hexdigest()


def _stored_answer(account_id: str, key: str, request_hash: str) -> dict[str, Any] | None:
    """The first answer for this key if still kept; 409 if it was for another body."""
    with aws.unavailable_on_failure():
        item = (
            aws.dynamodb()
            .get_item(
                TableName=get_settings().tokens_table,
                Key=_idempotency_key(account_id, key),
                ConsistentRead=True,
            )
            .get("Item")
        )
    if not item:
        return None
    values = dynamo.from_item(item)
    if int(values.get("valid_until", 0)) <= clock.now_ts():
        return None
    if values.get("request_hash") != request_hash:
        raise IdempotencyConflict()
    answer: dict[str, Any] = json.loads(str(values["response"]))
    return answer


def _next_trans_id(site_id: str, moment: datetime) -> str:
    day = moment.astimezone(UTC).strftime("%Y%m%d")
    with aws.unavailable_on_failure():
        result = aws.dynamodb().update_item(
            TableName=get_settings().tokens_table,
            Key={"pk": {"S": f"TRANSID#{site_id}#{day}"}, "sk": {"S": "COUNTER"}},
            UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :exp)",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":exp": {"N": str(int(clock.now_ts()) + 3 * 24 * 3600)},
            },
            ReturnValues="UPDATED_NEW",
        )
    return systempay.format_trans_id(int(result["Attributes"]["n"]["N"]) - 1)


def create_payment(
    *, account_id: str, tenant_number: str, amount_cents: int, idempotency_key: str
) -> tuple[int, dict[str, Any]]:
    """201 and the new payment, or 200 and the first answer for a replayed key.

    The idempotency record, the payment and its day index are written in one transaction
    whose first item only succeeds for an unused (or expired) key: a double tap creates one
    payment, the loser replays the winner's answer.
    """
    request_hash = _request_hash(amount_cents)
    stored = _stored_answer(account_id, idempotency_key, request_hash)
    if stored is not None:
        return 200, stored

    gateway = get_gateway()
    keys = gateway_keys()
    now = clock.now()
    payment = Payment(
        payment_id=uuid.uuid4().hex,
        tenant_number=normalize_tenant_number(tenant_number),
        account_id=account_id,
        amount_cents=amount_cents,
        status=CREATED,
        created_at=clock.iso_instant(now),
        provider=gateway.name,
        site_id=keys.site_id,
        ctx_mode=gateway.ctx_mode(),
        trans_id=_next_trans_id(keys.site_id, now),
        trans_date=systempay.format_trans_date(now),
    )
    answer = {
        "id": payment.payment_id,
        "status": CREATED,
        "amount_cents": amount_cents,
        "checkout_url": checkout_url(payment.payment_id),
    }
    settings = get_settings()
    now_ts = int(clock.now_ts())
    items = [
        {
            "Put": {
                "TableName": settings.tokens_table,
                "Item": {
                    **_idempotency_key(account_id, idempotency_key),
                    **dynamo.to_item(
                        {
                            "request_hash": request_hash,
                            "payment_id": payment.payment_id,
                            "response": json.dumps(answer, ensure_ascii=False),
                            "valid_until": now_ts + IDEMPOTENCY_TTL_SECONDS,
                            "expires_at": now_ts + IDEMPOTENCY_TTL_SECONDS,
                        }
                    ),
                },
                "ConditionExpression": "attribute_not_exists(pk) OR valid_until <= :now",
                "ExpressionAttributeValues": {":now": {"N": str(now_ts)}},
            }
        },
        {
            "Put": {
                "TableName": settings.tenants_table,
                "Item": payment.to_item(),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": settings.tenants_table,
                "Item": {
                    "pk": {"S": f"PAYMENTS#{payment.created_at[:10]}"},
                    "sk": {"S": f"{payment.created_at}#{payment.payment_id}"},
                    **dynamo.to_item({"tenant_number": payment.tenant_number, "payment_id": payment.payment_id}),
                },
            }
        },
    ]
    for _attempt in range(3):
        try:
            with aws.unavailable_on_failure():
                aws.dynamodb().transact_write_items(TransactItems=items)
        except Exception as exc:
            reasons = aws.cancellation_reasons(exc)
            if aws.error_code(exc) == "TransactionCanceledException" and reasons[:1] == ["ConditionalCheckFailed"]:
                stored = _stored_answer(account_id, idempotency_key, request_hash)
                if stored is not None:
                    return 200, stored
            raise
        else:
            count("PaymentsCreated")
            return 201, answer
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------- notifications
def handle_notification(provider: str, body: bytes) -> None:
    """A gateway's server-to-server notification, verified and applied exactly once.

    Any check that fails raises (4xx) and changes nothing; the rejection is counted.
    """
    try:
        gateway = get_gateway(provider)
        try:
            fields = systempay.parse_form(body)
        except systempay.MalformedNotification:
            raise NotificationRejected() from None
        verified = gateway.verify_notification(fields)
        payment = PaymentRepository().find(verified.order_id)
        if payment is None or not _matches(payment, verified, provider):
            raise NotificationRejected()
    except (NotificationRejected, NotFound):
        count("PaymentNotificationsRejected")
        get_logger().warning("payment notification rejected", extra={"provider": provider[:32]})
        raise
    _apply(payment, verified)


def _matches(payment: Payment, notification: VerifiedNotification, provider: str) -> bool:
    """The notification is about this very payment: same gateway, shop, mode, transaction,
    amount and currency."""
    return (
        payment.provider == provider
        and notification.site_id == payment.site_id
        and notification.ctx_mode == payment.ctx_mode
        and notification.currency == systempay.CURRENCY_EUR
        and notification.amount == str(payment.amount_cents)
        and notification.trans_id.lower() == payment.trans_id.lower()
        and notification.trans_date == payment.trans_date
    )


def _apply(payment: Payment, notification: VerifiedNotification) -> None:
    log = get_logger()
    new_status = notification.new_status
    if new_status is None:
        log.info("payment notification without final status", extra={"trans_status": notification.trans_status})
        return
    if new_status == SUCCEEDED:
        if _mark_succeeded(payment, notification):
            count("PaymentsSucceeded")
        fulfil(payment.tenant_number, payment.payment_id)
        return
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=get_settings().tenants_table,
                Key=payment.key(),
                UpdateExpression="SET #s = :s, settled_at = :now, trans_status = :ts",
                ConditionExpression="#s = :created",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": {"S": new_status},
                    ":now": {"S": clock.iso_instant()},
                    ":ts": {"S": notification.trans_status[:64]},
                    ":created": {"S": CREATED},
                },
            )
    except Exception as exc:
        if aws.is_conditional_failure(exc):
            return  # already final: a duplicate, a retry or an out-of-order notification
        raise
    if new_status == REFUSED:
        count("PaymentsRefused")


def _mark_succeeded(payment: Payment, notification: VerifiedNotification) -> bool:
    """True for the one notification that moved the payment to succeeded."""
    paid_at = clock.iso_instant()
    settings = get_settings()
    items = [
        {
            "Update": {
                "TableName": settings.tenants_table,
                "Key": payment.key(),
                "UpdateExpression": "SET #s = :s, paid_at = :p, settled_at = :p, trans_status = :ts, trans_uuid = :u",
                "ConditionExpression": "attribute_exists(pk) AND #s <> :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":s": {"S": SUCCEEDED},
                    ":p": {"S": paid_at},
                    ":ts": {"S": notification.trans_status[:64]},
                    ":u": {"S": notification.trans_uuid[:64]},
                },
            }
        },
        {
            "Put": {
                "TableName": settings.tenants_table,
                "Item": {
                    "pk": {"S": f"PAYMENTS_PAID#{paris_day(paid_at)}"},
                    "sk": {"S": f"{paid_at}#{payment.payment_id}"},
                    **dynamo.to_item(
                        {
                            "payment_id": payment.payment_id,
                            "tenant_number": payment.tenant_number,
                            "amount_cents": payment.amount_cents,
                            "paid_at": paid_at,
                            "created_at": payment.created_at,
                            "provider": payment.provider,
                            "site_id": payment.site_id,
                            "trans_id": payment.trans_id,
                            "trans_date": payment.trans_date,
                            "trans_uuid": notification.trans_uuid[:64],
                        }
                    ),
                },
            }
        },
    ]
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException" and aws.cancellation_reasons(exc)[:1] == [
            "ConditionalCheckFailed"
        ]:
            return False
        raise
    return True


# ---------------------------------------------------------------- receipt and e-mail
def receipt_doc_id(payment_id: str) -> str:
    return f"payment-{payment_id}"


def receipt_filename(payment_id: str) -> str:
    return f"recu-paiement-{payment_id}.pdf"


def fulfil(tenant_number: str, payment_id: str) -> None:
    """Store the "reçu de paiement" and e-mail it, once per succeeded payment.

    A lease (conditional write) elects one worker among concurrent duplicates; a failure
    releases it so the gateway's retry completes the work.
    """
    repo = PaymentRepository()
    payment = repo.get(tenant_number, payment_id)
    if payment is None or payment.status != SUCCEEDED or payment.fulfilled_at:
        return
    now_ts = int(clock.now_ts())
    table = get_settings().tenants_table
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=table,
                Key=payment.key(),
                UpdateExpression="SET fulfil_claimed_ts = :now",
                ConditionExpression=(
                    "#s = :succeeded AND attribute_not_exists(fulfilled_at) "
                    "AND (attribute_not_exists(fulfil_claimed_ts) OR fulfil_claimed_ts < :stale)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":now": {"N": str(now_ts)},
                    ":stale": {"N": str(now_ts - FULFILMENT_LEASE_SECONDS)},
                    ":succeeded": {"S": SUCCEEDED},
                },
            )
    except Exception as exc:
        if aws.is_conditional_failure(exc):
            return  # someone else is on it, or it is done
        raise
    try:
        payment = repo.get(tenant_number, payment_id) or payment
        _store_receipt_and_mail(payment)
    except Exception:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(TableName=table, Key=payment.key(), UpdateExpression="REMOVE fulfil_claimed_ts")
        raise


def _store_receipt_and_mail(payment: Payment) -> None:
    from oph.accounts.model import AccountRepository
    from oph.documents.model import PAYMENT_RECEIPT, Document, DocumentRepository, tenant_prefix
    from oph.payments.receipt_pdf import ReceiptDetails, render_receipt
    from oph.platform.mail import Attachment, compose, get_mailer
    from oph.tenancy.store import TenancyStore

    assert payment.paid_at is not None
    account = AccountRepository().get(payment.account_id)
    tenancy = TenancyStore().get_tenancy(payment.tenant_number)
    holder = f"{account.first_name} {account.last_name}".strip() if account else ""
    paid = paris_moment(payment.paid_at)
    pdf = render_receipt(
        ReceiptDetails(
            payment_id=payment.payment_id,
            tenant_number=payment.tenant_number,
            holder_name=holder,
            address_lines=[tenancy.address_line1, f"{tenancy.postal_code} {tenancy.city}".strip()] if tenancy else [],
            contract_number=tenancy.contract_number if tenancy else "",
            amount=format_euros(payment.amount_cents),
            paid_on=paid.strftime("%d/%m/%Y"),
            paid_time=paid.strftime("%H:%M"),
            trans_id=payment.trans_id,
            trans_date=payment.trans_date,
            issued_on=french_date(paid.date().isoformat()),
        )
    )
    filename = receipt_filename(payment.payment_id)
    key = f"{tenant_prefix(payment.tenant_number)}payment-receipts/{filename}"
    with aws.unavailable_on_failure():
        aws.s3().put_object(
            Bucket=get_settings().documents_bucket,
            Key=key,
            Body=pdf,
            ContentType="application/pdf",
            ContentDisposition=f'attachment; filename="{filename}"',
        )
    doc_id = receipt_doc_id(payment.payment_id)
    DocumentRepository().put(
        Document(
            doc_id=doc_id,
            tenant_number=payment.tenant_number,
            type=PAYMENT_RECEIPT,
            title=f"Reçu de paiement — {format_euros(payment.amount_cents)}",
            issued_on=paid.date().isoformat(),
            s3_key=key,
            filename=filename,
            period=None,
            amount_cents=payment.amount_cents,
            created_at=clock.iso_instant(),
            extra={"payment_id": payment.payment_id, "paid_at": payment.paid_at},
        ),
        only_if_new=True,
    )
    table = get_settings().tenants_table
    with aws.unavailable_on_failure():
        aws.dynamodb().update_item(
            TableName=table,
            Key=payment.key(),
            UpdateExpression="SET receipt_doc_id = :d",
            ExpressionAttributeValues={":d": {"S": doc_id}},
        )
    if account is not None and account.email:
        amount = format_euros(payment.amount_cents)
        email = compose(
            f"Confirmation de votre paiement de {amount}",
            [
                f"Bonjour {holder}," if holder else "Bonjour,",
                f"Nous avons bien reçu votre paiement en ligne de {amount}, effectué le "
                f"{paid.strftime('%d/%m/%Y')} à {paid.strftime('%H:%M')} pour le logement "
                f"de numéro d'intitulé {payment.tenant_number}.",
                f"Référence du paiement : {payment.payment_id}.",
                "Votre reçu de paiement est joint à cet e-mail. Vous le retrouverez aussi dans "
                "l'application, rubrique « Mes documents ».",
                "Ce paiement sera pris en compte dans votre solde lors de la prochaine mise à jour "
                "de votre compte locataire.",
            ],
            to=account.email,
            attachments=[Attachment(filename, "application/pdf", pdf)],
        )
        get_mailer().send(email)
        count("PaymentReceiptsSent")
    now = clock.iso_instant()
    with aws.unavailable_on_failure():
        aws.dynamodb().update_item(
            TableName=table,
            Key=payment.key(),
            UpdateExpression="SET fulfilled_at = :now REMOVE fulfil_claimed_ts",
            ExpressionAttributeValues={":now": {"S": now}},
        )


# ---------------------------------------------------------------- pages
@dataclass(frozen=True)
class CheckoutView:
    payment: Payment
    expired: bool
    action: str = ""
    form_action_source: str = ""
    fields: dict[str, str] | None = None


def _expired_by_age(payment: Payment) -> bool:
    created = datetime.strptime(payment.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return clock.now() - created >= timedelta(minutes=get_settings().payment_expiry_minutes)


def checkout(payment_id: str, sig: str) -> CheckoutView:
    """The checkout page: the signed gateway form of a payment still waiting to be paid."""
    if not payment_id or not sig or len(sig) > 128 or not _valid_id(payment_id):
        raise NotFound()
    if not hmac.compare_digest(checkout_signature(payment_id).encode(), sig.encode("utf-8", "surrogatepass")):
        raise NotFound()
    payment = PaymentRepository().find(payment_id, patience=3)  # the link was signed: it exists
    if payment is None:
        raise NotFound()
    if payment.status != CREATED or _expired_by_age(payment):
        return CheckoutView(payment=payment, expired=payment.status == CREATED)
    form = get_gateway(payment.provider).checkout_form(payment.for_gateway(), return_url(payment_id))
    return CheckoutView(
        payment=payment,
        expired=False,
        action=form.action,
        form_action_source=form.form_action_source,
        fields=form.fields,
    )


def payment_status(payment_id: str) -> Payment:
    """The recorded payment, for the return page (the browser's parameters are ignored)."""
    payment = PaymentRepository().find(payment_id or "")
    if payment is None:
        raise NotFound()
    return payment


# ---------------------------------------------------------------- scheduled jobs
def expire_payments() -> int:
    """Mark ``expired`` every payment still ``created`` after the configured delay.

    Idempotent and forward-only: the conditional write only touches ``created`` payments.
    """
    settings = get_settings()
    now = clock.now()
    cutoff = now - timedelta(minutes=settings.payment_expiry_minutes)
    cutoff_iso = clock.iso_instant(cutoff)
    repo = PaymentRepository()
    expired = 0
    for offset in range(EXPIRY_LOOKBACK_DAYS, -1, -1):
        day = (cutoff - timedelta(days=offset)).date().isoformat()
        for entry in repo.query_index(f"PAYMENTS#{day}", sk_below=cutoff_iso + "$"):
            try:
                with aws.unavailable_on_failure():
                    aws.dynamodb().update_item(
                        TableName=settings.tenants_table,
                        Key=payment_key(str(entry["tenant_number"]), str(entry["payment_id"])),
                        UpdateExpression="SET #s = :expired, settled_at = :now",
                        ConditionExpression="#s = :created AND created_at <= :cutoff",
                        ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={
                            ":expired": {"S": EXPIRED},
                            ":created": {"S": CREATED},
                            ":cutoff": {"S": cutoff_iso},
                            ":now": {"S": clock.iso_instant(now)},
                        },
                    )
            except Exception as exc:
                if aws.is_conditional_failure(exc):
                    continue
                raise
            expired += 1
    if expired:
        count("PaymentsExpired", expired)
    return expired


EXPORT_HEADER = [
    "date_paiement",
    "heure_paiement",
    "numero_intitule",
    "reference_paiement",
    "id_transaction",
    "date_transaction",
    "montant",
    "montant_centimes",
    "devise",
    "prestataire",
]


def export_key(day: str) -> str:
    return f"exports/payments/{day}.csv"


def default_export_day() -> str:
    """The day before today in Paris: the job runs just after midnight, Paris time."""
    return (clock.now().astimezone(PARIS).date() - timedelta(days=1)).isoformat()


def export_csv(day: str) -> tuple[bytes, int]:
    """The day's succeeded payments (Paris day of payment) as a French-friendly CSV."""
    rows = sorted(
        PaymentRepository().query_index(f"PAYMENTS_PAID#{day}"), key=lambda r: (r["paid_at"], r["payment_id"])
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        paid = paris_moment(str(row["paid_at"]))
        cents = int(row["amount_cents"])
        trans_date = str(row.get("trans_date", ""))
        writer.writerow(
            [
                paid.strftime("%d/%m/%Y"),
                paid.strftime("%H:%M:%S"),
                row["tenant_number"],
                row["payment_id"],
                row.get("trans_id", ""),
                f"{trans_date[6:8]}/{trans_date[4:6]}/{trans_date[:4]}" if len(trans_date) >= 8 else "",
                f"{cents // 100},{cents % 100:02d}",
                cents,
                "EUR",
                row.get("provider", ""),
            ]
        )
    # UTF-8 with BOM: spreadsheet software in French opens it with the right accents.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), len(rows)


def export_payments(day: str | None = None) -> dict[str, Any]:
    """Write ``exports/payments/<day>.csv``; running it again writes the same content."""
    day = day or default_export_day()
    date.fromisoformat(day)  # ValueError for anything but YYYY-MM-DD
    if len(day) != 10:
        raise ValueError("day must be YYYY-MM-DD")
    body, rows = export_csv(day)
    key = export_key(day)
    with aws.unavailable_on_failure():
        aws.s3().put_object(
            Bucket=get_settings().documents_bucket,
            Key=key,
            Body=body,
            ContentType="text/csv; charset=utf-8",
        )
    count("PaymentExportRows", rows)
    return {"key": key, "rows": rows}


# ---------------------------------------------------------------- the sandbox gateway's page
class UnknownTestCard(Exception):
    """The sandbox only knows its two test cards: the page is shown again with a message."""

    def __init__(self, form: dict[str, str]) -> None:
        super().__init__("unknown test card")
        self.form = form


def sandbox_open(fields: dict[str, str]) -> dict[str, str]:
    """The genuine signed form posted by a checkout page to the sandbox (else 400)."""
    from oph.payments.adapters.gateway import sandbox

    return sandbox().verify_form(fields)


def sandbox_submit(fields: dict[str, str]) -> str:
    """Pay, refuse or cancel like the real gateway: notify the backend first (server to
    server, signed), then send the browser back to the form's return URL."""
    from oph.payments.adapters.gateway import sandbox, send_notification

    gateway = sandbox()
    form = gateway.verify_form(fields)
    card = "".join((fields.get("card_number") or "").split())
    if "cancel" in fields:
        outcome, card = "ABANDONED", ""
    elif card == TEST_CARD_SUCCESS:
        outcome = "AUTHORISED"
    elif card == TEST_CARD_REFUSED:
        outcome = "REFUSED"
    else:
        raise UnknownTestCard(form)
    notification = gateway.notification_for(form, outcome, card)
    status = send_notification(gateway.notification_url(), notification)
    if status != 200:
        get_logger().warning("sandbox notification not accepted", extra={"http_status": status})
    return form.get("vads_url_return") or return_url(form["vads_order_id"])
