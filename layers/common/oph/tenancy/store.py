"""The office's tenancy records: holders (titulaires) and their tenancy (numéro d'intitulé).

Written by the admin imports, read by registration and "Mes infos". Keys in TenantsTable:
``TENANT#<tenant number>`` / ``TENANCY`` (contract, address, balance) and
``TENANT#<tenant number>`` / ``HOLDER#<holder id>`` (one item per co-holder).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from oph.platform import aws
from oph.platform.aws import dynamo
from oph.platform.settings import get_settings


def normalize_name(value: str) -> str:
    """Letters and digits only, accents folded, case ignored: "N'Diaye" == "NDIAYE"."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).upper()


def normalize_tenant_number(value: str) -> str:
    """Spaces and leading zeros are ignored: " 00123 456" == "123456"."""
    compact = "".join(value.split()).upper()
    return compact.lstrip("0") or ("0" if compact else "")


def tenancy_pk(tenant_number: str) -> str:
    return f"TENANT#{normalize_tenant_number(tenant_number)}"


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

    @property
    def holder_id(self) -> str:
        return holder_id_for(self.tenant_number, self.last_name, self.first_name, self.birth_date)

    def matches(self, last_name: str, first_name: str, birth_date: str) -> bool:
        return (
            normalize_name(self.last_name) == normalize_name(last_name)
            and normalize_name(self.first_name) == normalize_name(first_name)
            and self.birth_date == birth_date
        )


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

    def address(self) -> dict[str, str]:
        return {"line1": self.address_line1, "postal_code": self.postal_code, "city": self.city}


class TenancyRepository:
    """DynamoDB adapter for holders and tenancies."""

    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    def put_holder(self, holder: Holder) -> None:
        item = {
            "pk": {"S": tenancy_pk(holder.tenant_number)},
            "sk": {"S": f"HOLDER#{holder.holder_id}"},
            "holder_id": {"S": holder.holder_id},
            "tenant_number": {"S": normalize_tenant_number(holder.tenant_number)},
            "last_name": {"S": holder.last_name},
            "first_name": {"S": holder.first_name},
            "birth_date": {"S": holder.birth_date},
        }
        with aws.unavailable_on_failure():
            aws.dynamodb().put_item(TableName=self.table, Item=item)

    def put_tenancy(self, tenancy: Tenancy) -> None:
        """Upsert the tenancy's descriptive fields (the balance is set by ``set_balance``)."""
        values = {k: v for k, v in asdict(tenancy).items() if k not in ("balance_cents", "balance_date")}
        values["tenant_number"] = normalize_tenant_number(tenancy.tenant_number)
        names = {f"#{k}": k for k in values}
        expr = "SET " + ", ".join(f"#{k} = :{k}" for k in values)
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=self.table,
                Key={"pk": {"S": tenancy_pk(tenancy.tenant_number)}, "sk": {"S": "TENANCY"}},
                UpdateExpression=expr,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":{k}": {"S": str(v)} for k, v in values.items()},
            )
        if tenancy.balance_cents is not None and tenancy.balance_date:
            self.set_balance(tenancy.tenant_number, tenancy.balance_cents, tenancy.balance_date, source="tenants")

    def set_balance(self, tenant_number: str, balance_cents: int, balance_date: str, *, source: str) -> bool:
        """Keep the balance with the later date; on a tie the notices file wins.

        Returns False when the stored balance is newer (nothing changed).
        """
        condition = "attribute_not_exists(balance_date) OR balance_date < :d"
        if source == "notices":
            condition += " OR balance_date = :d"
        try:
            with aws.unavailable_on_failure():
                aws.dynamodb().update_item(
                    TableName=self.table,
                    Key={"pk": {"S": tenancy_pk(tenant_number)}, "sk": {"S": "TENANCY"}},
                    UpdateExpression="SET balance_cents = :b, balance_date = :d, balance_source = :s, tenant_number = :t",
                    ConditionExpression=condition,
                    ExpressionAttributeValues={
                        ":b": {"N": str(balance_cents)},
                        ":d": {"S": balance_date},
                        ":s": {"S": source},
                        ":t": {"S": normalize_tenant_number(tenant_number)},
                    },
                )
        except Exception as exc:
            if aws.is_conditional_failure(exc):
                return False
            raise
        return True

    def get_tenancy(self, tenant_number: str) -> Tenancy | None:
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb()
                .get_item(
                    TableName=self.table,
                    Key={"pk": {"S": tenancy_pk(tenant_number)}, "sk": {"S": "TENANCY"}},
                    ConsistentRead=True,
                )
                .get("Item")
            )
        return _tenancy(item) if item else None

    def get_tenancy_and_holder(self, tenant_number: str, holder_id: str) -> tuple[Tenancy | None, Holder | None]:
        """The tenancy and one holder in a single round trip (BatchGetItem)."""
        pk = {"S": tenancy_pk(tenant_number)}
        request: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": pk, "sk": {"S": "TENANCY"}}, {"pk": pk, "sk": {"S": f"HOLDER#{holder_id}"}}],
                "ConsistentRead": True,
            }
        }
        items = dynamo.batch_get(request).get(self.table, [])
        tenancy = next((_tenancy(i) for i in items if i["sk"]["S"] == "TENANCY"), None)
        holder = next((_holder(i) for i in items if i["sk"]["S"].startswith("HOLDER#")), None)
        return tenancy, holder

    def list_holders(self, tenant_number: str) -> list[Holder]:
        if not normalize_tenant_number(tenant_number):
            return []
        with aws.unavailable_on_failure():
            items = (
                aws.dynamodb()
                .query(
                    TableName=self.table,
                    KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
                    ExpressionAttributeValues={":pk": {"S": tenancy_pk(tenant_number)}, ":h": {"S": "HOLDER#"}},
                    ConsistentRead=True,
                )
                .get("Items", [])
            )
        return [_holder(i) for i in items]

    def get_holder(self, tenant_number: str, holder_id: str) -> Holder | None:
        for holder in self.list_holders(tenant_number):
            if holder.holder_id == holder_id:
                return holder
        return None


def _s(item: dict[str, Any], name: str) -> str:
    return str(item.get(name, {}).get("S", ""))


def _holder(item: dict[str, Any]) -> Holder:
    return Holder(_s(item, "tenant_number"), _s(item, "last_name"), _s(item, "first_name"), _s(item, "birth_date"))


def _tenancy(item: dict[str, Any]) -> Tenancy:
    return Tenancy(
        tenant_number=_s(item, "tenant_number"),
        contract_number=_s(item, "contract_number"),
        third_party_number=_s(item, "third_party_number"),
        address_line1=_s(item, "address_line1"),
        postal_code=_s(item, "postal_code"),
        city=_s(item, "city"),
        balance_cents=int(item["balance_cents"]["N"]) if "balance_cents" in item else None,
        balance_date=_s(item, "balance_date") or None,
    )
