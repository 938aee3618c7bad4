"""The notices file: one row per notice line; each (tenant number, period) is one avis
d'échéance.

Its index item (id derived from tenant number and period) is created only if new, so
``documents_created`` counts the notices this import really created and importing the same
file again creates nothing. Rendering the PDFs and e-mailing the holders happen in the notice
worker (SQS, batches of tenants), so a 150,000-row file stays within the import function's
time. A balance of a tenancy that has account movements is still recorded, and listed in the
report's ``warnings`` when it disagrees with the movements on its date
(:func:`oph.imports.movements.check_balances`). Rows of an unknown tenant number are rejected: a document must live under a tenancy the
office has imported. If one line of a notice is invalid the whole notice is held back (its
other rows are rejected with a reason naming that line): a notice with a missing line would
show a wrong total, and a published notice is never replaced.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from oph.documents.model import NOTICE, Document, tenant_prefix
from oph.documents.store import document_store
from oph.imports.csv_format import NoticeRow, RowRejected, notice_row, parse_period, parse_tenant_number
from oph.imports.movements import BalanceClaim, check_balances
from oph.imports.notice_batches import notice_messages
from oph.imports.parallel_writes import in_parallel
from oph.imports.report import STORE_FAILURE, Report
from oph.imports.store import import_store
from oph.platform import clock
from oph.platform.french import period_label
from oph.tenancy.model import Tenancy
from oph.tenancy.store import ImportedTenancy, tenancy_pk, tenancy_store

_NAMESPACE = uuid.UUID("5f0b7c1e-4a43-4c4e-9f51-0c1d0e6a9b21")
NoticeKey = tuple[str, str]  # (tenant number, period)


def notice_doc_id(tenant_number: str, period: str) -> str:
    """Stable across re-imports (the create-if-new relies on it), distinct per tenancy."""
    return str(uuid.uuid5(_NAMESPACE, f"notice|{tenancy_pk(tenant_number)}|{period}"))


def notice_title(period: str) -> str:
    return f"Avis d'échéance — {period_label(period)}"


def notice_filename(period: str) -> str:
    return f"avis-echeance-{period}.pdf"


def notice_key(tenant_number: str, period: str) -> str:
    return f"{tenant_prefix(tenant_number)}notices/avis-echeance-{period}.pdf"


@dataclass
class Notice:
    tenant_number: str
    period: str
    issue_date: str
    due_date: str
    rows: list[NoticeRow] = field(default_factory=list)

    def balance(self) -> tuple[int, str] | None:
        """(cents, date) of the latest dated balance of the notice's rows."""
        dated = [(r.balance_date, r.balance_cents) for r in self.rows if r.balance_date and r.balance_cents is not None]
        if not dated:
            return None
        balance_date, cents = max(dated)
        return cents, balance_date

    def printed_balance(self, tenancy: Tenancy | None) -> tuple[int, str] | None:
        """The file's balance, else the office's records' one if dated on or before the issue."""
        balance = self.balance()
        if balance is not None or tenancy is None or tenancy.balance_cents is None:
            return balance
        if tenancy.balance_date and tenancy.balance_date <= self.issue_date:
            return tenancy.balance_cents, tenancy.balance_date
        return None

    def document(self, source_file: str, tenancy: Tenancy | None) -> Document:
        balance = self.printed_balance(tenancy)
        lines = [{"label": r.label, "category": r.category, "amount_cents": r.amount_cents} for r in self.rows]
        return Document(
            doc_id=notice_doc_id(self.tenant_number, self.period),
            tenant_number=self.tenant_number,
            type=NOTICE,
            title=notice_title(self.period),
            issued_on=self.issue_date,
            s3_key=notice_key(self.tenant_number, self.period),
            filename=notice_filename(self.period),
            period=self.period,
            due_date=self.due_date,
            amount_due_cents=sum(r.amount_cents for r in self.rows),
            created_at=clock.iso_instant(),
            extra={
                "lines": lines,
                "balance_cents": balance[0] if balance else None,
                "balance_date": balance[1] if balance else None,
                "source_file": source_file,
            },
        )


# ------------------------------------------------------------------ reading the rows
@dataclass
class NoticesFile:
    """The notices of a file as its rows are read, and the first invalid line of each."""

    notices: dict[NoticeKey, Notice] = field(default_factory=dict)
    seen: dict[tuple[object, ...], int] = field(default_factory=dict)  # a line's values -> its line
    invalid: dict[NoticeKey, int] = field(default_factory=dict)

    def add(self, row: NoticeRow) -> str | None:
        """Add a valid row to its notice, or say why not (a duplicate, other dates)."""
        identity: tuple[object, ...] = (row.tenant_number, row.period, row.issue_date, row.due_date, row.label)
        identity += (row.category, row.amount_cents, row.balance_cents, row.balance_date)
        if identity in self.seen:
            return (
                f"Ligne en double de la ligne {self.seen[identity]} : ignorée pour ne pas compter le montant deux fois."
            )
        self.seen[identity] = row.line
        notice = self.notices.setdefault(
            row.notice_key, Notice(row.tenant_number, row.period, row.issue_date, row.due_date)
        )
        if (row.issue_date, row.due_date) != (notice.issue_date, notice.due_date):
            first = notice.rows[0].line if notice.rows else row.line
            self.invalid.setdefault(row.notice_key, row.line)
            return f"Dates d'émission ou limite différentes de la ligne {first} du même avis."
        notice.rows.append(row)
        return None

    def mark_invalid(self, line: int, values: dict[str, str]) -> None:
        """A rejected line holds back its notice, when its tenant number and period can be read."""
        try:
            key = parse_tenant_number(values.get("tenant_number", "")), parse_period(values.get("period", ""))
        except RowRejected:
            return
        self.invalid.setdefault(key, line)

    def hold_back_invalid(self, report: Report) -> None:
        """A notice with an invalid line is not published: its other rows are rejected too."""
        for key, bad_line in self.invalid.items():
            held = self.notices.pop(key, None)
            if held is None:
                continue
            for row in held.rows:
                report.reject(
                    row.line,
                    f"Avis non publié : la ligne {bad_line} du même avis ({held.period}) est invalide ; "
                    "corrigez-la et déposez le fichier à nouveau.",
                )


def read_notices(rows: list[tuple[int, dict[str, str]]], report: Report) -> dict[NoticeKey, Notice]:
    """The complete notices of the file; every other row is rejected with its reason."""
    found = NoticesFile()
    for line, values in rows:
        try:
            row = notice_row(line, values)
        except RowRejected as exc:
            report.reject(line, exc.reason)
            found.mark_invalid(line, values)
            continue
        reason = found.add(row)
        if reason is not None:
            report.reject(line, reason)
    found.hold_back_invalid(report)
    return found.notices


def reject_notice(notice: Notice, reason: str, report: Report) -> None:
    for row in notice.rows:
        report.reject(row.line, reason)


def drop_unknown_tenants(
    notices: dict[NoticeKey, Notice], tenancies: dict[str, ImportedTenancy], report: Report
) -> None:
    for key in [k for k, n in notices.items() if n.tenant_number not in tenancies]:
        for row in notices.pop(key).rows:
            report.reject(
                row.line,
                f"Numéro d'intitulé inconnu : {row.tenant_number} (importez d'abord le fichier des locataires).",
            )


def balances_to_set(notices: list[Notice], tenancies: dict[str, Tenancy]) -> list[tuple[str, int, str]]:
    """(tenant number, cents, date) of the balances to record: per tenant the latest dated one
    of the file, when it is newer than the stored one, or as old and different (the notices
    file wins a tie)."""
    latest: dict[str, tuple[str, int]] = {}
    for notice in notices:
        found = notice.balance()
        if found is not None:
            cents, balance_date = found
            if notice.tenant_number not in latest or balance_date > latest[notice.tenant_number][0]:
                latest[notice.tenant_number] = (balance_date, cents)
    updates = []
    for number, (balance_date, cents) in latest.items():
        stored = tenancies[number]
        stored_date = stored.balance_date or ""
        unchanged = stored_date == balance_date and stored.balance_cents == cents
        if balance_date > stored_date or (balance_date == stored_date and not unchanged):
            updates.append((number, cents, balance_date))
    return updates


# ------------------------------------------------------------------ the use case
def import_notices(rows: list[tuple[int, dict[str, str]]], report: Report) -> None:
    notices = read_notices(rows, report)
    imported = tenancy_store().tenancies_for_import({n.tenant_number for n in notices.values()})
    drop_unknown_tenants(notices, imported, report)
    tenancies = {number: found.tenancy for number, found in imported.items()}
    save_balances(notices, tenancies, report)
    check_balances(balance_claims(notices.values()), report, tenancies)
    documents = [n.document(report.file, tenancies.get(n.tenant_number)) for n in notices.values()]
    to_render = create_documents(documents, notices, report)
    queue = import_store()
    for message in notice_messages(report.file, to_render, imported):
        queue.send_notices(message)


def balance_claims(notices: Iterable[Notice]) -> list[BalanceClaim]:
    """Each balance the file gives a tenancy, once, on the first line giving it."""
    claims: dict[tuple[str, int, str], BalanceClaim] = {}
    for notice in notices:
        for row in notice.rows:
            if row.balance_cents is not None and row.balance_date:
                found = (row.tenant_number, row.balance_cents, row.balance_date)
                if found not in claims or row.line < claims[found].line:
                    claims[found] = BalanceClaim(row.line, *found)
    return list(claims.values())


def save_balances(notices: dict[NoticeKey, Notice], tenancies: dict[str, Tenancy], report: Report) -> None:
    """Record the newer balances; a tenant whose balance could not be saved gets no notice."""
    store = tenancy_store()
    updates = balances_to_set(list(notices.values()), tenancies)
    for update, _, error in in_parallel(lambda u: store.set_balance(*u, source="notices"), updates):
        if error is not None:
            for notice in [n for n in notices.values() if n.tenant_number == update[0]]:
                reject_notice(notice, STORE_FAILURE, report)
                notices.pop((notice.tenant_number, notice.period), None)


def create_documents(documents: list[Document], notices: dict[NoticeKey, Notice], report: Report) -> list[Document]:
    """Create the notices that are new; returns those whose PDF the worker must render (the
    new ones, and earlier ones whose rendering never finished)."""
    to_render: list[Document] = []
    for document, existing, error in in_parallel(document_store().create_if_new, documents):
        if error is not None:
            reject_notice(notices[(document.tenant_number, str(document.period))], STORE_FAILURE, report)
        elif existing is None:
            report.documents_created += 1
            to_render.append(document)
        elif existing.rendered_at is None:
            to_render.append(existing)
    return to_render
