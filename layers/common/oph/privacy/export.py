"""GDPR export (articles 15 and 20): everything held about the caller, as one JSON document.

Only the caller's own data: their account (all attributes except the password hash), their
own holder record, their tenancy, preferences and consents with dates, the phones registered
for push notifications (platform and date, never the token), the tenancy's documents, the
payments they made, and the direct debit: the tenancy's mandate as the app shows it
(co-holders share it, contract section 8) and every mandate the caller signed, with the IBAN
masked (its ciphertext is never exported). Every read is keyed by the caller's own tenant number
or account id, so nothing of another tenant can be reached; co-holders of the same tenancy
appear nowhere (their holder records are not read, their payments are filtered out).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from oph.accounts.account_store import account_store
from oph.accounts.devices import account_devices
from oph.accounts.model import Account
from oph.accounts.profile import get_holder, get_preferences, live_pending_email
from oph.documents.model import PAYMENT_RECEIPT, sort_newest_first
from oph.documents.store import document_store
from oph.payments.balance import get_balance
from oph.payments.mandate import Mandate, mandate_api
from oph.payments.mandate_store import mandate_store
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.errors import Unauthorized
from oph.tenancy.store import tenancy_store

FILENAME = "mes-donnees.json"
# Never exported: key attributes, secrets, and anything derived from them.
_HIDDEN = re.compile(r"(?i)^(pk|sk|gsi\w*)$|hash|secret|signature|token|idempotency|vads_|checkout")
# Epoch-second attributes shown as instants for a human reader.
_EPOCH_FIELDS = frozenset({"pending_expires_at", "pending_email_expires_at", "expires_at"})


def _instant(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return clock.iso_instant(datetime.fromtimestamp(value, tz=UTC))
    return value


def _public(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (_instant(value) if key in _EPOCH_FIELDS else value)
        for key, value in sorted(values.items())
        if not _HIDDEN.search(key)
    }


def _account_attributes(account: Account) -> dict[str, Any]:
    stored = account_store().attributes(account.account_id)
    if stored is None:
        raise Unauthorized()
    values = _public(stored)
    values.pop("session_generation", None)  # an internal counter, not information about the person
    values["pending_email"] = live_pending_email(account)
    if values["pending_email"] is None:
        values.pop("pending_email_expires_at", None)
    return values


def _tenancy_payments(account: Account) -> tuple[list[dict[str, Any]], set[str]]:
    """(the caller's payments, ids of the tenancy's payments made by a co-holder)."""
    mine: list[dict[str, Any]] = []
    others: set[str] = set()
    for payment in payment_store().for_tenancy(account.tenant_number):
        if (payment.account_id or account.account_id) != account.account_id:
            # A co-holder's payment is theirs, not the caller's.
            others |= {i for i in (payment.payment_id, payment.receipt_doc_id) if i}
            continue
        mine.append(_public({k: v for k, v in asdict(payment).items() if v is not None}))
    return sorted(mine, key=lambda p: str(p.get("created_at", "")), reverse=True), others


def _documents(account: Account, others_payments: set[str]) -> list[dict[str, Any]]:
    """The tenancy's notices and receipts, and the payment receipts of the caller's own payments."""
    listed = []
    for document in sort_newest_first(document_store().list(account.tenant_number)):
        extra = document.extra or {}
        if extra.get("account_id") not in (None, account.account_id):
            continue
        if document.type == PAYMENT_RECEIPT and (
            document.doc_id in others_payments or str(extra.get("payment_id", "")) in others_payments
        ):
            continue
        listed.append({**document.as_api(), "filename": document.filename, "created_at": document.created_at or None})
    return listed


def _consents(account: Account) -> list[dict[str, Any]]:
    preferences = get_preferences(account)
    changed_at = account.preferences_changed_at or {}
    consents: list[dict[str, Any]] = [
        {
            "type": "terms_of_use",
            "description": "Conditions générales d'utilisation de l'espace locataire",
            "version": account.terms_version or None,
            "accepted_at": account.terms_accepted_at or None,
        },
        {
            "type": "receipts_by_email",
            "description": "Envoi des quittances par e-mail (consentement à la remise électronique)",
            "given": preferences["receipts_by_email"],
            "changed_at": changed_at.get("receipts_by_email"),
        },
        {
            "type": "notice_emails",
            "description": "E-mail à la publication d'un nouvel avis d'échéance",
            "given": preferences["notice_emails"],
            "changed_at": changed_at.get("notice_emails"),
        },
        {
            "type": "push_notices",
            "description": "Notification sur le téléphone à la publication d'un nouvel avis d'échéance",
            "given": preferences["push_notices"],
            "changed_at": changed_at.get("push_notices"),
        },
        {
            "type": "push_payments",
            "description": "Notification sur le téléphone du résultat d'un paiement et du prélèvement automatique",
            "given": preferences["push_payments"],
            "changed_at": changed_at.get("push_payments"),
        },
    ]
    return consents


def _signed_mandate(mandate: Mandate) -> dict[str, Any]:
    return {
        "mandate_reference": mandate.reference,
        "status": mandate.status,  # as recorded: "rejected" too (the app then shows none)
        "account_holder": mandate.account_holder,
        "iban_masked": mandate.iban_masked,
        "debit_day": mandate.debit_day,
        "signed_at": mandate.signed_at,
        "document_id": mandate.document_id,
    }


def _direct_debit(account: Account) -> dict[str, Any]:
    """The tenancy's mandate as ``GET /v1/payments/direct-debit`` shows it, and the mandates
    the caller signed (newest first)."""
    mandates = mandate_store().all(account.tenant_number)  # newest first: the current one leads
    return {
        "current": mandate_api(mandates[0] if mandates else None),
        "signed_by_you": [_signed_mandate(m) for m in mandates if m.signed_by == account.account_id],
    }


def export_personal_data(account: Account) -> dict[str, Any]:
    holder = get_holder(account)
    tenancy = tenancy_store().get_tenancy(account.tenant_number)
    payments, others_payments = _tenancy_payments(account)
    return {
        "generated_at": clock.iso_instant(),
        "controller": "Office Public de l'Habitat d'Aubervilliers",
        "account": _account_attributes(account),
        "holder": (
            {
                "tenant_number": holder.tenant_number,
                "last_name": holder.last_name,
                "first_name": holder.first_name,
                "birth_date": holder.birth_date,
            }
            if holder
            else None
        ),
        "tenancy": (
            {
                "tenant_number": tenancy.tenant_number,
                "contract_number": tenancy.contract_number,
                "third_party_number": tenancy.third_party_number,
                "address": tenancy.address(),
                # The figures of GET /v1/payments/balance: one function computes what a tenant sees.
                "balance": get_balance(account.tenant_number),
            }
            if tenancy
            else None
        ),
        "preferences": {
            **get_preferences(account),
            "changed_at": dict(account.preferences_changed_at or {}),
        },
        "consents": _consents(account),
        # The phones that receive push notifications: never their token (a credential of the app).
        "devices": [
            {"platform": d.platform, "registered_at": d.registered_at} for d in account_devices(account.account_id)
        ],
        "documents": _documents(account, others_payments),
        "payments": payments,
        "direct_debit": _direct_debit(account),
    }
