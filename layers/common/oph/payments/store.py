"""Payments as stored (every key of these items is built here).

- TenantsTable ``TENANT#<tenant number>`` / ``PAYMENT#<payment id>``: the payment (status,
  amounts, gateway references); ``gsi1pk = PAYMENT#<id>`` finds it from a notification.
- TenantsTable ``PAYMENTS_OPEN`` / ``<created_at>#<id>``: the unsettled payments, all the
  expiry job reads (an entry goes when its payment settles).
- TenantsTable ``PAYMENTS_PAID#<Paris day of payment>`` / ``<paid_at>#<id>``: day index of
  succeeded payments, carrying the export's columns (the daily accounting CSV).
- TokensTable ``IDEMPOTENCY#<account id>#<sha256(key)>`` / ``PAYMENT``: a ``POST /v1/payments``'s
  first answer, 24 hours; ``TRANSID#<site id>#<YYYYMMDD>`` / ``COUNTER``: ``vads_trans_id``.
- The fulfilment lease ``fulfil_claimed_ts`` on the payment item: one worker among
  concurrent duplicates of a success notification stores the receipt and sends the e-mail.
- The documents bucket ``exports/payments/<day>.csv``: the daily accounting export.

The tenancy's partition is read at once (:meth:`PaymentStore.snapshot`): tenancy, holders,
documents, payments and movements (:mod:`oph.tenancy.store`'s layout) in one round trip.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import fields
from typing import Any

from oph.documents.store import document_from_item
from oph.payments.model import (
    CREATED,
    EXPIRED,
    SUCCEEDED,
    AlreadySucceeded,
    IdempotencyKeyUsed,
    IdempotencyRecord,
    Payment,
    TenancySnapshot,
    is_valid_payment_id,
)
from oph.platform import aws, clock
from oph.platform.aws import bucket, dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import Write
from oph.tenancy.model import holder_from_values, normalize_tenant_number, tenancy_from_values
from oph.tenancy.store import MOVEMENT_PREFIX, movement_from_item, tenancy_pk

PAYMENT_FIELDS = frozenset(f.name for f in fields(Payment))
# What the paid day index carries of a payment (with ``paid_at`` and ``trans_uuid``).
PAID_ENTRY_FIELDS = (
    *("payment_id", "tenant_number", "amount_cents", "created_at"),
    *("provider", "site_id", "trans_id", "trans_date"),
)
TRANS_COUNTER_DAYS = 3
FIND_RETRY_SECONDS = 0.2
# What the balance and the statement read of the partition (the balance screen opens with the app).
BALANCE_ATTRIBUTES = (
    *("type", "status", "tenant_number", "balance_cents", "balance_date", "payment_id", "amount_cents", "paid_at"),
    *("created_at", "trans_date", "trans_id"),  # the order of payments paid in the same second
    *("doc_id", "title", "s3_key", "filename", "issued_on", "period", "due_date", "amount_due_cents"),
    *("date", "label", "reference"),  # movements
)


def payment_key(tenant_number: str, payment_id: str) -> dict[str, Any]:
    return dynamo.key(tenancy_pk(tenant_number), f"PAYMENT#{payment_id}")


def idempotency_key(account_id: str, key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return dynamo.key(f"IDEMPOTENCY#{account_id}#{digest}", "PAYMENT")


def export_key(day: str) -> str:
    return f"exports/payments/{day}.csv"


def payment_from_values(values: dict[str, Any]) -> Payment:
    """A payment from an item's plain values (the partition's, a day index's or a projection)."""
    known = {k: v for k, v in values.items() if k in PAYMENT_FIELDS}
    known.setdefault("payment_id", str(values.get("sk", "")).removeprefix("PAYMENT#"))
    known["amount_cents"] = int(known.get("amount_cents") or 0)
    known["status"] = str(known.get("status") or "")
    return Payment(**known)


def _payment_item(payment: Payment) -> dict[str, Any]:
    values = {f: getattr(payment, f) for f in PAYMENT_FIELDS}
    values["tenant_number"] = normalize_tenant_number(payment.tenant_number)
    values["gsi1pk"] = f"PAYMENT#{payment.payment_id}"
    values["gsi1sk"] = "PAYMENT"
    return {**payment_key(payment.tenant_number, payment.payment_id), **dynamo.to_item(values)}


OPEN_PK = "PAYMENTS_OPEN"


def _open_key(created_at: str, payment_id: str) -> dict[str, Any]:
    return dynamo.key(OPEN_PK, f"{created_at}#{payment_id}")


def _key_of(payment: Payment) -> dict[str, Any]:
    return payment_key(payment.tenant_number, payment.payment_id)


class PaymentStore:
    def __init__(self, tenants_table: str | None = None, tokens_table: str | None = None) -> None:
        settings = get_settings()
        self.table = tenants_table or settings.tenants_table
        self.tokens_table = tokens_table or settings.tokens_table

    # -- reading payments
    def get(self, tenant_number: str, payment_id: str) -> Payment | None:
        """Only under the given tenancy: another tenancy's id is simply not found."""
        if not is_valid_payment_id(payment_id):
            return None
        item = dynamo.get(self.table, payment_key(tenant_number, payment_id))
        return payment_from_values(dynamo.from_item(item)) if item else None

    def find(self, payment_id: str, *, patience: int = 0) -> Payment | None:
        """By id alone (notifications, public pages): the index gives the tenancy, then a
        consistent read gives the current state.

        The index is eventually consistent: pages opened right after the creation wait up
        to ``patience`` short retries for it (a notification is retried by the gateway).
        """
        if not is_valid_payment_id(payment_id):
            return None
        for attempt in range(patience + 1):
            items = dynamo.query_all(
                TableName=self.table,
                IndexName="gsi1",  # it projects the tenancy number only (template.yaml)
                KeyConditionExpression="gsi1pk = :p AND gsi1sk = :s",
                ExpressionAttributeValues={":p": {"S": f"PAYMENT#{payment_id}"}, ":s": {"S": "PAYMENT"}},
            )
            if items:
                return self.get(str(items[0]["tenant_number"]["S"]), payment_id)
            if attempt < patience:
                time.sleep(FIND_RETRY_SECONDS)
        return None

    def for_tenancy(self, tenant_number: str) -> list[Payment]:
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": tenancy_pk(tenant_number)}, ":p": {"S": "PAYMENT#"}},
            ConsistentRead=True,
        )
        return [payment_from_values(dynamo.from_item(i)) for i in items]

    def history(self, tenant_number: str) -> list[Payment]:
        """The tenancy's payments with what their list shows (``Payment.as_api``) only."""
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": tenancy_pk(tenant_number)}, ":p": {"S": "PAYMENT#"}},
            ProjectionExpression="sk, amount_cents, #s, created_at, paid_at",
            ExpressionAttributeNames={"#s": "status"},
            ConsistentRead=True,
        )
        return [payment_from_values({**dynamo.from_item(i), "tenant_number": tenant_number}) for i in items]

    def _day_index(self, pk: str, sk_below: str | None = None) -> list[dict[str, Any]]:
        values: dict[str, Any] = {":pk": {"S": pk}}
        condition = "pk = :pk"
        if sk_below is not None:
            condition += " AND sk < :below"
            values[":below"] = {"S": sk_below}
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
        )
        return [dynamo.from_item(i) for i in items]

    def open_until(self, up_to: str) -> list[tuple[str, str, str]]:
        """(tenant number, payment id, created_at) of the payments still open (not settled)
        created at or before the instant ``up_to``, oldest first."""
        entries = self._day_index(OPEN_PK, sk_below=up_to + "$")  # "$" sorts after "#"
        return [(str(e["tenant_number"]), str(e["payment_id"]), str(e["sk"]).split("#")[0]) for e in entries]

    def drop_open(self, created_at: str, payment_id: str) -> None:
        """The payment settled: the expiry job need never read it again."""
        with aws.unavailable_on_failure():
            aws.dynamodb().delete_item(TableName=self.table, Key=_open_key(created_at, payment_id))

    def paid_on(self, day: str) -> list[Payment]:
        """The payments that succeeded on this Paris day (with the export's fields)."""
        return [payment_from_values({**e, "status": SUCCEEDED}) for e in self._day_index(f"PAYMENTS_PAID#{day}")]

    def snapshot(self, tenant_number: str, *, for_balance: bool = False) -> TenancySnapshot:
        """One query over the tenancy's partition: tenancy, holders, documents, payments and
        movements.

        ``for_balance`` reads only what the balance and the statement need (a projection: one
        small round trip instead of three, since the balance screen opens with the app): no
        holders, and the documents without their details (``extra``).
        """
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": tenancy_pk(tenant_number)}},
            "ConsistentRead": True,
        }
        if for_balance:
            kwargs["ProjectionExpression"] = ", ".join(["sk", *(f"#{name}" for name in BALANCE_ATTRIBUTES)])
            kwargs["ExpressionAttributeNames"] = {f"#{name}": name for name in BALANCE_ATTRIBUTES}
        snapshot = TenancySnapshot(tenant_number)
        for item in dynamo.query_all(**kwargs):
            sk = str(item["sk"]["S"])
            if sk == "TENANCY":
                snapshot.tenancy = tenancy_from_values(dynamo.from_item(item))
            elif sk.startswith("HOLDER#") and not for_balance:
                snapshot.holders.append(holder_from_values(dynamo.from_item(item)))
            elif sk.startswith("DOC#"):
                document = document_from_item(item)
                snapshot.documents[document.doc_id] = document
            elif sk.startswith("PAYMENT#"):
                try:
                    snapshot.payments.append(payment_from_values(dynamo.from_item(item)))
                except (TypeError, ValueError):
                    continue  # an unreadable payment item is left out
            elif sk.startswith(MOVEMENT_PREFIX):
                snapshot.movements.append(movement_from_item(item))
        return snapshot

    # -- creating
    def next_trans_sequence(self, site_id: str, day: str) -> int:
        """0, 1, 2… per shop and UTC day (``YYYYMMDD``): the ``vads_trans_id`` sequence."""
        with aws.unavailable_on_failure():
            result = aws.dynamodb().update_item(
                TableName=self.tokens_table,
                Key=dynamo.key(f"TRANSID#{site_id}#{day}", "COUNTER"),
                UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :exp)",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":exp": {"N": str(int(clock.now_ts()) + TRANS_COUNTER_DAYS * 24 * 3600)},
                },
                ReturnValues="UPDATED_NEW",
            )
        return int(result["Attributes"]["n"]["N"]) - 1

    def idempotency_record(self, account_id: str, key: str) -> IdempotencyRecord | None:
        """The answer kept for this account's key (expired or not: the caller decides)."""
        item = dynamo.get(self.tokens_table, idempotency_key(account_id, key))
        if not item:
            return None
        values = dynamo.from_item(item)
        return IdempotencyRecord(
            request_hash=str(values.get("request_hash", "")),
            payment_id=str(values.get("payment_id", "")),
            answer=json.loads(str(values.get("response") or "{}")),
            valid_until=int(values.get("valid_until", 0)),
        )

    def claim_idempotency_key(self, account_id: str, key: str, record: IdempotencyRecord, now_ts: int) -> Write:
        """Keep ``record`` under the key unless a live one is there (:class:`IdempotencyKeyUsed`)."""
        values = {
            "request_hash": record.request_hash,
            "payment_id": record.payment_id,
            "response": json.dumps(record.answer, ensure_ascii=False),
            "valid_until": record.valid_until,
            "expires_at": record.valid_until,
        }
        request = {
            "Put": {
                "TableName": self.tokens_table,
                "Item": {**idempotency_key(account_id, key), **dynamo.to_item(values)},
                "ConditionExpression": "attribute_not_exists(pk) OR valid_until <= :now",
                "ExpressionAttributeValues": {":now": {"N": str(now_ts)}},
            }
        }
        return dynamo.write("idempotency key", request, fails_with=IdempotencyKeyUsed)

    def add(self, payment: Payment) -> list[Write]:
        """The new payment and its entry among the open payments."""
        entry = {"tenant_number": normalize_tenant_number(payment.tenant_number), "payment_id": payment.payment_id}
        index = {**_open_key(payment.created_at, payment.payment_id), **dynamo.to_item(entry)}
        put = {
            "TableName": self.table,
            "Item": _payment_item(payment),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        return [
            dynamo.write("payment", {"Put": put}),
            dynamo.write("open payments index", {"Put": {"TableName": self.table, "Item": index}}),
        ]

    def put(self, payment: Payment) -> None:
        """Store a payment as it is (seeding and tests; the use cases go through :meth:`add`)."""
        with aws.unavailable_on_failure():
            aws.dynamodb().put_item(TableName=self.table, Item=_payment_item(payment))

    # -- the status machine
    def mark_succeeded(self, payment: Payment, *, paid_at: str, trans_status: str, trans_uuid: str) -> list[Write]:
        """``succeeded`` from any other status (:class:`AlreadySucceeded` if it is already), and
        the paid day index entry carrying the export's columns."""
        update = {
            "Update": {
                "TableName": self.table,
                "Key": _key_of(payment),
                "UpdateExpression": "SET #s = :s, paid_at = :p, settled_at = :p, trans_status = :ts, trans_uuid = :u",
                "ConditionExpression": "attribute_exists(pk) AND #s <> :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":s": {"S": SUCCEEDED},
                    ":p": {"S": paid_at},
                    ":ts": {"S": trans_status},
                    ":u": {"S": trans_uuid},
                },
            }
        }
        entry = {**{f: getattr(payment, f) for f in PAID_ENTRY_FIELDS}, "paid_at": paid_at, "trans_uuid": trans_uuid}
        index = {
            **dynamo.key(f"PAYMENTS_PAID#{clock.paris_date(paid_at)}", f"{paid_at}#{payment.payment_id}"),
            **dynamo.to_item(entry),
        }
        return [
            dynamo.write("payment succeeded", update, fails_with=AlreadySucceeded),
            dynamo.write("paid day index", {"Put": {"TableName": self.table, "Item": index}}),
            dynamo.write(
                "open payments index",
                {"Delete": {"TableName": self.table, "Key": _open_key(payment.created_at, payment.payment_id)}},
            ),
        ]

    def close(self, payment: Payment, status: str, *, trans_status: str, at: str) -> bool:
        """``created`` → a final failure ``status``; False when it was already final."""
        values = {":s": {"S": status}, ":now": {"S": at}, ":ts": {"S": trans_status}, ":created": {"S": CREATED}}
        closed = self._update(
            _key_of(payment), "SET #s = :s, settled_at = :now, trans_status = :ts", values, "#s = :created"
        )
        if closed:
            self.drop_open(payment.created_at, payment.payment_id)
        return closed

    def expire(self, tenant_number: str, payment_id: str, *, cutoff: str, at: str) -> bool:
        """``created`` (at or before ``cutoff``) → ``expired``; False when it was not."""
        values = {":expired": {"S": EXPIRED}, ":created": {"S": CREATED}, ":cutoff": {"S": cutoff}, ":now": {"S": at}}
        condition = "#s = :created AND created_at <= :cutoff"
        return self._update(
            payment_key(tenant_number, payment_id), "SET #s = :expired, settled_at = :now", values, condition
        )

    def _update(self, key: dict[str, Any], update: str, values: dict[str, Any] | None, condition: str = "") -> bool:
        """An UpdateItem of a payment item; False when ``condition`` was not met."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": key, "UpdateExpression": update}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if condition:
            kwargs.update(ConditionExpression=condition, ExpressionAttributeNames={"#s": "status"})
            return dynamo.update_if(**kwargs) is not None
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(**kwargs)
        return True

    # -- fulfilment: the receipt and the e-mail of a success, once
    def claim_fulfilment(self, payment: Payment, *, now_ts: int, lease_seconds: int) -> bool:
        """Take the lease of a succeeded, unfulfilled payment (unless someone holds a fresh one)."""
        values = {
            ":now": {"N": str(now_ts)},
            ":stale": {"N": str(now_ts - lease_seconds)},
            ":succeeded": {"S": SUCCEEDED},
        }
        condition = (
            "#s = :succeeded AND attribute_not_exists(fulfilled_at) "
            "AND (attribute_not_exists(fulfil_claimed_ts) OR fulfil_claimed_ts < :stale)"
        )
        return self._update(_key_of(payment), "SET fulfil_claimed_ts = :now", values, condition)

    def release_fulfilment(self, payment: Payment) -> None:
        self._update(_key_of(payment), "REMOVE fulfil_claimed_ts", None)

    def record_receipt(self, payment: Payment, doc_id: str) -> None:
        self._update(_key_of(payment), "SET receipt_doc_id = :d", {":d": {"S": doc_id}})

    def mark_fulfilled(self, payment: Payment, *, at: str) -> None:
        """Done: the lease is dropped and never taken again."""
        self._update(_key_of(payment), "SET fulfilled_at = :now REMOVE fulfil_claimed_ts", {":now": {"S": at}})

    # -- the daily export
    def put_export(self, day: str, body: bytes) -> str:
        """Write the day's accounting CSV; returns its key."""
        key = export_key(day)
        bucket.put_file(key, body, "text/csv; charset=utf-8")
        return key


payment_store: Provider[PaymentStore] = Provider(PaymentStore)
