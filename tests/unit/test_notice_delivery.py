"""The notice worker's rules against the in-memory stores: the PDF is stored under the
tenant's prefix and the notice marked rendered; each holder is e-mailed at most once per
notice, and only when their account is active, enabled, deliverable and opted in; the phones
are told at most once per notice; a message reads its holders' accounts in one batch and
writes each notice once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import pytest

from oph.accounts import devices
from oph.accounts.model import ACTIVE, PENDING, Account
from oph.documents.delivery import deliver_batch, deliver_tenant, wants_notice_emails
from oph.documents.model import NOTICE, Document, tenant_prefix
from oph.documents.store import document_store
from oph.platform.mail import Email, mailer
from oph.platform.transaction import Transaction
from oph.tenancy.model import Holder
from tests.twins.accounts import AccountsTwin, memory_accounts
from tests.twins.documents import MemoryDocumentStore

JEAN = Holder("123456", "DUPOND", "Jean", "1975-09-10")
MARIE = Holder("123456", "DUPOND", "Marie", "1977-01-02")


@dataclass
class World:
    accounts: AccountsTwin
    documents: MemoryDocumentStore

    def account(self, holder: Holder, **changes: object) -> Account:
        account = Account(
            account_id=f"a-{holder.first_name}",
            tenant_number=holder.tenant_number,
            holder_id=holder.holder_id,
            email=f"{holder.first_name.lower()}@exemple.com",
            status=ACTIVE,
            password_hash="$2b$04$hash",
            first_name=holder.first_name,
            last_name=holder.last_name,
        )
        for name, value in changes.items():
            setattr(account, name, value)
        store = self.accounts.accounts
        Transaction(
            store.create_item(account),
            store.put_holder_pointer_item(holder.holder_id, account.account_id, previous=None),
        ).commit()
        return account

    @property
    def sent(self) -> list[Email]:
        return self.accounts.outbox.sent


@pytest.fixture
def world() -> Iterator[World]:
    with memory_accounts() as accounts, document_store.override(MemoryDocumentStore()) as documents:
        yield World(accounts, documents)


def notice(number: str = "123456", period: str = "2019-05") -> Document:
    return Document(
        doc_id=f"notice-{number}-{period}",
        tenant_number=number,
        type=NOTICE,
        title="Avis d'échéance — mai 2019",
        issued_on="2019-05-24",
        s3_key=f"{tenant_prefix(number)}notices/avis-echeance-{period}.pdf",
        filename=f"avis-echeance-{period}.pdf",
        period=period,
        due_date="2019-06-10",
        amount_due_cents=22000,
        extra={"lines": [{"label": "Loyer", "category": "rent", "amount_cents": 22000}]},
    )


def entry(document: Document, holders: tuple[Holder, ...] | None = (JEAN, MARIE)) -> dict:
    """A tenant's entry of a worker message, as the notices import sends it."""
    body: dict = {
        "tenant_number": document.tenant_number,
        "tenancy": {"contract_number": "C1", "address_line1": "10 Rue Hémet", "postal_code": "93300", "city": "X"},
        "documents": [asdict(document)],
    }
    if holders:
        body["holders"] = [
            {"holder_id": h.holder_id, "last_name": h.last_name, "first_name": h.first_name} for h in holders
        ]
    return body


def test_the_pdf_is_stored_under_the_tenants_prefix_and_the_notice_marked_rendered(world):
    world.documents.put(notice())
    assert deliver_tenant(entry(notice())) == 1
    assert world.documents.pdfs[notice().s3_key].startswith(b"%PDF-")
    assert world.documents.get("123456", notice().doc_id).rendered_at


def test_each_holder_is_emailed_once_whatever_the_retries(world):
    world.documents.put(notice())
    jean, marie = world.account(JEAN), world.account(MARIE)
    deliver_tenant(entry(notice()))
    deliver_tenant(entry(notice()))  # SQS delivers at least once
    assert sorted(m.to[0] for m in world.sent) == sorted([jean.email, marie.email])
    assert world.sent[0].subject == "Votre avis d'échéance de mai 2019 est disponible"
    assert "220,00 €" in world.sent[0].text and "10/06/2019" in world.sent[0].text


def test_a_failed_sending_is_sent_by_the_retry(world):
    class Failing:
        def send(self, email: Email) -> None:
            raise RuntimeError("SES down")

    world.documents.put(notice())
    jean = world.account(JEAN)
    with mailer.override(Failing()), pytest.raises(RuntimeError):
        deliver_tenant(entry(notice(), (JEAN,)))
    deliver_tenant(entry(notice(), (JEAN,)))
    assert [m.to[0] for m in world.sent] == [jean.email]


@pytest.mark.parametrize(
    "change",
    [
        {"status": PENDING},
        {"disabled": True},
        {"email_status": "undeliverable"},
        {"preferences": {"notice_emails": False, "receipts_by_email": False}},
    ],
)
def test_only_active_enabled_deliverable_opted_in_accounts_are_emailed(world, change):
    world.documents.put(notice())
    world.account(JEAN, **change)
    deliver_tenant(entry(notice(), (JEAN,)))
    assert world.sent == []
    assert world.documents.pdfs  # the notice is published all the same


def test_notice_emails_are_on_unless_turned_off():
    account = Account("a", "123456", "h", "a@exemple.com", ACTIVE, "x", preferences={})
    assert wants_notice_emails(account) is True


def test_holders_come_from_the_tenancy_when_the_message_has_none(world):
    world.accounts.tenancy.put_holder(JEAN)
    world.documents.put(notice())
    jean = world.account(JEAN)
    deliver_tenant(entry(notice(), holders=None))
    assert [m.to[0] for m in world.sent] == [jean.email]


def test_a_message_publishes_every_tenant(world):
    documents = [notice(str(200000 + i)) for i in range(3)]
    for document in documents:
        world.documents.put(document)
    assert deliver_batch({"tenants": [entry(d, ()) for d in documents]}) == 3
    assert sorted(world.documents.pdfs) == sorted(d.s3_key for d in documents)


class FailingFor:
    """A mailer that cannot send to one address, and sends the others to ``outbox``."""

    def __init__(self, address: str, outbox: list[Email]) -> None:
        self.address, self.outbox = address, outbox

    def send(self, email: Email) -> None:
        if self.address in email.to:
            raise RuntimeError("SES refused")
        self.outbox.append(email)


NO_NEWS = {"notice_emails": False, "push_notices": False}


def test_a_message_reads_its_holders_accounts_in_one_batch(world, monkeypatch):
    store = world.accounts.accounts
    batches: list[list[str]] = []
    batch_read = store.get_by_holders

    def recorded(holder_ids):
        holder_ids = list(holder_ids)
        batches.append(sorted(set(holder_ids)))
        return batch_read(holder_ids)

    def one_by_one(holder_id):
        raise AssertionError("an account read per holder")

    monkeypatch.setattr(store, "get_by_holders", recorded)
    monkeypatch.setattr(store, "get_by_holder", one_by_one)
    documents = [notice("123456"), notice("123457")]
    for document in documents:
        world.documents.put(document)
    jean = world.account(JEAN, preferences={"notice_emails": True, "push_notices": False})
    deliver_batch({"tenants": [entry(documents[0], (JEAN,)), entry(documents[1], (MARIE,))]})
    assert batches == [sorted({JEAN.holder_id, MARIE.holder_id})]
    assert [m.to[0] for m in world.sent] == [jean.email]


def test_each_notice_is_marked_rendered_and_claimed_in_one_write(world, monkeypatch):
    writes: list[tuple[str, list[str]]] = []
    one_write = world.documents.mark_rendered_and_claim

    def recorded(document, rendered_at, claimants):
        writes.append((document.doc_id, sorted(claimants)))
        return one_write(document, rendered_at, claimants)

    def forbidden(*args, **kwargs):
        raise AssertionError("a second write for the notice")

    monkeypatch.setattr(world.documents, "mark_rendered_and_claim", recorded)
    monkeypatch.setattr(world.documents, "mark_rendered", forbidden)
    documents = [notice(period="2019-05"), notice(period="2019-06")]
    for document in documents:
        world.documents.put(document)
    world.account(JEAN)
    world.account(MARIE, preferences=NO_NEWS)
    assert deliver_tenant({**entry(documents[0]), "documents": [asdict(d) for d in documents]}) == 2
    # Jean is e-mailed and his phone may be told; Marie wants neither: nothing is claimed for her
    assert writes == [(d.doc_id, sorted([JEAN.holder_id, "push"])) for d in documents]
    assert all(world.documents.get("123456", d.doc_id).rendered_at for d in documents)


def test_the_phones_are_told_once_per_notice_whatever_the_retries(world):
    world.documents.put(notice())
    jean = world.account(JEAN)
    devices.register_device(jean, "ios", "token-jean")
    world.account(MARIE, preferences={"notice_emails": True, "push_notices": False})
    deliver_tenant(entry(notice()))
    deliver_tenant(entry(notice()))  # SQS delivers at least once
    pushed = world.accounts.push_queue.sent
    assert [(m["account_id"], m["type"], m["id"]) for m in pushed] == [(jean.account_id, "notice", notice().doc_id)]


def test_nothing_is_claimed_when_nobody_is_to_be_told(world):
    world.documents.put(notice())
    world.account(JEAN, preferences=NO_NEWS)
    deliver_tenant(entry(notice(), (JEAN,)))
    assert world.sent == [] and world.accounts.push_queue.sent == []
    assert world.documents.get("123456", notice().doc_id).rendered_at
    # no claim was taken: a holder who turns e-mails on before a retry still gets one
    claimed = world.documents.mark_rendered_and_claim(notice(), "2019-05-24T09:00:00Z", [JEAN.holder_id, "push"])
    assert claimed == {JEAN.holder_id, "push"}


def test_a_failed_email_does_not_stop_the_others_and_only_it_is_sent_again(world):
    world.documents.put(notice())
    jean, marie = world.account(JEAN), world.account(MARIE)
    devices.register_device(jean, "android", "token-jean")
    with mailer.override(FailingFor(jean.email, world.sent)), pytest.raises(RuntimeError):
        deliver_tenant(entry(notice()))
    assert [m.to[0] for m in world.sent] == [marie.email]
    assert len(world.accounts.push_queue.sent) == 1  # the push did not wait for the e-mails
    deliver_tenant(entry(notice()))  # the retry
    assert [m.to[0] for m in world.sent] == [marie.email, jean.email]
    assert len(world.accounts.push_queue.sent) == 1


def test_a_notice_deleted_meanwhile_is_stored_but_nobody_is_told(world):
    jean = world.account(JEAN)
    devices.register_device(jean, "ios", "token-jean")
    assert deliver_tenant(entry(notice(), (JEAN,))) == 1  # its index item is gone
    assert world.documents.pdfs[notice().s3_key].startswith(b"%PDF-")
    assert world.documents.get("123456", notice().doc_id) is None  # not created again
    assert world.sent == [] and world.accounts.push_queue.sent == []


def test_a_failing_tenant_does_not_stop_the_others_of_the_message(world):
    documents = [notice(str(200000 + i)) for i in range(3)]
    for document in documents:
        world.documents.put(document)
    broken = {**entry(documents[1], ()), "documents": [{**asdict(documents[1]), "type": "receipt"}]}
    with pytest.raises(ValueError):
        deliver_batch({"tenants": [entry(documents[0], ()), broken, entry(documents[2], ())]})
    assert sorted(world.documents.pdfs) == sorted([documents[0].s3_key, documents[2].s3_key])
