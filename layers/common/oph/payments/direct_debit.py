"""Direct debit ("prélèvement automatique SEPA", contract section 8): the tenancy's mandate,
signed and revoked in the app, taken on and reported back by the office.

Checks in the contract's order (section 1): every failing field first (422, all listed), then
the login lock (429) and the current password (403) through
:func:`oph.accounts.profile.verify_current_password`, then the mandate's own rules (404, 409).

Signing (``PUT``): the IBAN is encrypted with KMS (bound to the tenancy and the new mandate
reference) and the mandate PDF is drawn and stored BEFORE anything is written to the table;
then ONE transaction writes the mandate (on condition the tenancy's mandate is still the one
read: two co-holders signing at once give one mandate and one 409), keeps the mandate it
replaces, adds the export's ``create`` line and lists the document. So a failure of KMS, S3
or DynamoDB leaves nothing a tenant or the office can see (a 503, and the retry signs); the
PDF exists when the 201 is answered. The confirmation e-mail comes after the commit, best
effort: its failure is logged and the mandate stays.

The mandate's PDF is stored under a key of its own attempt (the document's id stays the one
:func:`oph.payments.mandate_document.mandate_doc_id` derives from the reference): two
co-holders racing for the same reference draw two PDFs, and the loser's must not overwrite
the winner's. The loser's PDF is left unlisted under the tenancy's own prefix (it shows the
IBAN masked only) and no download URL is ever signed for it.

The full IBAN is never returned, e-mailed, logged or counted: the mandate holds it masked and
as its ciphertext only.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import replace
from typing import Any

from oph.accounts import push
from oph.accounts.account_store import account_store
from oph.accounts.model import Account
from oph.accounts.profile import send_best_effort, verify_current_password
from oph.documents.model import Document
from oph.documents.store import document_store
from oph.payments import iban as ibans
from oph.payments.adapters.iban_vault import iban_vault, mandate_context
from oph.payments.mails import mandate_confirmation_email, mandate_rejected_email, mandate_revocation_email
from oph.payments.mandate import (
    DEBIT_DAYS,
    OFFICE_TRANSITIONS,
    PENDING,
    REJECTED,
    REVOCABLE,
    REVOCATION_PENDING,
    DirectDebitExists,
    Mandate,
    mandate_api,
    mandate_reference,
    tenant_number_of,
)
from oph.payments.mandate_document import mandate_doc_id, mandate_document
from oph.payments.mandate_store import mandate_store
from oph.platform import clock
from oph.platform.errors import FieldErrors, NotFound, ServiceUnavailable, ValidationFailed
from oph.platform.observability import count
from oph.platform.transaction import RaceLost, Transaction
from oph.tenancy.model import normalize_tenant_number
from oph.tenancy.store import tenancy_store

ACCOUNT_HOLDER_MAX = 70  # the SEPA debtor name field (pain.008 Nm: 70 characters)
IBAN_INVALID = "L'IBAN n'est pas valide : vérifiez le pays (zone SEPA), le nombre de caractères et la clé de contrôle."
DEBIT_DAY_INVALID = "Le jour de prélèvement doit être le 5, le 10 ou le 15 du mois."
HOLDER_INVALID = (
    f"Le nom du titulaire du compte doit faire au plus {ACCOUNT_HOLDER_MAX} caractères, sans caractère de contrôle."
)


# ---------------------------------------------------------------- the form
def clean_account_holder(value: str) -> str:
    """The account holder's name as typed, its spaces collapsed ("DUPOND  Jean " -> "DUPOND Jean")."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def is_debit_day(value: Any) -> bool:
    return type(value) is int and value in DEBIT_DAYS  # a JSON 5.0, "5" or true is not a day


def mandate_form_problems(
    *, iban: str, account_holder: str, debit_day: Any, accept_mandate: Any, current_password: str
) -> FieldErrors:
    """Every failing field of ``PUT /v1/payments/direct-debit`` at once (the 422 lists them all)."""
    problems = FieldErrors()
    if not ibans.compact(iban):
        problems.add("iban", "required")
    elif not ibans.is_valid_iban(iban):
        problems.add("iban", "invalid_format", IBAN_INVALID)
    holder = clean_account_holder(account_holder)
    if not holder:
        problems.add("account_holder", "required")
    elif len(holder) > ACCOUNT_HOLDER_MAX or any(unicodedata.category(c).startswith("C") for c in holder):
        problems.add("account_holder", "invalid_format", HOLDER_INVALID)
    if not is_debit_day(debit_day):
        problems.add("debit_day", "invalid_format", DEBIT_DAY_INVALID)
    if accept_mandate is not True:
        problems.add("accept_mandate", "mandate_not_accepted")  # the message of FIELD_MESSAGES
    if not current_password:
        problems.add("current_password", "required")
    return problems


# ---------------------------------------------------------------- reading
def get_direct_debit(tenant_number: str) -> dict[str, Any]:
    """``GET /v1/payments/direct-debit``: the tenancy's mandate, the same for every co-holder."""
    return mandate_api(mandate_store().current(tenant_number))


# ---------------------------------------------------------------- signing
def sign_mandate(
    account: Account, *, iban: str, account_holder: str, debit_day: Any, accept_mandate: Any, current_password: str
) -> dict[str, Any]:
    """``PUT``: the new ``pending`` mandate (the 201 body)."""
    mandate_form_problems(
        iban=iban,
        account_holder=account_holder,
        debit_day=debit_day,
        accept_mandate=accept_mandate,
        current_password=current_password,
    ).raise_if_any()
    verify_current_password(account, current_password)
    store = mandate_store()
    previous = store.current(account.tenant_number)
    if previous is not None and previous.in_force:
        raise DirectDebitExists()
    mandate = _new_mandate(account, previous, iban, clean_account_holder(account_holder), debit_day)
    document = _stored_document(account, mandate)
    try:
        Transaction(store.sign_items(mandate, previous=previous, document=document)).commit()
    except RaceLost:
        raise ServiceUnavailable() from None
    count("MandatesSigned")
    send_best_effort(mandate_confirmation_email(mandate, account), "mandate_signed")
    return mandate.as_api()


def _new_mandate(account: Account, previous: Mandate | None, iban: str, holder: str, debit_day: int) -> Mandate:
    number = normalize_tenant_number(account.tenant_number)
    sequence = (previous.sequence if previous is not None else 0) + 1
    reference = mandate_reference(number, sequence)
    ciphertext = iban_vault().encrypt(iban, context=mandate_context(number, reference))
    return Mandate(
        tenant_number=number,
        reference=reference,
        sequence=sequence,
        status=PENDING,
        account_holder=holder,
        iban_masked=ibans.masked(iban),
        debit_day=debit_day,
        signed_at=clock.iso_instant(),
        signed_by=account.account_id,
        document_id=mandate_doc_id(number, reference),
        iban_ciphertext=ciphertext,
    )


def _stored_document(account: Account, mandate: Mandate) -> Document:
    """The mandate's PDF drawn and stored under a key of this attempt; its index item is
    written by the signature's transaction."""
    tenancy, holder = tenancy_store().get_tenancy_and_holder(mandate.tenant_number, account.holder_id)
    document, pdf = mandate_document(mandate, holder, tenancy)
    stem = document.s3_key.removesuffix(".pdf")
    document = replace(document, s3_key=f"{stem}-{uuid.uuid4().hex[:12]}.pdf")
    document_store().put_pdf(document, pdf)
    return document


# ---------------------------------------------------------------- revoking
def revoke_mandate(account: Account, current_password: str) -> dict[str, Any]:
    """``DELETE``: a ``pending`` or ``active`` mandate → ``revocation_pending`` (the 200 body)."""
    if not current_password:
        raise ValidationFailed.single("current_password", "required")
    verify_current_password(account, current_password)
    store = mandate_store()
    mandate = store.current(account.tenant_number)
    if mandate is None or mandate.status not in REVOCABLE:
        raise NotFound()
    requested_at = clock.iso_instant()
    try:
        # NotFound when revoked or replaced meanwhile (a double tap: the second is a 404).
        Transaction(store.revoke_items(mandate, at=requested_at)).commit()
    except RaceLost:
        raise ServiceUnavailable() from None
    revoked = replace(mandate, status=REVOCATION_PENDING)
    count("MandateRevocationsRequested")
    send_best_effort(
        mandate_revocation_email(revoked, account, requested_at=requested_at, by_you=True), "mandate_revoked"
    )
    signer = _signer(revoked)
    if signer is not None and signer.account_id != account.account_id:
        # The debtor's bank account is the signer's: they are told a co-holder stopped it.
        send_best_effort(
            mandate_revocation_email(revoked, signer, requested_at=requested_at, by_you=False), "mandate_revoked"
        )
    return revoked.as_api()


def _signer(mandate: Mandate) -> Account | None:
    """The account that signed the mandate, while it exists and is active (None once deleted)."""
    if not mandate.signed_by:
        return None
    signer = account_store().get(mandate.signed_by)
    if signer is None or not signer.in_service:
        return None
    return signer


# ---------------------------------------------------------------- the office's report
def record_office_status(reference: str, status: str) -> Mandate | None:
    """One line of the office's report (``imports/mandates``): ``active``, ``revoked`` or
    ``rejected`` applied to the mandate ``reference`` if its status allows it
    (:data:`oph.payments.mandate.OFFICE_TRANSITIONS`); the mandate as changed, or None when
    nothing changed (unknown reference, no longer the tenancy's mandate, or a status that does
    not allow it: a replayed report changes nothing). A rejected mandate's signer is told by
    e-mail why they must sign again (best effort: the report is not failed by the mail system).
    """
    number = tenant_number_of(reference)
    allowed = OFFICE_TRANSITIONS.get(status)
    if number is None or allowed is None:
        return None
    changed = mandate_store().set_status(number, reference, status, allowed_from=allowed, at=clock.iso_instant())
    if changed is None:
        return None
    count(f"Mandates{status.capitalize()}")
    push.notify_mandate(changed.signed_by, changed.reference, status)  # queued, never raises
    if status == REJECTED:
        signer = _signer(changed)
        if signer is not None:
            send_best_effort(mandate_rejected_email(changed, signer), "mandate_rejected")
    return changed
