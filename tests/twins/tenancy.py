"""Twin of :class:`oph.tenancy.store.TenancyStore`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from oph.tenancy.model import Addressee, Holder, Movement, Tenancy, balance_wins, normalize_tenant_number
from oph.tenancy.store import ImportedTenancy


class MemoryTenancyStore:
    def __init__(self) -> None:
        self.holders: dict[str, dict[str, Holder]] = {}
        self.tenancies: dict[str, Tenancy] = {}
        self.balance_sources: dict[str, str] = {}
        self.addressees: dict[str, dict[str, Addressee]] = {}
        self.departed: dict[str, dict[str, Addressee]] = {}
        self.movement_items: dict[str, dict[str, Movement]] = {}

    def put_holder(self, holder: Holder) -> None:
        number = normalize_tenant_number(holder.tenant_number)
        self.holders.setdefault(number, {})[holder.holder_id] = replace(holder, tenant_number=number)

    def put_holders(self, holders: list[Holder]) -> list[Holder]:
        for holder in holders:
            self.put_holder(holder)
        return []

    def list_holders(self, tenant_number: str) -> list[Holder]:
        return list(self.holders.get(normalize_tenant_number(tenant_number), {}).values())

    def get_holder(self, tenant_number: str, holder_id: str) -> Holder | None:
        return self.holders.get(normalize_tenant_number(tenant_number), {}).get(holder_id)

    def put_tenancy(self, tenancy: Tenancy) -> None:
        number = normalize_tenant_number(tenancy.tenant_number)
        current = self.tenancies.get(number)
        self.tenancies[number] = replace(
            tenancy,
            tenant_number=number,
            balance_cents=current.balance_cents if current else None,
            balance_date=current.balance_date if current else None,
            has_movements=current.has_movements if current else False,
        )
        if tenancy.balance_cents is not None and tenancy.balance_date:
            self.set_balance(number, tenancy.balance_cents, tenancy.balance_date, source="tenants")

    def set_balance(self, tenant_number: str, balance_cents: int, balance_date: str, *, source: str) -> bool:
        number = normalize_tenant_number(tenant_number)
        current = self.tenancies.get(number) or Tenancy(number)
        if not balance_wins(current.balance_date, balance_date, source=source):
            return False
        self.tenancies[number] = replace(current, balance_cents=balance_cents, balance_date=balance_date)
        self.balance_sources[number] = source
        return True

    def get_tenancy(self, tenant_number: str) -> Tenancy | None:
        return self.tenancies.get(normalize_tenant_number(tenant_number))

    def get_tenancies(self, numbers: Iterable[str]) -> dict[str, Tenancy]:
        found = {normalize_tenant_number(n): self.tenancies.get(normalize_tenant_number(n)) for n in numbers}
        return {n: t for n, t in found.items() if t is not None}

    def get_tenancy_and_holder(self, tenant_number: str, holder_id: str) -> tuple[Tenancy | None, Holder | None]:
        return self.get_tenancy(tenant_number), self.get_holder(tenant_number, holder_id)

    def movements(self, tenant_number: str) -> list[Movement]:
        return list(self.movement_items.get(normalize_tenant_number(tenant_number), {}).values())

    def get_movements(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Movement]:
        found = {}
        for number, reference in keys:
            movement = self.movement_items.get(normalize_tenant_number(number), {}).get(reference)
            if movement is not None:
                found[(movement.tenant_number, reference)] = movement
        return found

    def put_movements(self, movements: list[Movement]) -> list[Movement]:
        for movement in movements:
            number = normalize_tenant_number(movement.tenant_number)
            self.tenancies[number] = replace(self.tenancies.get(number) or Tenancy(number), has_movements=True)
            self.movement_items.setdefault(number, {})[movement.reference] = replace(movement, tenant_number=number)
        return []

    def set_roster(self, tenant_number: str, holders: list[Holder], departed: list[Addressee]) -> None:
        number = normalize_tenant_number(tenant_number)
        self.addressees[number] = {h.holder_id: Addressee(h.holder_id, h.last_name, h.first_name) for h in holders}
        self.departed[number] = {a.holder_id: a for a in departed}

    def mark_left(self, tenant_number: str, holder_id: str, at: str) -> None:
        holders = self.holders.get(normalize_tenant_number(tenant_number), {})
        if holder_id in holders:
            holders[holder_id] = replace(holders[holder_id], left_at=at)

    def tenancies_for_import(self, numbers: Iterable[str]) -> dict[str, ImportedTenancy]:
        found = {}
        for number in set(numbers):
            tenancy = self.tenancies.get(number)
            if tenancy is not None:
                names = sorted(self.addressees.get(number, {}).values(), key=lambda a: (a.last_name, a.first_name))
                gone = sorted(self.departed.get(number, {}).values(), key=lambda a: (a.last_name, a.first_name))
                found[number] = ImportedTenancy(tenancy, names, gone)
        return found
