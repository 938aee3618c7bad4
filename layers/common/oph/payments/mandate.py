"""SEPA direct-debit mandates ("prélèvement automatique", contract §8): the record and its
statuses. Pure values; the keys live in :mod:`oph.payments.mandate_store`.

A mandate belongs to the tenancy, not to the holder's account: co-holders see the same one,
and it outlives the account that signed it (legal retention): ``signed_by`` is the signing
account's id, set to ``None`` when that account is deleted.

Status machine (the office reports back through the ``imports/mandates`` import):
``pending`` (signed online) → ``active`` (taken on by the office) → ``revocation_pending``
(the holder asked to stop it, from ``pending`` or ``active``) → ``revoked``. The bank may
reject a ``pending`` mandate: it is then ``rejected`` and the tenancy has no mandate again
(the API says ``none``). A new mandate may be signed once the last one is ``revoked`` or
``rejected``.

The IBAN is personal banking data: a mandate holds it only masked (what a person may see)
and as the KMS ciphertext (``iban_ciphertext``), which never leaves the stores, the vault
adapter and the office's daily export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from oph.platform.errors import ApiError

NONE = "none"
PENDING = "pending"
ACTIVE = "active"
REVOCATION_PENDING = "revocation_pending"
REVOKED = "revoked"
REJECTED = "rejected"  # stored status of a mandate the bank refused; the API shows "none"

# A PUT is refused (409 direct_debit_exists) while the tenancy's mandate is in one of these.
IN_FORCE = frozenset({PENDING, ACTIVE, REVOCATION_PENDING})
# A DELETE (revocation request) is accepted only from these; otherwise 404 not_found.
REVOCABLE = frozenset({PENDING, ACTIVE})

# What the office's report (``imports/mandates``) may set, and from which statuses.
OFFICE_TRANSITIONS: dict[str, frozenset[str]] = {
    ACTIVE: frozenset({PENDING}),
    REVOKED: frozenset({REVOCATION_PENDING, ACTIVE}),
    REJECTED: frozenset({PENDING, ACTIVE}),  # refused by the bank (at once, or at the first debit)
}

DEBIT_DAYS = (5, 10, 15)

# The export's ``action`` column: a mandate to take on, or one to stop.
CREATE = "create"
REVOKE = "revoke"

REFERENCE_PREFIX = "OPH"
_REFERENCE = re.compile(r"^OPH-([0-9A-Za-z]+)-([0-9]{4})$")


class DirectDebitExists(ApiError):
    """409: the tenancy's mandate is pending, active or being revoked (contract section 8)."""

    status, code = 409, "direct_debit_exists"
    title = "Un prélèvement automatique est déjà en place ou en cours pour ce logement."


def mandate_reference(tenant_number: str, sequence: int) -> str:
    """The RUM (référence unique de mandat): "OPH-123456-0001" for the tenancy's 1st mandate."""
    return f"{REFERENCE_PREFIX}-{tenant_number}-{sequence:04d}"


def tenant_number_of(reference: str) -> str | None:
    """ "OPH-123456-0001" -> "123456"; ``None`` for anything that is not a mandate reference."""
    match = _REFERENCE.match(reference.strip())
    return match.group(1) if match else None


@dataclass(frozen=True)
class Mandate:
    tenant_number: str
    reference: str  # RUM "OPH-123456-0001" (tenant number, per-tenancy sequence of 4 digits)
    sequence: int
    status: str
    account_holder: str
    iban_masked: str
    debit_day: int  # 5, 10 or 15
    signed_at: str  # UTC instant
    signed_by: str | None  # account id (None once that account is deleted)
    document_id: str | None
    iban_ciphertext: str = ""  # never leaves the stores/adapters/export

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    def as_api(self) -> dict[str, Any]:
        """The §8 GET body. A rejected mandate is shown as no mandate at all."""
        if self.status == REJECTED:
            return no_mandate_api()
        return {
            "status": self.status,
            "iban_masked": self.iban_masked,
            "account_holder": self.account_holder,
            "debit_day": self.debit_day,
            "mandate_reference": self.reference,
            "signed_at": self.signed_at,
            "document_id": self.document_id,
        }


def no_mandate_api() -> dict[str, Any]:
    """The §8 GET body of a tenancy without a mandate: status ``none``, every other field null."""
    return {
        "status": NONE,
        "iban_masked": None,
        "account_holder": None,
        "debit_day": None,
        "mandate_reference": None,
        "signed_at": None,
        "document_id": None,
    }


def mandate_api(mandate: Mandate | None) -> dict[str, Any]:
    return mandate.as_api() if mandate is not None else no_mandate_api()


@dataclass(frozen=True)
class ExportEntry:
    """One line of the office's daily export (``exports/direct-debit/<day>.csv``), from the
    day index written in the same transaction as the signature (``create``) or the
    revocation request (``revoke``). ``iban_ciphertext`` is decrypted only by the export job."""

    mandate_reference: str
    tenant_number: str
    account_holder: str
    iban_ciphertext: str
    debit_day: int
    signed_at: str
    action: str  # CREATE or REVOKE
