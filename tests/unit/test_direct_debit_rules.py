"""Direct-debit rules against the twins (no AWS): the form's 422s, the order of the checks,
signing, the 409s, revoking, the office's report, co-holders, the race, the masking of the
IBAN everywhere, failures midway, the GDPR export and account deletion."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from oph.accounts import login_lock
from oph.accounts.model import Account
from oph.documents.model import MANDATE
from oph.payments import direct_debit
from oph.payments.adapters.iban_vault import mandate_context
from oph.payments.mails import mandate_rejected_email
from oph.payments.mandate import (
    ACTIVE,
    CREATE,
    PENDING,
    REJECTED,
    REVOCATION_PENDING,
    REVOKE,
    REVOKED,
    DirectDebitExists,
    mandate_reference,
    tenant_number_of,
)
from oph.platform import clock
from oph.platform.errors import (
    CurrentPasswordInvalid,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from oph.privacy import deletion
from oph.privacy import export as data_export
from tests.factories import PASSWORD, Tenant, make_account, make_tenant
from tests.twins.payments import PaymentsTwin, memory_payments

IBAN = "FR14 2004 1010 0505 0001 3M02 606"  # a valid IBAN that is not the office's
COMPACT = "FR1420041010050500013M02606"
MASKED = "FR14 **** **** **** **** ***2 606"
OTHER_IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
def twin() -> Iterator[PaymentsTwin]:
    clock.set_offset(0)
    with memory_payments() as twin:
        yield twin
    clock.set_offset(0)


@pytest.fixture
def tenant(twin: PaymentsTwin) -> Tenant:
    return make_tenant("123456", "DUPOND", "Jean", "1975-09-10")


@pytest.fixture
def jean(tenant: Tenant) -> Account:
    return make_account(tenant, "jean.dupond@exemple.com")


@pytest.fixture
def marie(twin: PaymentsTwin, tenant: Tenant) -> Account:
    """A co-holder of Jean's tenancy, with her own account."""
    co_holder = Tenant(make_tenant("123456", "DUPOND", "Marie", "1977-01-02").holder, tenant.tenancy)
    return make_account(co_holder, "marie.dupond@exemple.com")


def sign(account: Account, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "iban": IBAN,
        "account_holder": "DUPOND Jean",
        "debit_day": 5,
        "accept_mandate": True,
        "current_password": PASSWORD,
    }
    form.update(overrides)
    return direct_debit.sign_mandate(account, **form)


def field_codes(exc: ValidationFailed) -> dict[str, str]:
    return {e.field: e.code for e in exc.errors}


def no_full_iban(text: str) -> None:
    squeezed = "".join(text.split()).upper()
    assert COMPACT not in squeezed and "FR1420041010" not in squeezed, "a full IBAN leaked"


# -- the form: every failing field at once ---------------------------------------------------------


def test_every_failing_field_is_listed_with_its_code_and_a_french_message(twin, jean):
    with pytest.raises(ValidationFailed) as failed:
        sign(
            jean,
            iban="FR76 3000 6000 0112 3456 7890 188",
            account_holder="  ",
            debit_day=7,
            accept_mandate=False,
            current_password="",
        )
    assert field_codes(failed.value) == {
        "iban": "invalid_format",
        "account_holder": "required",
        "debit_day": "invalid_format",
        "accept_mandate": "mandate_not_accepted",
        "current_password": "required",
    }
    messages = {e.field: e.message for e in failed.value.errors}
    assert messages["debit_day"] == "Le jour de prélèvement doit être le 5, le 10 ou le 15 du mois."
    assert messages["accept_mandate"] == "Vous devez accepter le mandat de prélèvement SEPA pour le signer."
    assert "clé de contrôle" in messages["iban"]
    assert twin.mandates.current_mandates == {} and twin.vault.calls == []
    assert login_lock_failures(twin, jean) == 0  # the password was not looked at


def login_lock_failures(twin: PaymentsTwin, account: Account) -> int:
    from oph.accounts.login_lock_store import login_lock_store

    found = login_lock_store().get(account.email)
    return found.failures if found else 0


@pytest.mark.parametrize(
    ("iban", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("FR76 3000 6000 0112 3456 7890 18", "invalid_format"),  # one character short
        ("US64 SVBK US6S 3300 9673 8637", "invalid_format"),  # not in the SEPA zone
        ("FR76-3000-6000-0112-3456-7890-189", "invalid_format"),
        ("FR76 3000 6000 0112 3456 7890 189 0", "invalid_format"),
    ],
)
def test_iban_is_checked_per_iso_13616(twin, jean, iban, code):
    with pytest.raises(ValidationFailed) as failed:
        sign(jean, iban=iban)
    assert field_codes(failed.value) == {"iban": code}


@pytest.mark.parametrize("day", [0, 1, 6, 16, 31, 5.0, "5", True, None, [5]])
def test_the_debit_day_is_5_10_or_15_and_an_integer(twin, jean, day):
    with pytest.raises(ValidationFailed) as failed:
        sign(jean, debit_day=day)
    assert field_codes(failed.value) == {"debit_day": "invalid_format"}


@pytest.mark.parametrize("accepted", [False, None, "true", 1])
def test_the_mandate_must_be_accepted_with_true(twin, jean, accepted):
    with pytest.raises(ValidationFailed) as failed:
        sign(jean, accept_mandate=accepted)
    assert field_codes(failed.value) == {"accept_mandate": "mandate_not_accepted"}


@pytest.mark.parametrize("holder", ["A" * 71, "DUPOND\x00Jean", "DUPOND\u200bJean", "DUPOND\x1bJean"])
def test_the_account_holder_is_a_name_of_70_characters_at_most(twin, jean, holder):
    with pytest.raises(ValidationFailed) as failed:
        sign(jean, account_holder=holder)
    assert field_codes(failed.value) == {"account_holder": "invalid_format"}


def test_spaces_and_case_of_the_iban_are_ignored_and_the_name_is_tidied(twin, jean):
    body = sign(jean, iban=" fr14 2004 1010 0505 0001 3m02 606 ", account_holder="  DUPOND   Jean ", debit_day=15)
    assert (body["iban_masked"], body["account_holder"], body["debit_day"]) == (MASKED, "DUPOND Jean", 15)


# -- the order of the checks ----------------------------------------------------------------------


def lock(account: Account) -> None:
    for _ in range(login_lock.FREE_FAILURES):
        login_lock.begin_attempt(account.email)


def test_422_comes_before_the_login_lock(twin, jean):
    lock(jean)
    with pytest.raises(ValidationFailed):
        sign(jean, debit_day=3)


def test_the_login_lock_answers_429_before_looking_at_the_password(twin, jean):
    lock(jean)
    for password in (PASSWORD, "Mauvais-Passe-1"):
        with pytest.raises(TooManyRequests):
            sign(jean, current_password=password)
        with pytest.raises(TooManyRequests):
            direct_debit.revoke_mandate(jean, password)
    assert twin.mandates.current_mandates == {} and twin.vault.calls == []


def test_a_wrong_password_is_403_counts_as_a_failure_and_writes_nothing(twin, jean):
    with pytest.raises(CurrentPasswordInvalid):
        sign(jean, current_password="Mauvais-Passe-1")
    assert login_lock_failures(twin, jean) == 1
    assert twin.mandates.current_mandates == {} and twin.vault.calls == [] and twin.outbox.sent == []


def test_403_comes_before_409_and_404(twin, jean):
    sign(jean)
    with pytest.raises(CurrentPasswordInvalid):
        sign(jean, current_password="Mauvais-Passe-1")
    direct_debit.revoke_mandate(jean, PASSWORD)
    with pytest.raises(CurrentPasswordInvalid):
        direct_debit.revoke_mandate(jean, "Mauvais-Passe-1")


# -- signing --------------------------------------------------------------------------------------


def test_signing_records_a_pending_mandate_its_document_its_export_line_and_an_email(twin, jean):
    body = sign(jean)
    mandate = twin.mandates.current("123456")
    assert body == {
        "status": PENDING,
        "iban_masked": MASKED,
        "account_holder": "DUPOND Jean",
        "debit_day": 5,
        "mandate_reference": "OPH-123456-0001",
        "signed_at": mandate.signed_at,
        "document_id": mandate.document_id,
    }
    assert direct_debit.get_direct_debit("00123456") == body
    assert mandate.signed_by == jean.account_id and mandate.sequence == 1
    # The IBAN is held only as its ciphertext, bound to this mandate.
    assert COMPACT not in mandate.iban_ciphertext
    context = mandate_context("123456", "OPH-123456-0001")
    assert twin.vault.decrypt(mandate.iban_ciphertext, context=context) == COMPACT
    # The PDF exists and is listed as a mandate.
    [document] = twin.documents.list("123456")
    assert (document.doc_id, document.type, document.filename) == (
        mandate.document_id,
        MANDATE,
        "mandat-sepa-OPH-123456-0001.pdf",
    )
    assert twin.documents.pdfs[document.s3_key].startswith(b"%PDF")
    # The export's line, on the Paris day of the signature.
    [line] = twin.mandates.export_entries(clock.paris_date(mandate.signed_at))
    assert (line.mandate_reference, line.action, line.iban_ciphertext) == (
        "OPH-123456-0001",
        CREATE,
        mandate.iban_ciphertext,
    )
    [email] = twin.outbox.to(jean.email)
    assert email.subject == "Votre mandat de prélèvement automatique est enregistré"
    assert email.text.startswith("Bonjour Jean DUPOND,")
    assert MASKED in email.text and "OPH-123456-0001" in email.text and "le 5 de chaque mois" in email.text
    no_full_iban(email.text + email.html)
    no_full_iban(json.dumps(body))


@pytest.mark.parametrize("status", [PENDING, ACTIVE, REVOCATION_PENDING])
def test_a_mandate_pending_active_or_being_revoked_is_409(twin, jean, status):
    sign(jean)
    twin.mandates.put(replace(twin.mandates.current("123456"), status=status))
    with pytest.raises(DirectDebitExists) as exists:
        sign(jean, iban=OTHER_IBAN)
    assert (exists.value.status, exists.value.code) == (409, "direct_debit_exists")
    assert twin.mandates.current("123456").iban_masked == MASKED and len(twin.documents.list("123456")) == 1


@pytest.mark.parametrize("last", [REVOKED, REJECTED])
def test_after_a_revoked_or_rejected_mandate_a_new_one_gets_the_next_reference(twin, jean, last):
    first = sign(jean)
    twin.mandates.set_status("123456", first["mandate_reference"], last, allowed_from={PENDING})
    second = sign(jean, iban=OTHER_IBAN, debit_day=10)
    assert (second["mandate_reference"], second["status"], second["debit_day"]) == ("OPH-123456-0002", PENDING, 10)
    assert [m.reference for m in twin.mandates.all("123456")] == ["OPH-123456-0002", "OPH-123456-0001"]
    assert twin.mandates.get("123456", "OPH-123456-0001").status == last  # kept
    assert len(twin.documents.list("123456")) == 2


def test_co_holders_see_one_mandate_and_the_second_to_sign_gets_409(twin, jean, marie):
    body = sign(jean)
    assert direct_debit.get_direct_debit(marie.tenant_number) == body
    with pytest.raises(DirectDebitExists):
        sign(marie, iban=OTHER_IBAN, account_holder="DUPOND Marie")


def test_two_co_holders_signing_at_once_make_one_mandate(twin, jean, marie, monkeypatch):
    """Both read "no mandate" before either writes: the conditional write lets one win."""
    reads: list[Any] = []
    real_current = twin.mandates.current

    def stale(tenant_number: str) -> Any:
        reads.append(tenant_number)
        return None if len(reads) <= 2 else real_current(tenant_number)

    monkeypatch.setattr(twin.mandates, "current", stale)
    won = sign(jean)
    with pytest.raises(DirectDebitExists):
        sign(marie, iban=OTHER_IBAN, account_holder="DUPOND Marie")
    assert real_current("123456").reference == won["mandate_reference"] == "OPH-123456-0001"
    assert real_current("123456").signed_by == jean.account_id
    assert len(twin.documents.list("123456")) == 1
    assert len(twin.mandates.export_entries(clock.paris_date(won["signed_at"]))) == 1
    assert twin.outbox.to(marie.email) == []
    # The loser's PDF never replaced the winner's: each attempt has its own key.
    [listed] = twin.documents.list("123456")
    assert len(twin.documents.pdfs) == 2 and listed.s3_key in twin.documents.pdfs


def test_rum_format_and_parsing():
    assert mandate_reference("123456", 12) == "OPH-123456-0012"
    assert tenant_number_of("OPH-123456-0012") == "123456"
    for bad in ("OPH-123456-12", "XYZ-123456-0001", "OPH--0001", "OPH-123456-0001-2", ""):
        assert tenant_number_of(bad) is None


# -- failures midway ------------------------------------------------------------------------------


def test_kms_failing_is_503_and_writes_nothing(twin, jean):
    twin.vault.fail_next = 1
    with pytest.raises(ServiceUnavailable):
        sign(jean)
    assert twin.mandates.current_mandates == {} and twin.mandates.day_index == {}
    assert twin.documents.documents == {} and twin.documents.pdfs == {} and twin.outbox.sent == []
    assert sign(jean)["status"] == PENDING  # the retry signs


def test_the_pdf_store_failing_is_503_and_writes_nothing(twin, jean, monkeypatch):
    def down(*_args: Any) -> None:
        raise ServiceUnavailable()

    monkeypatch.setattr(twin.documents, "put_pdf", down)
    with pytest.raises(ServiceUnavailable):
        sign(jean)
    assert twin.mandates.current_mandates == {} and twin.mandates.day_index == {} and twin.documents.documents == {}


def test_the_mail_failing_keeps_the_mandate(twin, jean, monkeypatch):
    def down(_email: Any) -> None:
        raise ServiceUnavailable()

    monkeypatch.setattr(twin.outbox, "send", down)
    assert sign(jean)["status"] == PENDING
    assert twin.mandates.current("123456").status == PENDING


# -- revoking -------------------------------------------------------------------------------------


def test_revoking_needs_a_password_and_a_pending_or_active_mandate(twin, jean):
    with pytest.raises(ValidationFailed) as failed:
        direct_debit.revoke_mandate(jean, "")
    assert field_codes(failed.value) == {"current_password": "required"}
    with pytest.raises(NotFound):
        direct_debit.revoke_mandate(jean, PASSWORD)  # none


@pytest.mark.parametrize("status", [PENDING, ACTIVE])
def test_revoking_a_pending_or_active_mandate(twin, jean, status):
    signed = sign(jean)
    twin.mandates.set_status("123456", signed["mandate_reference"], status, allowed_from={PENDING})
    body = direct_debit.revoke_mandate(jean, PASSWORD)
    assert body == {**signed, "status": REVOCATION_PENDING}
    assert direct_debit.get_direct_debit("123456") == body
    day = clock.paris_date(clock.iso_instant())
    assert [e.action for e in twin.mandates.export_entries(day)] == [CREATE, REVOKE]
    email = twin.outbox.to(jean.email)[-1]
    assert email.subject == "Votre demande d'arrêt du prélèvement automatique"
    assert "Vous avez demandé" in email.text and MASKED in email.text
    no_full_iban(email.text + email.html)
    with pytest.raises(NotFound):
        direct_debit.revoke_mandate(jean, PASSWORD)  # already revocation_pending
    with pytest.raises(DirectDebitExists):
        sign(jean)  # a PUT while revocation_pending


@pytest.mark.parametrize("last", [REVOKED, REJECTED])
def test_a_revoked_or_rejected_mandate_cannot_be_revoked(twin, jean, last):
    signed = sign(jean)
    twin.mandates.set_status("123456", signed["mandate_reference"], last, allowed_from={PENDING})
    with pytest.raises(NotFound):
        direct_debit.revoke_mandate(jean, PASSWORD)


def test_a_co_holder_revoking_tells_the_signer_too(twin, jean, marie):
    sign(jean)
    direct_debit.revoke_mandate(marie, PASSWORD)
    assert "Vous avez demandé" in twin.outbox.to(marie.email)[-1].text
    told = twin.outbox.to(jean.email)[-1]
    assert "Un cotitulaire de votre bail a demandé" in told.text


# -- the office's report --------------------------------------------------------------------------


def test_the_office_takes_a_mandate_on_then_revokes_it(twin, jean):
    reference = sign(jean)["mandate_reference"]
    assert direct_debit.record_office_status(reference, ACTIVE).status == ACTIVE
    assert direct_debit.record_office_status(reference, ACTIVE) is None  # replayed: nothing changes
    assert direct_debit.get_direct_debit("123456")["status"] == ACTIVE
    direct_debit.revoke_mandate(jean, PASSWORD)
    assert direct_debit.record_office_status(reference, REVOKED).status == REVOKED
    assert direct_debit.get_direct_debit("123456")["status"] == REVOKED
    assert direct_debit.record_office_status(reference, ACTIVE) is None  # revoked is final


def test_the_office_may_revoke_an_active_mandate_directly(twin, jean):
    reference = sign(jean)["mandate_reference"]
    direct_debit.record_office_status(reference, ACTIVE)
    assert direct_debit.record_office_status(reference, REVOKED).status == REVOKED


def test_a_rejected_mandate_is_no_mandate_and_the_signer_is_told_why(twin, jean, marie):
    reference = sign(jean)["mandate_reference"]
    assert direct_debit.record_office_status(reference, REJECTED).status == REJECTED
    none = dict.fromkeys(
        ("iban_masked", "account_holder", "debit_day", "mandate_reference", "signed_at", "document_id")
    )
    assert direct_debit.get_direct_debit("123456") == {"status": "none", **none}
    email = twin.outbox.to(jean.email)[-1]
    assert email.subject == "Votre prélèvement automatique n'a pas pu être mis en place"
    assert "signez un nouveau mandat" in email.text and MASKED in email.text and reference in email.text
    no_full_iban(email.text + email.html)
    assert twin.outbox.to(marie.email) == []
    assert sign(marie, iban=OTHER_IBAN)["mandate_reference"] == "OPH-123456-0002"


@pytest.mark.parametrize(
    ("reference", "status"),
    [("OPH-999999-0001", ACTIVE), ("OPH-123456-0002", ACTIVE), ("n'importe quoi", ACTIVE), (None, "unknown")],
)
def test_an_unknown_reference_or_status_changes_nothing(twin, jean, reference, status):
    signed = sign(jean)
    assert direct_debit.record_office_status(reference or signed["mandate_reference"], status) is None
    assert direct_debit.get_direct_debit("123456") == signed


def test_a_mandate_being_revoked_cannot_be_rejected_or_taken_on(twin, jean):
    reference = sign(jean)["mandate_reference"]
    direct_debit.revoke_mandate(jean, PASSWORD)
    assert direct_debit.record_office_status(reference, REJECTED) is None
    assert direct_debit.record_office_status(reference, ACTIVE) is None


# -- the day of the export ------------------------------------------------------------------------


def at(instant: str) -> None:
    target = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    clock.set_offset(target - time.time())


def test_a_mandate_signed_at_23_59_59_paris_time_is_in_that_days_export(twin, jean):
    at("2019-05-28T21:59:59Z")  # 23:59:59 in Paris (summer time)
    signed = sign(jean)
    assert [e.mandate_reference for e in twin.mandates.export_entries("2019-05-28")] == [signed["mandate_reference"]]
    assert twin.mandates.export_entries("2019-05-29") == []
    at("2019-05-28T22:00:01Z")  # already the 29th in Paris
    direct_debit.revoke_mandate(jean, PASSWORD)
    assert [e.action for e in twin.mandates.export_entries("2019-05-29")] == [REVOKE]


# -- the GDPR export and account deletion ---------------------------------------------------------


def test_the_gdpr_export_has_the_mandate_with_the_iban_masked(twin, jean, marie):
    signed = sign(jean)
    exported = data_export.export_personal_data(jean)
    assert exported["direct_debit"]["current"] == signed
    [mine] = exported["direct_debit"]["signed_by_you"]
    assert (mine["mandate_reference"], mine["iban_masked"], mine["status"]) == ("OPH-123456-0001", MASKED, PENDING)
    text = json.dumps(exported, ensure_ascii=False)
    no_full_iban(text)
    assert "ciphertext" not in text and twin.mandates.current("123456").iban_ciphertext not in text
    theirs = data_export.export_personal_data(marie)["direct_debit"]
    assert theirs == {"current": signed, "signed_by_you": []}  # the co-holder sees the tenancy's mandate only


def test_deleting_the_account_keeps_the_mandate_but_forgets_its_signer(twin, jean, marie):
    first = sign(jean)
    direct_debit.record_office_status(first["mandate_reference"], REJECTED)
    second = sign(jean)
    deletion.delete_account(jean, PASSWORD)
    assert twin.accounts.get(jean.account_id) is None
    assert [(m.reference, m.signed_by) for m in twin.mandates.all("123456")] == [
        ("OPH-123456-0002", None),
        ("OPH-123456-0001", None),
    ]
    assert direct_debit.get_direct_debit(marie.tenant_number) == second  # the tenancy's mandate stays
    direct_debit.revoke_mandate(marie, PASSWORD)  # nobody else to tell
    assert twin.outbox.to(jean.email)[-1].subject != "Votre demande d'arrêt du prélèvement automatique"


def test_a_wrong_password_deletes_nothing_and_unlinks_nothing(twin, jean):
    sign(jean)
    with pytest.raises(CurrentPasswordInvalid):
        deletion.delete_account(jean, "Mauvais-Passe-1")
    assert twin.mandates.current("123456").signed_by == jean.account_id


def test_the_rejection_email_needs_no_account_of_the_co_holders(twin, jean):
    sign(jean)
    email = mandate_rejected_email(twin.mandates.current("123456"), jean)
    assert email.to == [jean.email]
    assert "contactez l'Office au" in email.text
