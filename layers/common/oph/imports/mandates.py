"""The mandates file (contract section 8): the office reports back on the SEPA mandates it took
from the daily export, ``imports/mandates/<name>.csv``, ``mandate_reference;status``.

``status`` is ``active`` (the office took the mandate on), ``revoked`` (the mandate is no longer
used: the holder's revocation is done, or the office ended it) or ``rejected`` (the bank refused
it: the mandate goes back to ``none`` and the holder is told by e-mail to sign again).

The file's own rules live here, with the report's (contract section 5: every rejected row with
its line and a French reason, a bad row never stops the good ones): a reference given again
with the same status is a duplicate (rejected, applied once); given again with another status,
every line of that reference is rejected, since nothing tells which answer is right. Whether a
reference is a known mandate, and whether its current status can take the answer, is the
mandate's lifecycle, which belongs to the payments context: the import asks it through the
:class:`MandateRegister` port, one row at a time, in file order (a mandates file is the day's
answers, tens of rows, not the movements' hundred thousand).

``imports`` and ``payments`` are sibling contexts (neither imports the other: import-linter's
``oph-layers``), so the register is handed in by the import function's handler, the one place
that sees both (:func:`oph.imports.service.import_object`'s ``mandates``). A row whose answer
could not be recorded (DynamoDB or SES down) is rejected with :data:`STORE_FAILURE` and
changed nothing: dropping the file again records it.

Importing the same file twice changes nothing the second time: an answer the mandate already
has is accepted and changes nothing (and sends no second e-mail).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from oph.imports.csv_format import MandateRow, RowRejected, mandate_row
from oph.imports.report import STORE_FAILURE, Report
from oph.platform.errors import ServiceUnavailable
from oph.platform.observability import get_logger


class MandateRegister(Protocol):
    """The payments context's side of the import (:class:`oph.payments.mandate_answers.MandateAnswers`)."""

    def answer(self, reference: str, status: str) -> str | None:
        """Record the office's ``status`` for the mandate ``reference``: None when the row is
        accepted (applied, or already so), else the French reason it is rejected (an unknown
        reference, a status the mandate cannot take). A dependency that fails raises
        :class:`~oph.platform.errors.ServiceUnavailable`, having changed nothing."""
        ...


def _unique(rows: Iterable[MandateRow], report: Report) -> list[MandateRow]:
    """One row per mandate, in file order; duplicates and conflicting answers are rejected."""
    by_reference: dict[str, list[MandateRow]] = {}
    for row in rows:
        by_reference.setdefault(row.reference, []).append(row)
    kept: list[MandateRow] = []
    for reference, found in by_reference.items():
        first = found[0]
        if any(row.status != first.status for row in found[1:]):
            lines = ", ".join(str(row.line) for row in found)
            for row in found:
                report.reject(
                    row.line,
                    f"Mandat {reference} présent plusieurs fois avec des statuts différents (lignes {lines}) : "
                    "aucune de ces lignes n'est prise en compte.",
                )
            continue
        kept.append(first)
        for row in found[1:]:
            report.reject(row.line, f"Ligne en double de la ligne {first.line} : ignorée.")
    return sorted(kept, key=lambda row: row.line)


def import_mandates(rows: list[tuple[int, dict[str, str]]], report: Report, register: MandateRegister) -> None:
    """Validate the rows, then hand each mandate's answer to the register."""
    parsed: list[MandateRow] = []
    for line, values in rows:
        try:
            parsed.append(mandate_row(line, values))
        except RowRejected as exc:
            report.reject(line, exc.reason)
    for row in _unique(parsed, report):
        try:
            reason = register.answer(row.reference, row.status)
        except ServiceUnavailable:
            get_logger().warning("mandate answer not recorded", extra={"line": row.line})
            reason = STORE_FAILURE
        if reason is not None:
            report.reject(row.line, reason)
