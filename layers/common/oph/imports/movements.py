"""The movements file (contract section 8): one row per accounting movement of a tenancy's
account (compte locataire), ``tenant_number;date;label;amount;reference``.

A movement is identified by its tenant number and its ``reference`` (unique within a
tenancy). Within one file, a reference given again with the same values is a duplicate
(rejected, counted once, as in the notices file); given again with other values, every line
of that reference is rejected, since nothing tells which one is right. Against what is
stored, a row with the same values is accepted and writes nothing, and one with other values
replaces the stored movement (the office corrected it): importing the same file twice writes
nothing the second time. An import never deletes a movement (a file may hold only the latest
ones; the office cancels a movement by a counter-entry or corrects it under its reference).

Reads and writes go by batches of whole tenancies (about ``WRITE_BATCH`` rows) on a few
threads, never a query per row: the tenancies in batches of 100 keys
(:meth:`TenancyStore.get_tenancies`, whose ``has_movements`` flag says which already have
movements), then, for the rows of those only, the stored movements by key
(:meth:`TenancyStore.get_movements`, 100 keys a call), and the new and corrected movements
through :meth:`TenancyStore.put_movements`, in transactions of whole tenancies (at most 100
items). A failed read rejects its batch's rows, a failed transaction its own rows, with
:data:`STORE_FAILURE` (the file can be dropped again), and writes nothing of them: a
tenancy's movements of one file are written together, or not at all (up to 99 of them; more,
as in a first import of a long history, take several transactions). A 150,000-row file fits
the import function's limits (``make bench``, "movements import").

The balance check of the tenants and notices files (:func:`warn_balance_mismatches`) lives
here too: when a tenancy has movements, its balance is theirs (the position, in
:mod:`oph.payments`), and a file's balance that disagrees with their running balance on its
date is listed in the report's ``warnings``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from oph.imports.csv_format import MovementRow, RowRejected, movement_row
from oph.imports.parallel_writes import in_parallel
from oph.imports.report import STORE_FAILURE, Report
from oph.platform.french import date_fr, euros
from oph.platform.observability import get_logger
from oph.tenancy.model import Movement, Tenancy, balance_on
from oph.tenancy.store import tenancy_store

WRITE_BATCH = 500  # movements per put_movements call (whole tenancies; more for a larger one)
FIELD_NAMES = ("date", "libellé", "montant")  # of MovementRow.values, as the reasons name them
MovementKey = tuple[str, str]  # (tenant number, reference)


def _fields_differing(a: MovementRow, b: MovementRow) -> str:
    return ", ".join(name for name, x, y in zip(FIELD_NAMES, a.values, b.values, strict=True) if x != y)


@dataclass
class MovementsFile:
    """The rows of a file by movement, and the references given again with other values."""

    rows: dict[MovementKey, list[MovementRow]] = field(default_factory=dict)

    def add(self, row: MovementRow) -> None:
        self.rows.setdefault(row.key, []).append(row)

    def accepted(self, report: Report) -> dict[MovementKey, MovementRow]:
        """One row per movement; duplicates and conflicting references are rejected."""
        kept: dict[MovementKey, MovementRow] = {}
        for key, rows in self.rows.items():
            first = rows[0]
            conflicts = [r for r in rows[1:] if r.values != first.values]
            seen: dict[tuple[str, str, int], int] = {first.values: first.line}
            for row in rows[1:]:
                if row.values in seen:
                    report.reject(
                        row.line,
                        f"Ligne en double de la ligne {seen[row.values]} : "
                        "ignorée pour ne pas compter le montant deux fois.",
                    )
                    continue
                seen[row.values] = row.line
                report.reject(
                    row.line,
                    f"Référence « {row.reference} » déjà présente ligne {first.line} avec d'autres valeurs "
                    f"({_fields_differing(first, row)}) : aucune de ces lignes n'est importée ; "
                    "corrigez le fichier et déposez-le à nouveau.",
                )
            if conflicts:
                report.reject(
                    first.line,
                    f"Référence « {first.reference} » reprise ligne {conflicts[0].line} avec d'autres valeurs "
                    f"({_fields_differing(first, conflicts[0])}) : aucune de ces lignes n'est importée ; "
                    "corrigez le fichier et déposez-le à nouveau.",
                )
            else:
                kept[key] = first
        return kept


def read_movements(rows: list[tuple[int, dict[str, str]]], report: Report) -> dict[MovementKey, MovementRow]:
    found = MovementsFile()
    for line, values in rows:
        try:
            found.add(movement_row(line, values))
        except RowRejected as exc:
            report.reject(line, exc.reason)
    return found.accepted(report)


def movement_of(row: MovementRow) -> Movement:
    return Movement(row.tenant_number, row.date, row.label, row.amount_cents, row.reference)


def reject_rows(rows: Iterable[MovementRow], reason: str, report: Report) -> None:
    for row in rows:
        report.reject(row.line, reason)


# ------------------------------------------------------------------ the use case
def import_movements(rows: list[tuple[int, dict[str, str]]], report: Report) -> None:
    movements = read_movements(rows, report)
    by_tenant: dict[str, list[MovementRow]] = {}
    for row in movements.values():
        by_tenant.setdefault(row.tenant_number, []).append(row)
    tenancies = tenancy_store().get_tenancies(by_tenant)
    for number in [n for n in by_tenant if n not in tenancies]:
        reject_rows(
            by_tenant.pop(number),
            f"Numéro d'intitulé inconnu : {number} (importez d'abord le fichier des locataires).",
            report,
        )
    flagged = {n for n in by_tenant if tenancies[n].has_movements}
    batches = tenancy_batches([row for found in by_tenant.values() for row in found])
    for batch, failed, error in in_parallel(lambda b: save_batch(b, flagged), batches):
        if error is not None:
            reject_rows(batch, STORE_FAILURE, report)
        elif failed:
            get_logger().warning("movement batch failed", extra={"movements": len(failed)})
            reject_rows(failed, STORE_FAILURE, report)


def tenancy_batches(rows: list[MovementRow]) -> list[list[MovementRow]]:
    """Batches of about ``WRITE_BATCH`` rows, never splitting a tenancy's (rows in tenancy order)."""
    batches: list[list[MovementRow]] = []
    current: list[MovementRow] = []
    for index, row in enumerate(rows):
        current.append(row)
        last_of_tenancy = index + 1 == len(rows) or rows[index + 1].tenant_number != row.tenant_number
        if last_of_tenancy and len(current) >= WRITE_BATCH:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def save_batch(batch: list[MovementRow], flagged: set[str]) -> list[MovementRow]:
    """Write the batch's new and corrected movements; returns the rows not written.

    Only the tenancies that already have movements can have some stored: their rows are read
    back by key (no query), so an unchanged row writes nothing. A failed read raises, and the
    caller rejects the whole batch, nothing of it written.
    """
    store = tenancy_store()
    known = store.get_movements([r.key for r in batch if r.tenant_number in flagged])
    changed = {
        row.key: row
        for row in batch
        if (stored := known.get(row.key)) is None or (stored.date, stored.label, stored.amount_cents) != row.values
    }
    failed = store.put_movements([movement_of(r) for r in changed.values()])
    return [changed[(m.tenant_number, m.reference)] for m in failed]


# ------------------------------------------------------------------ the other files' balances
@dataclass(frozen=True)
class BalanceClaim:
    """A balance a tenants or notices file gives for a tenancy, on one of its lines."""

    line: int
    tenant_number: str
    cents: int
    day: str  # YYYY-MM-DD


NOT_COMPARED = (
    "Solde non comparé aux mouvements du compte (service momentanément indisponible) : "
    "déposez le fichier à nouveau pour le vérifier."
)


def check_balances(claims: list[BalanceClaim], report: Report, tenancies: dict[str, Tenancy] | None = None) -> None:
    """:func:`warn_balance_mismatches`, reading the tenancies when the caller has not."""
    if not claims:
        return
    if tenancies is None:
        try:
            tenancies = tenancy_store().get_tenancies({c.tenant_number for c in claims})
        except Exception as exc:  # the balances are recorded: only the check is missing
            get_logger().warning("balance check failed", extra={"error": type(exc).__name__})
            for claim in claims:
                report.warn(claim.line, NOT_COMPARED)
            return
    warn_balance_mismatches(claims, tenancies, report)


def warn_balance_mismatches(claims: list[BalanceClaim], tenancies: dict[str, Tenancy], report: Report) -> None:
    """Warn about each balance that disagrees with the tenancy's movements on its date.

    Only the tenancies flagged ``has_movements`` are read (one query each); a balance dated
    before the tenancy's first movement cannot be compared and is not warned about.
    """
    claims_of: dict[str, list[BalanceClaim]] = {}
    for claim in claims:
        tenancy = tenancies.get(claim.tenant_number)
        if tenancy is not None and tenancy.has_movements:
            claims_of.setdefault(claim.tenant_number, []).append(claim)
    for number, found, error in in_parallel(tenancy_store().movements, list(claims_of)):
        for claim in claims_of[number]:
            if error is not None:
                report.warn(claim.line, NOT_COMPARED)
                continue
            running = balance_on(found, claim.day)
            if running is not None and running != claim.cents:
                report.warn(
                    claim.line,
                    f"Solde de {euros(claim.cents)} au {date_fr(claim.day)} différent de celui des mouvements "
                    f"du compte à cette date ({euros(running)}) : le locataire voit le solde des mouvements.",
                )
