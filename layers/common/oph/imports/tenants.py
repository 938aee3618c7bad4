"""The tenants file: one row per holder, a tenant number on several rows = co-holders.

Holders are written in batches; each tenancy is upserted with its holders' names (for the
notice worker) and its balance set with :meth:`TenancyStore.set_balance` (the later
``balance_date`` wins, the notices file on a tie). Co-holders' rows must repeat the same
contract, third-party number, address and balance: a row that differs from the first row of
its tenancy is rejected with a reason naming the fields that differ and both values, as is a
holder listed twice.

A file is complete for every tenancy it lists: a holder an earlier file listed and this one
does not has left the tenancy (:func:`roster_change`, :func:`apply_roster_change`).

When a tenancy has account movements (contract section 8) its balance is theirs: the file's
balance is still recorded (the snapshot), and one that disagrees with the movements' running
balance on its date is listed in the report's ``warnings``
(:func:`oph.imports.movements.warn_balance_mismatches`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from oph.accounts import admin
from oph.accounts.account_store import account_store
from oph.imports.csv_format import RowRejected, TenantRow, tenant_row
from oph.imports.movements import BalanceClaim, check_balances
from oph.imports.parallel_writes import in_parallel
from oph.imports.report import STORE_FAILURE, Report
from oph.platform import clock
from oph.platform.french import date_fr, euros
from oph.platform.observability import get_logger
from oph.tenancy.model import Addressee, Holder, Tenancy
from oph.tenancy.store import ImportedTenancy, tenancy_store


@dataclass
class TenantsFile:
    """The accepted rows of a tenants file."""

    holders: dict[str, TenantRow] = field(default_factory=dict)  # by holder id
    tenancies: dict[str, TenantRow] = field(default_factory=dict)  # the first row of each tenant number
    lines_of: dict[str, list[int]] = field(default_factory=dict)  # by tenant number
    names: dict[str, list[Holder]] = field(default_factory=dict)  # the holders, by tenant number

    def accept(self, row: TenantRow) -> str | None:
        """Keep the row, or say why not (a holder listed twice, a tenancy that differs)."""
        holder = holder_of(row)
        if holder.holder_id in self.holders:
            return f"Ligne en double : ce titulaire figure déjà ligne {self.holders[holder.holder_id].line}."
        first = self.tenancies.get(row.tenant_number)
        if first is not None and first.tenancy_fields() != row.tenancy_fields():
            return differing_row_reason(first, row)
        self.holders[holder.holder_id] = row
        self.tenancies.setdefault(row.tenant_number, row)
        self.lines_of.setdefault(row.tenant_number, []).append(row.line)
        self.names.setdefault(row.tenant_number, []).append(holder)
        return None


def _quoted(value: object) -> str:
    return f"« {value} »"


def _amount(value: object) -> str:
    return f"« {euros(int(str(value)))} »"


def _day(value: object) -> str:
    return f"« {date_fr(str(value))} »"


# How a reason calls each of TenantRow.tenancy_fields(), whether the name is feminine, and how
# it shows a value.
TENANCY_FIELD_NAMES: tuple[tuple[str, bool, Callable[[object], str]], ...] = (
    ("contrat", False, _quoted),
    ("N° tiers", False, _quoted),
    ("adresse", True, _quoted),
    ("code postal", False, _quoted),
    ("ville", True, _quoted),
    ("solde", False, _amount),
    ("date du solde", True, _day),
)


def differing_row_reason(first: TenantRow, row: TenantRow) -> str:
    """``N° tiers différent de la ligne 2 …``: names every field that differs, with both values."""
    names, details, feminine = [], [], []
    for (name, is_feminine, show), old, new in zip(
        TENANCY_FIELD_NAMES, first.tenancy_fields(), row.tenancy_fields(), strict=True
    ):
        if old != new:
            names.append(name)
            feminine.append(is_feminine)
            shown_new, shown_old = ("vide" if v in (None, "") else show(v) for v in (new, old))
            details.append(f"{name} {shown_new} au lieu de {shown_old}")
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} et {names[-1]}"
    agreement = ("e" if all(feminine) else "") + ("s" if len(names) > 1 else "")
    return (
        f"{listed[0].upper()}{listed[1:]} différent{agreement} de la ligne {first.line} pour le même numéro "
        f"d'intitulé ({' ; '.join(details)}) : les cotitulaires partagent la même location."
    )


def holder_of(row: TenantRow) -> Holder:
    return Holder(row.tenant_number, row.last_name, row.first_name, row.birth_date)


def tenancy_of(row: TenantRow) -> Tenancy:
    return Tenancy(
        tenant_number=row.tenant_number,
        contract_number=row.contract_number,
        third_party_number=row.third_party_number,
        address_line1=row.address_line1,
        postal_code=row.postal_code,
        city=row.city,
        balance_cents=row.balance_cents,
        balance_date=row.balance_date,
    )


@dataclass(frozen=True)
class RosterChange:
    """Who left a tenancy and who came back, between the previous tenants file and this one."""

    left: list[Addressee]
    returned: list[Addressee]
    departed: list[Addressee]  # everyone no longer listed, the leavers of earlier files included


def roster_change(previous: ImportedTenancy | None, holders: list[Holder]) -> RosterChange:
    """A tenants file is complete for every tenancy it lists (contract section 5): a holder
    an earlier file listed and this one does not has left the tenancy."""
    listed = {h.holder_id for h in holders}
    if previous is None:
        return RosterChange([], [], [])
    left = [a for a in previous.addressees if a.holder_id not in listed]
    returned = [a for a in previous.departed if a.holder_id in listed]
    departed = [*left, *(a for a in previous.departed if a.holder_id not in listed)]
    return RosterChange(left, returned, departed)


def apply_roster_change(tenant_number: str, change: RosterChange) -> None:
    """A holder who left is marked and their online account disabled from the next request on
    (sessions revoked, no more e-mails, data kept); one listed again gets it back (unless an
    admin disabled it for another reason) and logs in again as before."""
    store, accounts, now = tenancy_store(), account_store(), clock.iso_instant()
    for holder in change.left:
        store.mark_left(tenant_number, holder.holder_id, now)
        account = accounts.get_by_holder(holder.holder_id)
        if account is not None and not account.disabled:
            admin.disable(account.account_id, admin.LEFT_TENANCY)
    for holder in change.returned:
        account = accounts.get_by_holder(holder.holder_id)
        if account is not None:
            admin.enable(account.account_id, only_if_reason=admin.LEFT_TENANCY)


def read_tenants(rows: list[tuple[int, dict[str, str]]], report: Report, today: str) -> TenantsFile:
    """Validate the rows: the accepted ones are kept, the others rejected with their reason."""
    accepted = TenantsFile()
    for line, values in rows:
        try:
            row = tenant_row(line, values, today)
        except RowRejected as exc:
            report.reject(line, exc.reason)
            continue
        reason = accepted.accept(row)
        if reason is not None:
            report.reject(line, reason)
    return accepted


def import_tenants(rows: list[tuple[int, dict[str, str]]], report: Report) -> None:
    accepted = read_tenants(rows, report, clock.today())
    store = tenancy_store()
    line_of = {holder_id: row.line for holder_id, row in accepted.holders.items()}
    failed_holders = store.put_holders([holder_of(r) for r in accepted.holders.values()])
    if failed_holders:
        get_logger().warning("holder batch failed", extra={"holders": len(failed_holders)})
    failed = {line_of[h.holder_id] for h in failed_holders}
    for line in sorted(failed):
        report.reject(line, STORE_FAILURE)

    known = store.tenancies_for_import(accepted.tenancies)

    def save(row: TenantRow) -> None:
        holders = accepted.names[row.tenant_number]
        roster = roster_change(known.get(row.tenant_number), holders)
        store.set_roster(row.tenant_number, holders, roster.departed)
        store.put_tenancy(tenancy_of(row))
        apply_roster_change(row.tenant_number, roster)

    for row, _, error in in_parallel(save, list(accepted.tenancies.values())):
        if error is not None:
            for line in accepted.lines_of[row.tenant_number]:
                if line not in failed:
                    report.reject(line, STORE_FAILURE)
    rejected = {line for line, _ in report.rejected}
    claims = [
        BalanceClaim(row.line, row.tenant_number, row.balance_cents, row.balance_date)
        for row in accepted.tenancies.values()
        if row.balance_cents is not None and row.balance_date and row.line not in rejected
    ]
    check_balances(claims, report)
