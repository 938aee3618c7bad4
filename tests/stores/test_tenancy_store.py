"""TenancyStore and its twin obey the same contract."""

from __future__ import annotations

from oph.tenancy.model import Holder, Movement, Tenancy
from oph.tenancy.store import TenancyStore
from tests.stores.conftest import twin_or_real
from tests.twins.tenancy import MemoryTenancyStore

store = twin_or_real(TenancyStore, MemoryTenancyStore)

JEAN = Holder("00123456", "DUPOND", "Jean", "1975-09-10")
MARIE = Holder("123456", "DUPOND", "Marie", "1977-01-02")


def test_holders_are_listed_by_normalised_tenant_number(store):
    store.put_holder(JEAN)
    store.put_holders([MARIE])
    assert {h.first_name for h in store.list_holders(" 123 456")} == {"Jean", "Marie"}
    assert store.get_holder("123456", JEAN.holder_id).first_name == "Jean"
    assert store.get_holder("123456", "nobody") is None
    assert store.list_holders("") == []


def test_tenancy_keeps_its_balance_across_descriptive_updates(store):
    store.put_tenancy(Tenancy("123456", "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS", 61068, "2019-05-23"))
    store.put_tenancy(Tenancy("123456", "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS"))
    tenancy = store.get_tenancy("123456")
    assert (tenancy.address_line1, tenancy.balance_cents, tenancy.balance_date) == ("10 Rue Hémet", 61068, "2019-05-23")


def test_the_later_balance_wins_and_the_notices_file_wins_a_tie(store):
    store.put_tenancy(Tenancy("123456", balance_cents=100, balance_date="2019-05-23"))
    assert store.set_balance("123456", 50, "2019-05-01", source="notices") is False
    assert store.set_balance("123456", 70, "2019-05-23", source="tenants") is False
    assert store.set_balance("123456", 80, "2019-05-23", source="notices") is True
    assert store.set_balance("123456", 90, "2019-06-01", source="tenants") is True
    assert store.get_tenancy("123456").balance_cents == 90


def test_tenancy_and_holder_in_one_read(store):
    store.put_tenancy(Tenancy("123456", "C1"))
    store.put_holder(JEAN)
    tenancy, holder = store.get_tenancy_and_holder("123456", JEAN.holder_id)
    assert tenancy.contract_number == "C1" and holder.last_name == "DUPOND"
    assert store.get_tenancy_and_holder("999", "x") == (None, None)


def test_import_view_gives_known_tenancies_with_their_roster(store):
    store.put_tenancy(Tenancy("123456", "C1"))
    store.set_roster("123456", [JEAN, MARIE], [])
    found = store.tenancies_for_import(["123456", "999999"])
    assert set(found) == {"123456"}
    assert [a.first_name for a in found["123456"].addressees] == ["Jean", "Marie"]
    assert found["123456"].departed == []
    marie = found["123456"].addressees[1]
    store.set_roster("123456", [JEAN], [marie])  # a later file: the roster is replaced, not merged
    again = store.tenancies_for_import(["123456"])["123456"]
    assert [a.first_name for a in again.addressees] == ["Jean"]
    assert again.departed == [marie]


def test_a_holder_who_left_is_marked_until_written_again(store):
    store.put_holder(MARIE)
    store.mark_left("123456", MARIE.holder_id, "2026-11-29T00:00:00Z")
    assert store.get_holder("123456", MARIE.holder_id).left_at == "2026-11-29T00:00:00Z"
    assert store.list_holders("123456")[0].left_at == "2026-11-29T00:00:00Z"
    store.put_holders([MARIE])  # listed again by a later file
    assert store.get_holder("123456", MARIE.holder_id).left_at is None
    store.mark_left("123456", "nobody", "2026-11-29T00:00:00Z")  # nothing to mark: nothing happens


def test_movements_are_replaced_by_reference(store):
    store.put_movements(
        [
            Movement("00123456", "2019-05-05", "Virement", -18000, "M-88412"),
            Movement("123456", "2019-04-01", "Report à nouveau", 39068, "M-1"),
        ]
    )
    store.put_movements([Movement("123456", "2019-05-06", "Virement", -18500, "M-88412")])  # corrected
    found = sorted(store.movements("123456"), key=lambda m: m.date)
    assert [(m.date, m.amount_cents, m.reference) for m in found] == [
        ("2019-04-01", 39068, "M-1"),
        ("2019-05-06", -18500, "M-88412"),
    ]
    assert all(m.tenant_number == "123456" for m in found)
    assert store.movements("999") == []
    assert store.get_movements([("00123456", "M-1"), ("123456", "M-2"), ("999", "M-1")]) == {
        ("123456", "M-1"): Movement("123456", "2019-04-01", "Report à nouveau", 39068, "M-1")
    }
    assert store.get_movements([]) == {}


def test_writing_movements_flags_the_tenancy_and_nothing_resets_the_flag(store):
    store.put_tenancy(Tenancy("123456", "C1", balance_cents=61068, balance_date="2019-05-23"))
    store.put_tenancy(Tenancy("777777", "C7"))
    assert store.get_tenancy("123456").has_movements is False
    store.put_movements([Movement("123456", "2019-01-01", "Report à nouveau", 45068, "M-1")])
    store.put_tenancy(Tenancy("123456", "C2", has_movements=False))  # a later tenants file
    store.set_balance("123456", 100, "2019-06-01", source="notices")
    tenancy = store.get_tenancy("123456")
    assert (tenancy.contract_number, tenancy.balance_cents, tenancy.has_movements) == ("C2", 100, True)
    assert store.tenancies_for_import(["123456"])["123456"].tenancy.has_movements is True
    found = store.get_tenancies(["00123456", "777777", "999999"])
    assert {n: t.has_movements for n, t in found.items()} == {"123456": True, "777777": False}
    assert found["777777"].contract_number == "C7"
    assert store.get_tenancies([]) == {}


def test_many_movements_of_many_tenancies_are_all_written(store):
    moves = [Movement(str(100000 + t), "2019-01-01", "Loyer", i, f"R{i}") for t in range(3) for i in range(120)]
    moves.append(Movement("100000", "2019-02-01", "Loyer corrigé", 7, "R5"))  # the later one of a reference wins
    assert store.put_movements(moves) == []
    assert len(store.movements("100000")) == len(store.movements("100002")) == 120
    assert next(m for m in store.movements("100000") if m.reference == "R5").amount_cents == 7
    assert all(t.has_movements for t in store.get_tenancies(["100000", "100001", "100002"]).values())
