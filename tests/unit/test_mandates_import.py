"""The mandates import (contract section 8, report rules of section 5): the file's rows and
their French reasons, against a register standing for the payments context, then the
payments context's answers (:class:`MandateAnswers`) against the in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from oph.accounts.model import Account
from oph.imports.csv_format import MANDATES, FileRejected, mandate_row, split_rows
from oph.imports.report import STORE_FAILURE, Report
from oph.imports.service import NO_MANDATE_REGISTER, import_bytes
from oph.payments import direct_debit
from oph.payments.mandate import ACTIVE, PENDING, REJECTED, REVOCATION_PENDING, REVOKED, mandate_api
from oph.payments.mandate_answers import MandateAnswers, refused, unknown
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable
from tests.factories import PASSWORD, make_account, make_tenant
from tests.twins.payments import PaymentsTwin, memory_payments

HEADER = "mandate_reference;status"


def csv(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\n".join([header, *rows]) + "\n").encode("utf-8")


@dataclass
class Register:
    """The payments side, as the import sees it: known mandates and their status."""

    statuses: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    def answer(self, reference: str, status: str) -> str | None:
        self.calls.append((reference, status))
        if self.down:
            raise ServiceUnavailable()
        if reference not in self.statuses:
            return f"Mandat inconnu : « {reference} »."
        self.statuses[reference] = status
        return None


def run(data: bytes, register: Register) -> dict:
    report = Report(file="imports/mandates/2019-05-29.csv", kind=MANDATES)
    import_bytes(data, MANDATES, report, mandates=register)
    return report.as_dict()


def test_a_row_is_a_reference_and_one_of_three_statuses():
    row = mandate_row(2, {"mandate_reference": " OPH-123456-0001 ", "status": " Active "})
    assert (row.line, row.reference, row.status) == (2, "OPH-123456-0001", "active")
    parsed = split_rows(csv("OPH-1-0001;revoked", "OPH-2-0001;rejected", bom=True), MANDATES)
    assert [line for line, _ in parsed.rows] == [2, 3]


def test_a_file_without_the_columns_fails_as_a_whole():
    with pytest.raises(FileRejected, match="Colonnes manquantes dans l'en-tête \\(ligne 1\\) : status"):
        split_rows(csv("OPH-1-0001", header="mandate_reference"), MANDATES)
    with pytest.raises(FileRejected, match="point-virgule"):
        split_rows(csv("OPH-1-0001,active", header="mandate_reference,status"), MANDATES)


def test_good_rows_are_applied_and_bad_ones_rejected_with_their_line_and_a_french_reason():
    register = Register({"OPH-123456-0001": "pending", "OPH-222222-0003": "revocation_pending"})
    report = run(
        csv(
            "OPH-123456-0001;active",
            "OPH-999999-0001;active",  # unknown
            "OPH-222222-0003;suspendu",  # unknown status
            ";active",
            "OPH-222222-0003;",
            "OPH-222222-0003;revoked;en trop",
        ),
        register,
    )
    assert report["status"] == "done"
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"]) == (6, 1, 5)
    assert report["rejected"] == [
        {"line": 3, "reason": "Mandat inconnu : « OPH-999999-0001 »."},
        {"line": 4, "reason": "Statut invalide : « suspendu » (attendu active, revoked ou rejected)."},
        {"line": 5, "reason": "Référence du mandat (mandate_reference) manquante."},
        {"line": 6, "reason": "Statut (status) manquant (attendu active, revoked ou rejected)."},
        {"line": 7, "reason": "Nombre de champs incorrect : 2 attendus, 3 trouvés."},
    ]
    assert report["warnings"] == [] and report["documents_created"] == 0
    assert register.statuses["OPH-123456-0001"] == "active"
    assert register.statuses["OPH-222222-0003"] == "revocation_pending"  # no valid row touched it
    assert register.calls == [("OPH-123456-0001", "active"), ("OPH-999999-0001", "active")]


def test_a_duplicate_is_applied_once_and_conflicting_answers_not_at_all():
    register = Register({"OPH-1-0001": "pending", "OPH-2-0001": "pending", "OPH-3-0001": "active"})
    report = run(
        csv(
            "OPH-1-0001;active",
            "OPH-2-0001;active",
            "OPH-1-0001;ACTIVE",  # the same answer again
            "OPH-2-0001;rejected",  # another answer for OPH-2-0001
            "OPH-3-0001;revoked",
        ),
        register,
    )
    assert report["rows_accepted"] == 2
    conflict = (
        "Mandat OPH-2-0001 présent plusieurs fois avec des statuts différents (lignes 3, 5) : "
        "aucune de ces lignes n'est prise en compte."
    )
    assert report["rejected"] == [
        {"line": 3, "reason": conflict},
        {"line": 4, "reason": "Ligne en double de la ligne 2 : ignorée."},
        {"line": 5, "reason": conflict},
    ]
    assert register.calls == [("OPH-1-0001", "active"), ("OPH-3-0001", "revoked")]  # file order
    assert register.statuses == {"OPH-1-0001": "active", "OPH-2-0001": "pending", "OPH-3-0001": "revoked"}


def test_a_row_whose_answer_cannot_be_recorded_is_rejected_for_a_new_drop():
    register = Register({"OPH-1-0001": "pending"}, down=True)
    report = run(csv("OPH-1-0001;active", "OPH-2-0001;nope"), register)
    assert report["rejected"] == [
        {"line": 2, "reason": STORE_FAILURE},
        {"line": 3, "reason": "Statut invalide : « nope » (attendu active, revoked ou rejected)."},
    ]
    assert report["rows_accepted"] == 0


def test_a_mandates_file_needs_the_payments_register():
    report = Report(file="imports/mandates/x.csv", kind=MANDATES)
    with pytest.raises(FileRejected) as raised:
        import_bytes(csv("OPH-1-0001;active"), MANDATES, report)
    assert raised.value.reason == NO_MANDATE_REGISTER


# -- the payments side: MandateAnswers against the twins ----------------------------------------


@pytest.fixture
def twin() -> Iterator[PaymentsTwin]:
    clock.set_offset(0)
    with memory_payments() as twin:
        yield twin
    clock.set_offset(0)


@pytest.fixture
def jean(twin: PaymentsTwin) -> Account:
    return make_account(make_tenant("123456", "DUPOND", "Jean", "1975-09-10"), "jean.dupond@exemple.com")


def signed_by(account: Account) -> str:
    body = direct_debit.sign_mandate(
        account,
        iban="FR76 3000 6000 0112 3456 7890 189",
        account_holder="DUPOND Jean",
        debit_day=5,
        accept_mandate=True,
        current_password=PASSWORD,
    )
    return str(body["mandate_reference"])


def status(twin: PaymentsTwin) -> str:
    return twin.mandates.current("123456").status  # type: ignore[union-attr]


def test_the_office_takes_a_mandate_on_and_saying_it_again_changes_nothing(twin, jean):
    reference = signed_by(jean)
    answers = MandateAnswers()
    assert answers.answer(reference, ACTIVE) is None
    assert status(twin) == ACTIVE
    assert answers.answer(reference, ACTIVE) is None and status(twin) == ACTIVE


def test_unknown_references_are_refused_in_french(twin, jean):
    signed_by(jean)
    answers = MandateAnswers()
    for reference in ("OPH-123456-0002", "OPH-999999-0001", "123456", "oph-123456-0001", ""):
        assert answers.answer(reference, ACTIVE) == unknown(reference)
    assert unknown("X") == "Mandat inconnu : « X » (aucun mandat n'a cette référence unique)."
    assert status(twin) == PENDING


def test_a_rejected_mandate_goes_back_to_none_and_its_signer_is_told_once(twin, jean):
    reference = signed_by(jean)
    twin.outbox.sent.clear()
    answers = MandateAnswers()
    assert answers.answer(reference, REJECTED) is None
    assert status(twin) == REJECTED and mandate_api(twin.mandates.current("123456"))["status"] == "none"
    [told] = twin.outbox.to("jean.dupond@exemple.com")
    assert told.subject == "Votre prélèvement automatique n'a pas pu être mis en place"
    assert answers.answer(reference, REJECTED) is None  # the same file again
    assert len(twin.outbox.to("jean.dupond@exemple.com")) == 1


def test_active_while_the_revocation_is_under_way_changes_nothing_then_revoked_ends_it(twin, jean):
    reference = signed_by(jean)
    direct_debit.revoke_mandate(jean, PASSWORD)
    answers = MandateAnswers()
    assert answers.answer(reference, ACTIVE) is None and status(twin) == REVOCATION_PENDING
    assert answers.answer(reference, REVOKED) is None and status(twin) == REVOKED
    assert answers.answer(reference, REVOKED) is None and status(twin) == REVOKED


@pytest.mark.parametrize(
    ("steps", "answer", "words"),
    [
        ((), REVOKED, "en attente de mise en place"),  # pending: never taken on
        ((REJECTED,), ACTIVE, "rejeté par la banque"),
        ((REJECTED,), REVOKED, "rejeté par la banque"),
        ((ACTIVE, REVOKED), ACTIVE, "révoqué"),
        ((ACTIVE, REVOKED), REJECTED, "révoqué"),
    ],
)
def test_an_answer_the_status_cannot_take_is_refused_and_changes_nothing(twin, jean, steps, answer, words):
    reference = signed_by(jean)
    answers = MandateAnswers()
    for step in steps:
        assert answers.answer(reference, step) is None
    before = status(twin)
    sent = len(twin.outbox.sent)
    assert answers.answer(reference, answer) == (
        f"Le mandat {reference} est {words} : il ne peut pas passer au statut « {answer} »."
    )
    assert status(twin) == before and len(twin.outbox.sent) == sent


def test_rejected_from_revocation_pending_is_refused(twin, jean):
    reference = signed_by(jean)
    direct_debit.revoke_mandate(jean, PASSWORD)
    assert MandateAnswers().answer(reference, REJECTED) == refused(
        twin.mandates.current("123456"),  # type: ignore[arg-type]
        REJECTED,
    )


def test_an_earlier_mandate_keeps_its_answer_once_a_new_one_is_signed(twin, jean):
    first = signed_by(jean)
    answers = MandateAnswers()
    answers.answer(first, REJECTED)
    second = signed_by(jean)
    assert second.endswith("-0002")
    assert answers.answer(first, REJECTED) is None  # what it already is
    assert "rejeté par la banque" in str(answers.answer(first, ACTIVE))
    assert answers.answer(second, ACTIVE) is None and status(twin) == ACTIVE


def test_a_whole_file_through_the_twins(twin, jean):
    reference = signed_by(jean)
    report = Report(file="imports/mandates/2019-05-30.csv", kind=MANDATES)
    import_bytes(csv(f"{reference};active", "OPH-1-0001;active"), MANDATES, report, mandates=MandateAnswers())
    body = report.as_dict()
    assert (body["rows_read"], body["rows_accepted"]) == (2, 1)
    assert body["rejected"] == [{"line": 3, "reason": unknown("OPH-1-0001")}]
    assert status(twin) == ACTIVE
    again = Report(file="imports/mandates/2019-05-30.csv", kind=MANDATES)
    import_bytes(csv(f"{reference};active", "OPH-1-0001;active"), MANDATES, again, mandates=MandateAnswers())
    assert again.as_dict() == body
