"""Direct-debit mandates as stored (every key of these items is built here).

- TenantsTable ``TENANT#<tenant number>`` / ``MANDATE``: the tenancy's current mandate, whatever
  its status (one item: ``GET /v1/payments/direct-debit`` is one strongly consistent read, and
  every status change is one conditional update of it). It is also the tenancy's pointer: a
  signature puts it on condition that it is still what the signer read (absent, or the same
  reference in the same status), so two co-holders signing at once give one mandate and one
  409 ``direct_debit_exists``.
- TenantsTable ``TENANT#<tenant number>`` / ``MANDATE#<reference>``: the earlier mandates of the
  tenancy (revoked or rejected), copied there by the signature that replaces them and kept
  (legal retention; the GDPR export lists the caller's).
- TenantsTable ``MANDATES#<Paris day>`` / ``<instant>#<reference>#<action>``: the day index of
  the office's export, written in the same transaction as the signature (``create``, at its
  ``signed_at``) or the revocation request (``revoke``, at the request's instant), keyed by the
  Paris day of that instant (a mandate signed at 23:59:59 Paris time is in that day's export).
  It carries the export's columns, the IBAN as its ciphertext.

The mandate item holds the IBAN masked and as its KMS ciphertext
(:mod:`oph.payments.adapters.iban_vault`), never in clear. Besides the
:class:`~oph.payments.mandate.Mandate` fields it records ``status_changed_at`` and, once asked,
``revocation_requested_at``.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from oph.documents.model import Document
from oph.documents.store import document_item
from oph.payments.mandate import (
    CREATE,
    REVOCABLE,
    REVOCATION_PENDING,
    REVOKE,
    DirectDebitExists,
    ExportEntry,
    Mandate,
)
from oph.platform import clock
from oph.platform.aws import dynamo
from oph.platform.errors import NotFound
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import Write
from oph.tenancy.model import normalize_tenant_number
from oph.tenancy.store import tenancy_pk

__all__ = ["ExportEntry", "MandateStore", "mandate_store"]

CURRENT = "MANDATE"
NAMES = {"#s": "status", "#r": "reference"}  # both are reserved words of DynamoDB
EARLIER_PREFIX = "MANDATE#"
MANDATE_FIELDS = tuple(f.name for f in fields(Mandate))


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def current_key(tenant_number: str) -> dict[str, Any]:
    return dynamo.key(tenancy_pk(tenant_number), CURRENT)


def earlier_key(tenant_number: str, reference: str) -> dict[str, Any]:
    return dynamo.key(tenancy_pk(tenant_number), f"{EARLIER_PREFIX}{reference}")


def day_index_pk(day: str) -> str:
    return f"MANDATES#{day}"


def mandate_from_values(values: dict[str, Any]) -> Mandate:
    known = {k: values.get(k) for k in MANDATE_FIELDS}
    return Mandate(
        tenant_number=str(known["tenant_number"] or ""),
        reference=str(known["reference"] or ""),
        sequence=int(known["sequence"] or 0),
        status=str(known["status"] or ""),
        account_holder=str(known["account_holder"] or ""),
        iban_masked=str(known["iban_masked"] or ""),
        debit_day=int(known["debit_day"] or 0),
        signed_at=str(known["signed_at"] or ""),
        signed_by=str(known["signed_by"]) if known["signed_by"] else None,
        document_id=str(known["document_id"]) if known["document_id"] else None,
        iban_ciphertext=str(known["iban_ciphertext"] or ""),
    )


def export_entry_from_values(values: dict[str, Any]) -> ExportEntry:
    return ExportEntry(
        mandate_reference=str(values.get("mandate_reference") or ""),
        tenant_number=str(values.get("tenant_number") or ""),
        account_holder=str(values.get("account_holder") or ""),
        iban_ciphertext=str(values.get("iban_ciphertext") or ""),
        debit_day=int(values.get("debit_day") or 0),
        signed_at=str(values.get("signed_at") or ""),
        action=str(values.get("action") or ""),
    )


def status_in(statuses: set[str] | frozenset[str]) -> tuple[str, dict[str, Any]]:
    """``#s IN (:s0, :s1…)`` and its values (``#s`` names ``status``)."""
    values = {f":s{i}": _s(s) for i, s in enumerate(sorted(statuses))}
    return f"#s IN ({', '.join(values)})", values


def _values(mandate: Mandate) -> dict[str, Any]:
    values = asdict(mandate)
    values["tenant_number"] = normalize_tenant_number(mandate.tenant_number)
    return values


def _entry(mandate: Mandate, action: str, at: str) -> dict[str, Any]:
    """The day index item of one export line."""
    values = {
        "mandate_reference": mandate.reference,
        "tenant_number": normalize_tenant_number(mandate.tenant_number),
        "account_holder": mandate.account_holder,
        "iban_ciphertext": mandate.iban_ciphertext,
        "debit_day": mandate.debit_day,
        "signed_at": mandate.signed_at,
        "action": action,
        "at": at,
    }
    sk = f"{at}#{mandate.reference}#{action}"
    return {**dynamo.key(day_index_pk(clock.paris_date(at)), sk), **dynamo.to_item(values)}


class MandateStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    # -- reads (strongly consistent: they decide the 409 and the 404)
    def current(self, tenant_number: str) -> Mandate | None:
        """The tenancy's current mandate, whatever its status (``rejected`` and ``revoked`` too)."""
        item = dynamo.get(self.table, current_key(tenant_number))
        return mandate_from_values(dynamo.from_item(item)) if item else None

    def get(self, tenant_number: str, reference: str) -> Mandate | None:
        """A mandate of this tenancy by its reference, current or earlier."""
        found = self.current(tenant_number)
        if found is not None and found.reference == reference:
            return found
        item = dynamo.get(self.table, earlier_key(tenant_number, reference))
        return mandate_from_values(dynamo.from_item(item)) if item else None

    def all(self, tenant_number: str) -> list[Mandate]:
        """Every mandate of the tenancy, the current one included, newest first."""
        return [mandate for _sk, mandate in self._stored(tenant_number)]

    def _stored(self, tenant_number: str) -> list[tuple[str, Mandate]]:
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues={":pk": _s(tenancy_pk(tenant_number)), ":m": _s(CURRENT)},
            ConsistentRead=True,
        )
        found = [(str(i["sk"]["S"]), mandate_from_values(dynamo.from_item(i))) for i in items]
        return sorted(found, key=lambda pair: pair[1].sequence, reverse=True)

    def export_entries(self, day: str) -> list[ExportEntry]:
        """The export's lines of this Paris day, in the order they happened."""
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _s(day_index_pk(day))},
            ConsistentRead=True,
        )
        return [export_entry_from_values(dynamo.from_item(i)) for i in items]

    # -- the signature: one transaction
    def sign_items(self, mandate: Mandate, *, previous: Mandate | None, document: Document | None) -> list[Write]:
        """The new current mandate (on condition the tenancy's mandate is still ``previous``:
        :class:`DirectDebitExists` otherwise), ``previous`` kept as an earlier mandate, the
        export's ``create`` line, and the mandate's document index item."""
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                **current_key(mandate.tenant_number),
                **dynamo.to_item({**_values(mandate), "status_changed_at": mandate.signed_at}),
            },
        }
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#r = :ref AND #s = :status"
            put["ExpressionAttributeNames"] = NAMES
            put["ExpressionAttributeValues"] = {":ref": _s(previous.reference), ":status": _s(previous.status)}
        writes = [dynamo.write("mandate", {"Put": put}, fails_with=DirectDebitExists)]
        if previous is not None:
            kept = {
                "TableName": self.table,
                "Item": {
                    **earlier_key(previous.tenant_number, previous.reference),
                    **dynamo.to_item(_values(previous)),
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            writes.append(dynamo.write("earlier mandate", {"Put": kept}))
        index = {"TableName": self.table, "Item": _entry(mandate, CREATE, mandate.signed_at)}
        writes.append(dynamo.write("mandate day index", {"Put": index}))
        if document is not None:
            listed = {"TableName": self.table, "Item": document_item(document)}
            writes.append(dynamo.write("mandate document", {"Put": listed}))
        return writes

    # -- the revocation request: one transaction
    def revoke_items(self, mandate: Mandate, *, at: str) -> list[Write]:
        """``pending`` or ``active`` → ``revocation_pending`` (:class:`NotFound` if it no longer
        is, or is no longer the tenancy's mandate) and the export's ``revoke`` line."""
        revocable, values = status_in(REVOCABLE)
        update = {
            "TableName": self.table,
            "Key": current_key(mandate.tenant_number),
            "UpdateExpression": "SET #s = :new, status_changed_at = :at, revocation_requested_at = :at",
            "ConditionExpression": f"#r = :ref AND {revocable}",
            "ExpressionAttributeNames": NAMES,
            "ExpressionAttributeValues": {
                ":new": _s(REVOCATION_PENDING),
                ":at": _s(at),
                ":ref": _s(mandate.reference),
                **values,
            },
        }
        index = {"TableName": self.table, "Item": _entry(mandate, REVOKE, at)}
        return [
            dynamo.write("mandate revocation", {"Update": update}, fails_with=NotFound),
            dynamo.write("mandate day index", {"Put": index}),
        ]

    # -- the office's report
    def set_status(
        self,
        tenant_number: str,
        reference: str,
        status: str,
        *,
        allowed_from: set[str] | frozenset[str],
        at: str | None = None,
    ) -> Mandate | None:
        """The tenancy's current mandate ``reference`` → ``status`` if its status is in
        ``allowed_from``; the mandate as changed, or None (unknown, no longer current, or in
        another status: nothing changed)."""
        if not allowed_from:
            return None
        allowed, values = status_in(allowed_from)
        changed = dynamo.update_if(
            TableName=self.table,
            Key=current_key(tenant_number),
            UpdateExpression="SET #s = :new, status_changed_at = :at",
            ConditionExpression=f"#r = :ref AND {allowed}",
            ExpressionAttributeNames=NAMES,
            ExpressionAttributeValues={
                ":new": _s(status),
                ":at": _s(at or clock.iso_instant()),
                ":ref": _s(reference),
                **values,
            },
            ReturnValues="ALL_NEW",
        )
        return mandate_from_values(dynamo.from_item(changed)) if changed else None

    # -- account deletion: the mandates stay, the signer's link goes
    def unlink_signer_items(self, tenant_number: str, account_id: str) -> list[Write]:
        """Forget ``account_id`` as the signer of the tenancy's mandates (current and earlier),
        on condition it still is (else the transaction is lost: read again)."""
        writes = []
        for sk, mandate in self._stored(tenant_number):
            if mandate.signed_by != account_id:
                continue
            update = {
                "TableName": self.table,
                "Key": dynamo.key(tenancy_pk(tenant_number), sk),
                "UpdateExpression": "REMOVE signed_by",
                "ConditionExpression": "signed_by = :a AND #r = :ref",
                "ExpressionAttributeNames": {"#r": "reference"},
                "ExpressionAttributeValues": {":a": _s(account_id), ":ref": _s(mandate.reference)},
            }
            writes.append(dynamo.write("mandate signer", {"Update": update}))
        return writes

    # -- seeding and tests
    def put(self, mandate: Mandate) -> None:
        """Store a mandate as the tenancy's current one, as it is (seeding and tests)."""
        dynamo.put_if(
            TableName=self.table,
            Item={**current_key(mandate.tenant_number), **dynamo.to_item(_values(mandate))},
        )


mandate_store: Provider[MandateStore] = Provider(MandateStore)
