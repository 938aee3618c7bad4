"""TenantsTable as the tenancy context lays it out (every key of these items is built here).

- ``TENANT#<tenant number>`` / ``TENANCY``: contract, address, balance (``balance_cents``,
  ``balance_date``, ``balance_source``: the snapshot the tenants and notices files carry) and
  ``has_movements`` (BOOL, :attr:`oph.tenancy.model.Tenancy.has_movements`, below);
- ``TENANT#<tenant number>`` / ``HOLDER#<holder id>``: one item per co-holder;
- ``TENANT#<tenant number>`` / ``MOVEMENT#<reference>``: one accounting movement of the
  tenancy's account (date, label, amount_cents, reference); a corrected movement replaces
  the item of the same reference;
- ``TENANT#<tenant number>`` / ``NOTICE_ADDRESSEES``: the holders' names and ids, one
  attribute ``h_<holder id>`` each, read in batches by the notices import so the notice
  worker needs no query per tenant.

The tenant number in a key is always normalised (no spaces, no leading zeros).

Whether a tenancy has movements (contract section 8: its balance is then the movements', and
the balance columns of the tenants and notices files no longer set it):
``Tenancy.has_movements`` of :meth:`TenancyStore.get_tenancy`, :meth:`TenancyStore.get_tenancies`
and :meth:`TenancyStore.tenancies_for_import`. :meth:`TenancyStore.put_movements` sets it in
the same transaction as the movements it writes, and nothing deletes a movement or resets the
flag, so it is True exactly when the tenancy has movements: False needs no query; True means
read them (:meth:`TenancyStore.movements`, or the partition's ``MOVEMENT#`` items). The
imports still record the files' balance snapshot (``balance_cents``, ``balance_date``), which
is the balance only of a tenancy without movements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from oph.platform import aws
from oph.platform.aws import dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import RaceLost, Write
from oph.tenancy.model import Addressee, Holder, Movement, Tenancy, normalize_tenant_number

TENANCY_SK = "TENANCY"
MOVEMENT_TRANSACTION = 100  # DynamoDB's limit of items per transaction
MOVEMENT_ATTEMPTS = 3
MOVEMENT_PREFIX = "MOVEMENT#"
ADDRESSEES_SK = "NOTICE_ADDRESSEES"


def tenancy_pk(tenant_number: str) -> str:
    return f"TENANT#{normalize_tenant_number(tenant_number)}"


@dataclass
class ImportedTenancy:
    """A tenancy as the notices import needs it: the record and who the notices go to."""

    tenancy: Tenancy
    addressees: list[Addressee] = field(default_factory=list)
    departed: list[Addressee] = field(default_factory=list)  # holders an earlier file listed and a later one did not


def _s(item: dict[str, Any], name: str) -> str:
    return str(item.get(name, {}).get("S", ""))


def _holder(item: dict[str, Any]) -> Holder:
    return Holder(
        _s(item, "tenant_number"),
        _s(item, "last_name"),
        _s(item, "first_name"),
        _s(item, "birth_date"),
        left_at=_s(item, "left_at") or None,
    )


def _addressee(addressee: Addressee) -> dict[str, Any]:
    return {
        "M": {
            "holder_id": {"S": addressee.holder_id},
            "last_name": {"S": addressee.last_name},
            "first_name": {"S": addressee.first_name},
        }
    }


def _named(values: dict[str, Any], prefix: str) -> list[Addressee]:
    return sorted(
        (
            Addressee(str(v.get("holder_id", "")), str(v.get("last_name", "")), str(v.get("first_name", "")))
            for k, v in values.items()
            if k.startswith(prefix) and isinstance(v, dict)
        ),
        key=lambda a: (a.last_name, a.first_name),
    )


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
        has_movements=bool(item.get("has_movements", {}).get("BOOL", False)),
    )


def _holder_item(holder: Holder) -> dict[str, Any]:
    return {
        **dynamo.key(tenancy_pk(holder.tenant_number), f"HOLDER#{holder.holder_id}"),
        "holder_id": {"S": holder.holder_id},
        "tenant_number": {"S": normalize_tenant_number(holder.tenant_number)},
        "last_name": {"S": holder.last_name},
        "first_name": {"S": holder.first_name},
        "birth_date": {"S": holder.birth_date},
    }


def movement_item(movement: Movement) -> dict[str, Any]:
    return {
        **dynamo.key(tenancy_pk(movement.tenant_number), MOVEMENT_PREFIX + movement.reference),
        **dynamo.to_item(
            {
                "tenant_number": normalize_tenant_number(movement.tenant_number),
                "date": movement.date,
                "label": movement.label,
                "amount_cents": movement.amount_cents,
                "reference": movement.reference,
            }
        ),
    }


def movement_from_item(item: dict[str, Any]) -> Movement:
    """A ``MOVEMENT#`` item read by any store that queries the tenancy's partition."""
    return Movement(
        tenant_number=_s(item, "tenant_number"),
        date=_s(item, "date"),
        label=_s(item, "label"),
        amount_cents=int(item["amount_cents"]["N"]),
        reference=_s(item, "reference"),
    )


def movement_transactions(movements: list[Movement]) -> list[list[tuple[str, list[Movement]]]]:
    """The movements cut into transactions of at most ``MOVEMENT_TRANSACTION`` items, each
    tenancy's part counting one more item (its flag) and never split unless it must be."""
    by_tenant: dict[str, dict[str, Movement]] = {}
    for movement in movements:  # one write per item: of a reference given twice, the last
        by_tenant.setdefault(normalize_tenant_number(movement.tenant_number), {})[movement.reference] = movement
    transactions: list[list[tuple[str, list[Movement]]]] = []
    current: list[tuple[str, list[Movement]]] = []
    size = 0
    step = MOVEMENT_TRANSACTION - 1
    for number, by_reference in by_tenant.items():
        found = list(by_reference.values())
        for start in range(0, len(found), step):
            part = found[start : start + step]
            if current and size + len(part) + 1 > MOVEMENT_TRANSACTION:
                transactions.append(current)
                current, size = [], 0
            current.append((number, part))
            size += len(part) + 1
    if current:
        transactions.append(current)
    return transactions


class TenancyStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    # -- holders
    def put_holder(self, holder: Holder) -> None:
        with aws.unavailable_on_failure():
            aws.dynamodb().put_item(TableName=self.table, Item=_holder_item(holder))

    def put_holders(self, holders: list[Holder]) -> list[Holder]:
        """Batch-write holder items, 25 at a time; returns the holders that could not be written."""
        failed: list[Holder] = []
        for start in range(0, len(holders), 25):
            chunk = holders[start : start + 25]
            try:
                dynamo.batch_write(self.table, [{"PutRequest": {"Item": _holder_item(h)}} for h in chunk])
            except Exception:
                failed += chunk
        return failed

    def list_holders(self, tenant_number: str) -> list[Holder]:
        if not normalize_tenant_number(tenant_number):
            return []
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
            ExpressionAttributeValues={":pk": {"S": tenancy_pk(tenant_number)}, ":h": {"S": "HOLDER#"}},
            ConsistentRead=True,
        )
        return [_holder(i) for i in items]

    def get_holder(self, tenant_number: str, holder_id: str) -> Holder | None:
        item = dynamo.get(self.table, dynamo.key(tenancy_pk(tenant_number), f"HOLDER#{holder_id}"))
        return _holder(item) if item else None

    # -- the tenancy
    def put_tenancy(self, tenancy: Tenancy) -> None:
        """Upsert the tenancy's descriptive fields, then its balance if it has a dated one."""
        kept = ("balance_cents", "balance_date", "has_movements")  # set by their own writes
        values = {k: v for k, v in asdict(tenancy).items() if k not in kept}
        values["tenant_number"] = normalize_tenant_number(tenancy.tenant_number)
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=self.table,
                Key=dynamo.key(tenancy_pk(tenancy.tenant_number), TENANCY_SK),
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames={f"#{k}": k for k in values},
                ExpressionAttributeValues={f":{k}": {"S": str(v)} for k, v in values.items()},
            )
        if tenancy.balance_cents is not None and tenancy.balance_date:
            self.set_balance(tenancy.tenant_number, tenancy.balance_cents, tenancy.balance_date, source="tenants")

    def set_balance(self, tenant_number: str, balance_cents: int, balance_date: str, *, source: str) -> bool:
        """Keep the balance with the later date (:func:`oph.tenancy.model.balance_wins`, as a
        condition); False when the stored balance is newer and nothing changed."""
        condition = "attribute_not_exists(balance_date) OR balance_date < :d"
        if source == "notices":
            condition += " OR balance_date = :d"
        updated = dynamo.update_if(
            TableName=self.table,
            Key=dynamo.key(tenancy_pk(tenant_number), TENANCY_SK),
            UpdateExpression="SET balance_cents = :b, balance_date = :d, balance_source = :s, tenant_number = :t",
            ConditionExpression=condition,
            ExpressionAttributeValues={
                ":b": {"N": str(balance_cents)},
                ":d": {"S": balance_date},
                ":s": {"S": source},
                ":t": {"S": normalize_tenant_number(tenant_number)},
            },
        )
        return updated is not None

    def get_tenancy(self, tenant_number: str) -> Tenancy | None:
        item = dynamo.get(self.table, dynamo.key(tenancy_pk(tenant_number), TENANCY_SK))
        return _tenancy(item) if item else None

    def get_tenancies(self, numbers: Iterable[str]) -> dict[str, Tenancy]:
        """The tenancy records of these tenant numbers (absent: unknown), by normalised number,
        in batches of 100 keys."""
        keys = [dynamo.key(tenancy_pk(n), TENANCY_SK) for n in sorted({normalize_tenant_number(n) for n in numbers})]
        if not keys:
            return {}
        items = dynamo.batch_get({self.table: {"Keys": keys, "ConsistentRead": True}}).get(self.table, [])
        return {str(i["pk"]["S"]).removeprefix("TENANT#"): _tenancy(i) for i in items}

    def get_tenancy_and_holder(self, tenant_number: str, holder_id: str) -> tuple[Tenancy | None, Holder | None]:
        """The tenancy and one holder in a single round trip (BatchGetItem)."""
        pk = tenancy_pk(tenant_number)
        request = {
            self.table: {
                "Keys": [dynamo.key(pk, TENANCY_SK), dynamo.key(pk, f"HOLDER#{holder_id}")],
                "ConsistentRead": True,
            }
        }
        items = dynamo.batch_get(request).get(self.table, [])
        tenancy = next((_tenancy(i) for i in items if i["sk"]["S"] == TENANCY_SK), None)
        holder = next((_holder(i) for i in items if i["sk"]["S"].startswith("HOLDER#")), None)
        return tenancy, holder

    # -- the account's movements
    def movements(self, tenant_number: str) -> list[Movement]:
        """Every movement of the tenancy, in no particular order."""
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues={":pk": {"S": tenancy_pk(tenant_number)}, ":m": {"S": MOVEMENT_PREFIX}},
            ConsistentRead=True,
        )
        return [movement_from_item(i) for i in items]

    def get_movements(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Movement]:
        """The stored movements of these (tenant number, reference) pairs, by pair (normalised
        number), in batches of 100 keys: what an import compares its rows with."""
        wanted = sorted({(normalize_tenant_number(n), r) for n, r in keys})
        if not wanted:
            return {}
        request = {
            self.table: {
                "Keys": [dynamo.key(tenancy_pk(n), MOVEMENT_PREFIX + r) for n, r in wanted],
                "ConsistentRead": True,
            }
        }
        found = (movement_from_item(i) for i in dynamo.batch_get(request).get(self.table, []))
        return {(m.tenant_number, m.reference): m for m in found}

    def put_movements(self, movements: list[Movement]) -> list[Movement]:
        """Write (or replace, by reference) movements; returns those not written.

        Each transaction (TransactWriteItems, at most 100 items) writes whole tenancies'
        movements with their ``has_movements`` flag, so a failure writes nothing of it (a
        tenancy with more than 99 movements to write spans several, in the given order); a
        concurrent transaction on the same items is tried again twice.
        """
        failed: list[Movement] = []
        for chunk in movement_transactions(movements):
            writes = []
            for number, part in chunk:
                writes.append(dynamo.write("has_movements", self._flag_request(number)))
                writes += [
                    dynamo.write("movement", {"Put": {"TableName": self.table, "Item": movement_item(m)}}) for m in part
                ]
            if not self._commit(writes):
                failed += [m for _, part in chunk for m in part]
        return failed

    def _flag_request(self, number: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": dynamo.key(tenancy_pk(number), TENANCY_SK),
                "UpdateExpression": "SET has_movements = :t, tenant_number = :n",
                "ExpressionAttributeValues": {":t": {"BOOL": True}, ":n": {"S": normalize_tenant_number(number)}},
            }
        }

    @staticmethod
    def _commit(writes: list[Write]) -> bool:
        for _ in range(MOVEMENT_ATTEMPTS):
            try:
                dynamo.commit(writes)
                return True
            except RaceLost:
                continue
            except Exception:
                return False
        return False

    # -- what the imports need
    def tenancies_for_import(self, numbers: Iterable[str]) -> dict[str, ImportedTenancy]:
        """The tenancies of these tenant numbers (absent: unknown tenant) with their addressees,
        in batches of 100 keys."""
        keys = [dynamo.key(tenancy_pk(n), sk) for n in sorted(set(numbers)) for sk in (TENANCY_SK, ADDRESSEES_SK)]
        if not keys:
            return {}
        items = dynamo.batch_get({self.table: {"Keys": keys, "ConsistentRead": True}}).get(self.table, [])
        found: dict[str, ImportedTenancy] = {}
        rosters: dict[str, dict[str, Any]] = {}
        for item in items:
            number = str(item["pk"]["S"]).removeprefix("TENANT#")
            if item["sk"]["S"] == TENANCY_SK:
                found[number] = ImportedTenancy(_tenancy(item))
            else:
                rosters[number] = dynamo.from_item(item)
        for number, values in rosters.items():
            if number in found:
                found[number].addressees = _named(values, "h_")
                found[number].departed = _named(values, "gone_")
        return found

    def set_roster(self, tenant_number: str, holders: list[Holder], departed: list[Addressee]) -> None:
        """The tenancy's holders as the latest tenants file lists them (the notice worker's
        addressees, ``h_<id>``) and those who left it (``gone_<id>``): a tenants file is
        complete for every tenancy it lists (contract section 5)."""
        item: dict[str, Any] = {
            **{f"h_{h.holder_id}": _addressee(Addressee(h.holder_id, h.last_name, h.first_name)) for h in holders},
            **{f"gone_{a.holder_id}": _addressee(a) for a in departed},
        }
        with aws.unavailable_on_failure():
            aws.dynamodb().put_item(
                TableName=self.table, Item={**dynamo.key(tenancy_pk(tenant_number), ADDRESSEES_SK), **item}
            )

    def mark_left(self, tenant_number: str, holder_id: str, at: str) -> None:
        """The holder is no longer in the office's records for the tenancy (kept, marked);
        writing the holder again (a later file lists them) clears the mark."""
        dynamo.update_if(
            TableName=self.table,
            Key=dynamo.key(tenancy_pk(tenant_number), f"HOLDER#{holder_id}"),
            UpdateExpression="SET left_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": {"S": at}},
        )


tenancy_store: Provider[TenancyStore] = Provider(TenancyStore)
