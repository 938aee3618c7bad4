"""The office's answers about SEPA mandates (contract section 8): the payments side of the
``imports/mandates`` import (:mod:`oph.imports.mandates`), whose
:class:`~oph.imports.mandates.MandateRegister` port :class:`MandateAnswers` is.

The office answers ``active`` (taken on), ``revoked`` (stopped) or ``rejected`` (refused by the
bank). Which status may take which answer is the mandate's lifecycle
(:data:`oph.payments.mandate.OFFICE_TRANSITIONS`), and recording it (the conditional status
change, the metric, the rejected mandate's e-mail to its signer) is
:func:`oph.payments.direct_debit.record_office_status`. This module adds what the import's
report needs: WHY a row is not applied, in French, and which answers are no change at all:

- an answer the mandate already has is accepted and changes nothing (the same file twice
  changes nothing, and sends no second e-mail);
- ``active`` for a mandate whose revocation is under way (the office took on the day's
  ``create`` while the holder had already asked to stop) is accepted and changes nothing: the
  ``revoke`` line of the export is on its way, and the office will answer ``revoked``;
- an unknown reference, or an answer the mandate's status cannot take, is refused.

A rejected mandate goes back to ``none`` for the API (:meth:`oph.payments.mandate.Mandate.as_api`).
"""

from __future__ import annotations

from oph.payments.direct_debit import record_office_status
from oph.payments.mandate import (
    ACTIVE,
    OFFICE_TRANSITIONS,
    PENDING,
    REJECTED,
    REVOCATION_PENDING,
    REVOKED,
    Mandate,
    tenant_number_of,
)
from oph.payments.mandate_store import mandate_store

STATUS_WORDS = {
    PENDING: "en attente de mise en place",
    ACTIVE: "actif",
    REVOCATION_PENDING: "en cours de révocation",
    REVOKED: "révoqué",
    REJECTED: "rejeté par la banque",
}
CHANGED_MEANWHILE = "Le mandat {reference} a changé pendant l'import : déposez le fichier à nouveau."


def unknown(reference: str) -> str:
    return f"Mandat inconnu : « {reference} » (aucun mandat n'a cette référence unique)."


def refused(mandate: Mandate, status: str) -> str:
    """Why the mandate cannot take this answer."""
    now = STATUS_WORDS.get(mandate.status, mandate.status)
    return f"Le mandat {mandate.reference} est {now} : il ne peut pas passer au statut « {status} »."


def is_no_change(mandate: Mandate, status: str) -> bool:
    """The answer the mandate already has, or ``active`` while its revocation is under way."""
    return mandate.status == status or (status == ACTIVE and mandate.status == REVOCATION_PENDING)


class MandateAnswers:
    """The mandate register the mandates import talks to (one answer per row)."""

    def answer(self, reference: str, status: str) -> str | None:
        number = tenant_number_of(reference)
        mandate = mandate_store().get(number, reference) if number else None
        if mandate is None:
            return unknown(reference)
        if is_no_change(mandate, status):
            return None
        if mandate.status not in OFFICE_TRANSITIONS.get(status, frozenset()):
            return refused(mandate, status)
        if record_office_status(reference, status) is None:
            return CHANGED_MEANWHILE.format(reference=reference)
        return None
