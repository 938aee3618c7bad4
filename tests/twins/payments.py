"""Twin of :class:`oph.payments.store.PaymentStore`, and :func:`memory_payments`: every store
the payments use cases reach swapped for its twin, for the unit tier.

The tenancy's partition holds what other contexts write there too: the twin's snapshot reads
the tenancy, holders and movements from a tenancy twin and the documents from any object with a
``list(tenant_number)`` (a documents twin), when given.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlencode

from oph.documents.model import Document
from oph.documents.store import document_store
from oph.payments.adapters.gateway import GatewayKeys, key_source, notification_sender
from oph.payments.adapters.iban_vault import IbanUnreadable, iban_vault
from oph.payments.iban import compact
from oph.payments.mandate import (
    CREATE,
    REVOCABLE,
    REVOCATION_PENDING,
    REVOKE,
    DirectDebitExists,
    ExportEntry,
    Mandate,
)
from oph.payments.mandate_store import mandate_store
from oph.payments.model import (
    CREATED,
    EXPIRED,
    SUCCEEDED,
    AlreadySucceeded,
    IdempotencyKeyUsed,
    IdempotencyRecord,
    Payment,
    TenancySnapshot,
    is_valid_payment_id,
)
from oph.payments.store import BALANCE_ATTRIBUTES, export_key, payment_store
from oph.platform import clock
from oph.platform.errors import ApiError, NotFound, ServiceUnavailable
from oph.platform.transaction import Write, memory_write
from oph.tenancy.model import Tenancy, normalize_tenant_number
from tests.twins.accounts import MemoryAccountStore, Outbox, memory_accounts
from tests.twins.documents import MemoryDocumentStore
from tests.twins.tenancy import MemoryTenancyStore


def _projected(cls: Any, value: Any) -> Any:
    """``value`` as the balance's projection reads it back (only the projected attributes)."""
    kept = {k: v for k, v in asdict(value).items() if k in BALANCE_ATTRIBUTES}
    required = {f.name: "" for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    return cls(**{**required, **kept})


class MemoryPaymentStore:
    def __init__(self, tenancies: Any = None, documents: Any = None) -> None:
        self.tenancies = tenancies
        self.documents = documents
        self.payments: dict[tuple[str, str], Payment] = {}
        self.leases: dict[tuple[str, str], int] = {}  # fulfil_claimed_ts
        self.open_index: dict[str, tuple[str, str]] = {}  # "<created_at>#<id>" -> (tenant, id)
        self.open_reads = 0  # entries the expiry job read (the real store: items queried)
        self.paid_index: dict[str, dict[str, Payment]] = {}  # Paris day -> sk -> entry
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.exports: dict[str, bytes] = {}

    @staticmethod
    def _key(tenant_number: str, payment_id: str) -> tuple[str, str]:
        return normalize_tenant_number(tenant_number), payment_id

    # -- reading payments
    def get(self, tenant_number: str, payment_id: str) -> Payment | None:
        if not is_valid_payment_id(payment_id):
            return None
        return self.payments.get(self._key(tenant_number, payment_id))

    def find(self, payment_id: str, *, patience: int = 0) -> Payment | None:
        if not is_valid_payment_id(payment_id):
            return None
        return next((p for (_, pid), p in self.payments.items() if pid == payment_id), None)

    def history(self, tenant_number: str) -> list[Payment]:
        return self.for_tenancy(tenant_number)

    def for_tenancy(self, tenant_number: str) -> list[Payment]:
        number = normalize_tenant_number(tenant_number)
        return [p for (n, _), p in sorted(self.payments.items()) if n == number]

    def open_until(self, up_to: str) -> list[tuple[str, str, str]]:
        found = [
            (*self.open_index[sk], sk.split("#")[0]) for sk in sorted(self.open_index) if sk.split("#")[0] <= up_to
        ]
        self.open_reads += len(found)
        return found

    def drop_open(self, created_at: str, payment_id: str) -> None:
        self.open_index.pop(f"{created_at}#{payment_id}", None)

    def paid_on(self, day: str) -> list[Payment]:
        entries = self.paid_index.get(day, {})
        return [entries[sk] for sk in sorted(entries)]

    def snapshot(self, tenant_number: str, *, for_balance: bool = False) -> TenancySnapshot:
        number = normalize_tenant_number(tenant_number)
        snapshot = TenancySnapshot(tenant_number)
        if self.tenancies is not None:
            snapshot.tenancy = self.tenancies.get_tenancy(number)
            if not for_balance:
                snapshot.holders = list(self.tenancies.list_holders(number))
            snapshot.movements = list(self.tenancies.movements(number))
        documents: list[Document] = list(self.documents.list(number)) if self.documents is not None else []
        snapshot.documents = {d.doc_id: d for d in documents}
        snapshot.payments = self.for_tenancy(number)
        if for_balance:
            if snapshot.tenancy is not None:
                snapshot.tenancy = _projected(Tenancy, snapshot.tenancy)
            snapshot.documents = {k: _projected(Document, d) for k, d in snapshot.documents.items()}
            snapshot.payments = [_projected(Payment, p) for p in snapshot.payments]
        return snapshot

    # -- creating
    def next_trans_sequence(self, site_id: str, day: str) -> int:
        n = self.counters.get((site_id, day), 0)
        self.counters[(site_id, day)] = n + 1
        return n

    def idempotency_record(self, account_id: str, key: str) -> IdempotencyRecord | None:
        return self.idempotency.get((account_id, key))

    def claim_idempotency_key(self, account_id: str, key: str, record: IdempotencyRecord, now_ts: int) -> Write:
        def free() -> bool:
            current = self.idempotency.get((account_id, key))
            return current is None or current.valid_until <= now_ts

        def keep() -> None:
            self.idempotency[(account_id, key)] = record

        return memory_write("idempotency key", check=free, apply=keep, fails_with=IdempotencyKeyUsed)

    def add(self, payment: Payment) -> list[Write]:
        key = self._key(payment.tenant_number, payment.payment_id)

        def index() -> None:
            sk = f"{payment.created_at}#{payment.payment_id}"
            self.open_index[sk] = key

        return [
            memory_write("payment", check=lambda: key not in self.payments, apply=lambda: self.put(payment)),
            memory_write("open payments index", apply=index),
        ]

    def put(self, payment: Payment) -> None:
        number = normalize_tenant_number(payment.tenant_number)
        self.payments[self._key(number, payment.payment_id)] = replace(payment, tenant_number=number)

    # -- the status machine
    def mark_succeeded(self, payment: Payment, *, paid_at: str, trans_status: str, trans_uuid: str) -> list[Write]:
        key = self._key(payment.tenant_number, payment.payment_id)

        def not_yet() -> bool:
            current = self.payments.get(key)
            return current is not None and current.status != SUCCEEDED

        def succeed() -> None:
            self.payments[key] = replace(
                self.payments[key],
                status=SUCCEEDED,
                paid_at=paid_at,
                settled_at=paid_at,
                trans_status=trans_status,
                trans_uuid=trans_uuid,
            )

        def index() -> None:
            entry = Payment(
                payment_id=payment.payment_id,
                tenant_number=payment.tenant_number,
                amount_cents=payment.amount_cents,
                status=SUCCEEDED,
                paid_at=paid_at,
                created_at=payment.created_at,
                provider=payment.provider,
                site_id=payment.site_id,
                trans_id=payment.trans_id,
                trans_date=payment.trans_date,
                trans_uuid=trans_uuid,
            )
            self.paid_index.setdefault(clock.paris_date(paid_at), {})[f"{paid_at}#{payment.payment_id}"] = entry

        return [
            memory_write("payment succeeded", check=not_yet, apply=succeed, fails_with=AlreadySucceeded),
            memory_write("paid day index", apply=index),
            memory_write("open payments index", apply=lambda: self.drop_open(payment.created_at, payment.payment_id)),
        ]

    def close(self, payment: Payment, status: str, *, trans_status: str, at: str) -> bool:
        key = self._key(payment.tenant_number, payment.payment_id)
        current = self.payments.get(key)
        if current is None or current.status != CREATED:
            return False
        self.payments[key] = replace(current, status=status, settled_at=at, trans_status=trans_status)
        self.drop_open(current.created_at, current.payment_id)
        return True

    def expire(self, tenant_number: str, payment_id: str, *, cutoff: str, at: str) -> bool:
        key = self._key(tenant_number, payment_id)
        current = self.payments.get(key)
        if current is None or current.status != CREATED or current.created_at > cutoff:
            return False
        self.payments[key] = replace(current, status=EXPIRED, settled_at=at)
        return True

    # -- fulfilment
    def claim_fulfilment(self, payment: Payment, *, now_ts: int, lease_seconds: int) -> bool:
        key = self._key(payment.tenant_number, payment.payment_id)
        current = self.payments.get(key)
        if current is None or current.status != SUCCEEDED or current.fulfilled_at is not None:
            return False
        claimed = self.leases.get(key)
        if claimed is not None and claimed >= now_ts - lease_seconds:
            return False
        self.leases[key] = now_ts
        return True

    def release_fulfilment(self, payment: Payment) -> None:
        self.leases.pop(self._key(payment.tenant_number, payment.payment_id), None)

    def record_receipt(self, payment: Payment, doc_id: str) -> None:
        key = self._key(payment.tenant_number, payment.payment_id)
        self.payments[key] = replace(self.payments[key], receipt_doc_id=doc_id)

    def mark_fulfilled(self, payment: Payment, *, at: str) -> None:
        key = self._key(payment.tenant_number, payment.payment_id)
        self.payments[key] = replace(self.payments[key], fulfilled_at=at)
        self.leases.pop(key, None)

    # -- the daily export
    def put_export(self, day: str, body: bytes) -> str:
        key = export_key(day)
        self.exports[key] = body
        return key


# -- direct-debit mandates ------------------------------------------------------------------
class MemoryMandateStore:
    """Twin of :class:`oph.payments.mandate_store.MandateStore`: the tenancy's current mandate,
    the earlier ones, the export's day index, and the mandate documents it lists (in a
    documents twin, when given)."""

    def __init__(self, documents: Any = None) -> None:
        self.documents = documents
        self.current_mandates: dict[str, Mandate] = {}  # tenant number -> current mandate
        self.earlier: dict[tuple[str, str], Mandate] = {}  # (tenant number, reference) -> mandate
        self.day_index: dict[str, dict[str, ExportEntry]] = {}  # Paris day -> sk -> line

    # -- reads
    def current(self, tenant_number: str) -> Mandate | None:
        return self.current_mandates.get(normalize_tenant_number(tenant_number))

    def get(self, tenant_number: str, reference: str) -> Mandate | None:
        found = self.current(tenant_number)
        if found is not None and found.reference == reference:
            return found
        return self.earlier.get((normalize_tenant_number(tenant_number), reference))

    def all(self, tenant_number: str) -> list[Mandate]:
        number = normalize_tenant_number(tenant_number)
        found = [m for (n, _), m in self.earlier.items() if n == number]
        if number in self.current_mandates:
            found.append(self.current_mandates[number])
        return sorted(found, key=lambda m: m.sequence, reverse=True)

    def export_entries(self, day: str) -> list[ExportEntry]:
        entries = self.day_index.get(day, {})
        return [entries[sk] for sk in sorted(entries)]

    def _index(self, mandate: Mandate, action: str, at: str) -> None:
        entry = ExportEntry(
            mandate_reference=mandate.reference,
            tenant_number=normalize_tenant_number(mandate.tenant_number),
            account_holder=mandate.account_holder,
            iban_ciphertext=mandate.iban_ciphertext,
            debit_day=mandate.debit_day,
            signed_at=mandate.signed_at,
            action=action,
        )
        self.day_index.setdefault(clock.paris_date(at), {})[f"{at}#{mandate.reference}#{action}"] = entry

    # -- the signature
    def sign_items(self, mandate: Mandate, *, previous: Mandate | None, document: Any) -> list[Write]:
        number = normalize_tenant_number(mandate.tenant_number)

        def still_previous() -> bool:
            found = self.current_mandates.get(number)
            if previous is None:
                return found is None
            return found is not None and (found.reference, found.status) == (previous.reference, previous.status)

        def keep_previous() -> None:
            assert previous is not None
            self.earlier[(number, previous.reference)] = previous

        writes = [
            memory_write(
                "mandate",
                check=still_previous,
                apply=lambda: self.current_mandates.__setitem__(number, replace(mandate, tenant_number=number)),
                fails_with=DirectDebitExists,
            )
        ]
        if previous is not None:
            writes.append(
                memory_write(
                    "earlier mandate",
                    check=lambda: (number, previous.reference) not in self.earlier,
                    apply=keep_previous,
                )
            )
        writes.append(memory_write("mandate day index", apply=lambda: self._index(mandate, CREATE, mandate.signed_at)))
        if document is not None and self.documents is not None:
            writes.append(memory_write("mandate document", apply=lambda: self.documents.put(document)))
        return writes

    # -- the revocation request
    def revoke_items(self, mandate: Mandate, *, at: str) -> list[Write]:
        number = normalize_tenant_number(mandate.tenant_number)

        def revocable() -> bool:
            found = self.current_mandates.get(number)
            return found is not None and found.reference == mandate.reference and found.status in REVOCABLE

        def revoke() -> None:
            self.current_mandates[number] = replace(self.current_mandates[number], status=REVOCATION_PENDING)

        return [
            memory_write("mandate revocation", check=revocable, apply=revoke, fails_with=NotFound),
            memory_write("mandate day index", apply=lambda: self._index(mandate, REVOKE, at)),
        ]

    # -- the office's report
    def set_status(
        self,
        tenant_number: str,
        reference: str,
        status: str,
        *,
        allowed_from: set[str] | frozenset[str],
        at: str | None = None,
    ) -> Mandate | None:
        number = normalize_tenant_number(tenant_number)
        found = self.current_mandates.get(number)
        if found is None or found.reference != reference or found.status not in allowed_from:
            return None
        self.current_mandates[number] = replace(found, status=status)
        return self.current_mandates[number]

    # -- account deletion
    def unlink_signer_items(self, tenant_number: str, account_id: str) -> list[Write]:
        number = normalize_tenant_number(tenant_number)
        writes = []
        for mandate in self.all(number):
            if mandate.signed_by != account_id:
                continue
            is_current = self.current(number) == mandate
            slot = (self.current_mandates, number) if is_current else (self.earlier, (number, mandate.reference))

            def signed(slot: Any = slot, reference: str = mandate.reference) -> bool:
                found = slot[0].get(slot[1])
                return found is not None and found.reference == reference and found.signed_by == account_id

            def unlink(slot: Any = slot) -> None:
                slot[0][slot[1]] = replace(slot[0][slot[1]], signed_by=None)

            writes.append(memory_write("mandate signer", check=signed, apply=unlink))
        return writes

    def put(self, mandate: Mandate) -> None:
        number = normalize_tenant_number(mandate.tenant_number)
        self.current_mandates[number] = replace(mandate, tenant_number=number)


class MemoryIbanVault:
    """Twin of :class:`oph.payments.adapters.iban_vault.IbanVault`: a reversible scrambling (so
    the clear IBAN never appears in what the twins store either) bound to its context like
    KMS's; ``fail_next`` makes the next calls answer as KMS down does (503)."""

    _KEY = b"memory-iban-vault"

    def __init__(self) -> None:
        self.fail_next = 0
        self.calls: list[str] = []

    def _scramble(self, data: bytes) -> bytes:
        return bytes(b ^ self._KEY[i % len(self._KEY)] for i, b in enumerate(data))

    def _charge(self, operation: str) -> None:
        self.calls.append(operation)
        if self.fail_next:
            self.fail_next -= 1
            raise ServiceUnavailable()

    def encrypt(self, iban: str, *, context: dict[str, str]) -> str:
        self._charge("encrypt")
        payload = json.dumps({"context": context, "iban": compact(iban)}, sort_keys=True).encode()
        return "memory:" + base64.b64encode(self._scramble(payload)).decode()

    def decrypt(self, blob: str, *, context: dict[str, str]) -> str:
        self._charge("decrypt")
        try:
            payload = json.loads(self._scramble(base64.b64decode(blob.removeprefix("memory:"), validate=True)))
        except ValueError:
            raise IbanUnreadable("not a ciphertext") from None
        if payload.get("context") != context:
            raise IbanUnreadable("another context")
        return str(payload["iban"])


# -- everything the payments use cases reach ------------------------------------------------
TEST_KEYS = GatewayKeys(site_id="12345678", test_key="test-key-0123456789", production_key="prod-key-0123456789")


@dataclass
class PaymentsTwin:
    payments: MemoryPaymentStore
    documents: MemoryDocumentStore
    tenancy: MemoryTenancyStore
    accounts: MemoryAccountStore
    outbox: Outbox
    mandates: MemoryMandateStore = field(default_factory=MemoryMandateStore)
    vault: MemoryIbanVault = field(default_factory=MemoryIbanVault)


@contextmanager
def memory_payments() -> Iterator[PaymentsTwin]:
    """The payments store, the stores it reads (tenancy, documents, accounts), the mailer and
    the gateway keys swapped for twins for the ``with`` block; the sandbox delivers its
    notifications in-process."""
    with memory_accounts() as accounts:
        documents = MemoryDocumentStore()
        twin = PaymentsTwin(
            MemoryPaymentStore(accounts.tenancy, documents),
            documents,
            accounts.tenancy,
            accounts.accounts,
            accounts.outbox,
            MemoryMandateStore(documents),
        )

        def deliver(url: str, fields: dict[str, str]) -> int:
            from oph.payments.notifications import handle_notification

            try:
                handle_notification("sandbox", urlencode(fields).encode())
            except ApiError as exc:
                return exc.status
            return 200

        with ExitStack() as stack:
            stack.enter_context(payment_store.override(twin.payments))  # type: ignore[arg-type]
            stack.enter_context(document_store.override(documents))  # type: ignore[arg-type]
            stack.enter_context(mandate_store.override(twin.mandates))  # type: ignore[arg-type]
            stack.enter_context(iban_vault.override(twin.vault))  # type: ignore[arg-type]
            stack.enter_context(key_source.override(lambda: TEST_KEYS))
            stack.enter_context(notification_sender.override(deliver))
            yield twin
