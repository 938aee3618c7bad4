"""The office's tenancy records: holders (titulaires) and their tenancy (numéro d'intitulé).

Written by the admin imports, read by registration, "Mes infos", the documents and the
payments. Pure values and rules; the keys live in :mod:`oph.tenancy.store`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any


def normalize_name(value: str) -> str:
    """Letters and digits only, accents folded, case ignored: "N'Diaye" == "NDIAYE"."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).upper()


def normalize_tenant_number(value: str) -> str:
    """Spaces and leading zeros are ignored: " 00123 456" == "123456"."""
    compact = "".join(value.split()).upper()
    return compact.lstrip("0") or ("0" if compact else "")


def holder_id_for(tenant_number: str, last_name: str, first_name: str, birth_date: str) -> str:
    """Stable across re-imports: derived from what identifies the holder, never random."""
    basis = "|".join(
        (normalize_tenant_number(tenant_number), normalize_name(last_name), normalize_name(first_name), birth_date)
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Holder:
    tenant_number: str
    last_name: str
    first_name: str
    birth_date: str  # YYYY-MM-DD
    left_at: str | None = None  # set when a later tenants file no longer lists the holder

    @property
    def holder_id(self) -> str:
        return holder_id_for(self.tenant_number, self.last_name, self.first_name, self.birth_date)

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()

    def matches(self, last_name: str, first_name: str, birth_date: str) -> bool:
        return (
            normalize_name(self.last_name) == normalize_name(last_name)
            and normalize_name(self.first_name) == normalize_name(first_name)
            and self.birth_date == birth_date
        )


@dataclass(frozen=True)
class Addressee:
    """What the notice worker needs of a holder (recorded by the tenants import)."""

    holder_id: str
    last_name: str
    first_name: str


@dataclass(frozen=True)
class Tenancy:
    tenant_number: str
    contract_number: str = ""
    third_party_number: str = ""
    address_line1: str = ""
    postal_code: str = ""
    city: str = ""
    balance_cents: int | None = None
    balance_date: str | None = None  # YYYY-MM-DD
    # True once movements have been written for the tenancy (never reset): the balance is then
    # the movements' (contract section 8); False means it has none. See oph.tenancy.store.
    has_movements: bool = False

    def address(self) -> dict[str, str]:
        return {"line1": self.address_line1, "postal_code": self.postal_code, "city": self.city}


@dataclass(frozen=True)
class Movement:
    """One accounting movement of a tenancy's account (compte locataire), as the office's
    management software exports it (contract section 8).

    ``amount_cents`` is positive for what the tenant owes (échéance, régularisation, frais),
    negative for what settles it (virement, chèque, prélèvement, APL, paiement CB);
    ``reference`` is the movement's id in the management software, unique within a tenancy
    (an online payment's id once the bank has paid it out: that is how it is reconciled).
    """

    tenant_number: str
    date: str  # YYYY-MM-DD
    label: str
    amount_cents: int
    reference: str


def balance_on(movements: Iterable[Movement], day: str) -> int | None:
    """The running balance at the end of ``day`` (``YYYY-MM-DD``): the sum of the movements
    dated on or before it; None when none is (the movements do not reach back to that day)."""
    dated = [m.amount_cents for m in movements if m.date <= day]
    return sum(dated) if dated else None


def balance_wins(stored_date: str | None, new_date: str, *, source: str) -> bool:
    """The balance with the later date wins; on a tie the notices file wins (contract §5)."""
    if not stored_date:
        return True
    return new_date > stored_date or (source == "notices" and new_date == stored_date)


TENANCY_FIELDS = frozenset(f.name for f in fields(Tenancy))


def tenancy_from_values(values: dict[str, Any]) -> Tenancy:
    """A tenancy from a stored item's plain values (a whole item or a projection)."""
    typed = ("balance_cents", "balance_date", "has_movements")
    text = {k: str(v) for k, v in values.items() if k in TENANCY_FIELDS and k not in typed}
    balance = values.get("balance_cents")
    return Tenancy(
        **{"tenant_number": "", **text},
        balance_cents=int(balance) if balance is not None else None,
        balance_date=str(values.get("balance_date") or "") or None,
        has_movements=values.get("has_movements") is True,
    )


def holder_from_values(values: dict[str, Any]) -> Holder:
    """A holder from a stored item's plain values."""
    return Holder(
        str(values.get("tenant_number", "")),
        str(values.get("last_name", "")),
        str(values.get("first_name", "")),
        str(values.get("birth_date", "")),
    )
