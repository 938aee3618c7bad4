"""Admin imports (contract section 5): a CSV dropped under ``imports/<kind>/`` becomes holders,
tenancies, balances and avis d'échéance, and a report ``imports/reports/<name>.json``.

- ``tenants``: one row per holder (a tenant number on several rows = co-holders). Holders are
  written in batches; each tenancy is upserted and its balance set with
  :meth:`TenancyStore.set_balance` (the later ``balance_date`` wins, the notices file on a
  tie).
- ``notices``: one row per notice line; each (tenant number, period) is one avis d'échéance.
  Its index item (``DOC#<id>``, id derived from tenant number and period) is created with a
  conditional put, so ``documents_created`` counts the notices this import really created and
  importing the same file again creates nothing. Rendering the PDFs and e-mailing the holders
  happen in the notice worker (SQS, batches of tenants), so a 150,000-row file stays within the
  import function's time. Rows of an unknown tenant number are rejected: a document must live
  under a tenancy the office has imported. If one line of a notice is invalid the whole notice
  is held back (its other rows are rejected with a reason naming that line): a notice with a
  missing line would show a wrong total, and a published notice is never replaced.

The report is written twice: ``imports/reports/<name>.json`` (the contract's key: the latest
import of that file name, its ``kind`` and ``file`` saying which) and
``imports/reports/<kind>/<name>.json``, so a tenants file and a notices file sharing a name
never lose each other's report.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from oph.documents.model import NOTICE, Document, tenant_prefix
from oph.imports.csv_format import (
    KINDS,
    TENANTS,
    FileRejected,
    NoticeRow,
    RowRejected,
    TenantRow,
    notice_row,
    split_rows,
    tenant_row,
)
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.french import period_label
from oph.platform.observability import count, get_logger
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder, Tenancy
from oph.tenancy.store import TenancyStore, tenancy_pk

REPORTS_PREFIX = "imports/reports/"
# Holders' names and ids per tenancy, written by the tenants import and read in batches by the
# notices import, so the notice worker needs no query per tenant (see ImportStore.put_addressees).
ADDRESSEES_SK = "NOTICE_ADDRESSEES"
NOTICES_PER_MESSAGE = 100
WRITE_THREADS = 8
_NAMESPACE = uuid.UUID("5f0b7c1e-4a43-4c4e-9f51-0c1d0e6a9b21")


def notice_doc_id(tenant_number: str, period: str) -> str:
    """Stable across re-imports (the conditional put relies on it), distinct per tenancy."""
    return str(uuid.uuid5(_NAMESPACE, f"notice|{tenancy_pk(tenant_number)}|{period}"))


def notice_title(period: str) -> str:
    return f"Avis d'échéance — {period_label(period)}"


def notice_filename(period: str) -> str:
    return f"avis-echeance-{period}.pdf"


def notice_key(tenant_number: str, period: str) -> str:
    return f"{tenant_prefix(tenant_number)}notices/avis-echeance-{period}.pdf"


@dataclass
class Report:
    file: str
    kind: str
    status: str = "done"
    rows_read: int = 0
    rows_accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    documents_created: int = 0
    reason: str | None = None  # set when the whole file failed

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append((line, reason))

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "file": self.file,
            "kind": self.kind,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": len(self.rejected),
            "rejected": [{"line": line, "reason": reason} for line, reason in sorted(self.rejected)],
            "documents_created": self.documents_created,
        }
        if self.reason is not None:
            body["reason"] = self.reason
        return body


def report_keys(key: str, kind: str) -> list[str]:
    name = key.rsplit("/", 1)[-1]
    stem = name[: -len(".csv")] if name.lower().endswith(".csv") else name
    return [f"{REPORTS_PREFIX}{stem}.json", f"{REPORTS_PREFIX}{kind}/{stem}.json"]


def kind_of(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) >= 3 and parts[0] == "imports" and parts[1] in KINDS:
        return parts[1]
    return None


# ------------------------------------------------------------------ the use case
def import_object(bucket: str, key: str, *, store: ImportStore | None = None) -> dict[str, Any]:
    """Import one uploaded file and write its report; never raises for a bad file."""
    store = store or ImportStore(bucket)
    kind = kind_of(key)
    report = Report(file=key, kind=kind or "unknown")
    if kind is None:
        report.status, report.reason = (
            "failed",
            "Dossier inconnu : déposez le fichier sous imports/tenants/ ou imports/notices/.",
        )
        return report.as_dict()
    try:
        data = store.read(key)
        if data is None:
            raise FileRejected("Fichier introuvable dans le compartiment (supprimé avant l'import ?).")
        import_bytes(data, kind, report, store)
    except FileRejected as exc:
        report.status, report.reason = "failed", exc.reason
        report.rows_read = report.rows_accepted = report.documents_created = 0
        report.rejected = []
    body = report.as_dict()
    for report_key in report_keys(key, kind):
        store.write_report(report_key, body)
    count("ImportRowsAccepted", report.rows_accepted)
    count("ImportRowsRejected", len(report.rejected))
    count("NoticesCreated", report.documents_created)
    get_logger().info(
        "import done",
        extra={
            "file": key,
            "status": report.status,
            "rows_read": report.rows_read,
            "rows_rejected": len(report.rejected),
            "documents_created": report.documents_created,
        },
    )
    return body


def import_bytes(data: bytes, kind: str, report: Report, store: ImportStore) -> None:
    parsed = split_rows(data, kind)
    report.rows_read = len(parsed.rows) + len(parsed.rejected)
    for line, reason in parsed.rejected:
        report.reject(line, reason)
    if kind == TENANTS:
        _import_tenants(parsed.rows, report, store)
    else:
        _import_notices(parsed.rows, report, store)
    report.rows_accepted = report.rows_read - len(report.rejected)


# ------------------------------------------------------------------ tenants file
def _import_tenants(rows: list[tuple[int, dict[str, str]]], report: Report, store: ImportStore) -> None:
    today = clock.today()
    holders: dict[str, TenantRow] = {}
    tenancies: dict[str, TenantRow] = {}
    lines_of: dict[str, list[int]] = {}
    for line, values in rows:
        try:
            row = tenant_row(line, values, today)
        except RowRejected as exc:
            report.reject(line, exc.reason)
            continue
        holder = Holder(row.tenant_number, row.last_name, row.first_name, row.birth_date)
        if holder.holder_id in holders:
            report.reject(line, f"Ligne en double : ce titulaire figure déjà ligne {holders[holder.holder_id].line}.")
            continue
        first = tenancies.get(row.tenant_number)
        if first is not None and first.tenancy_fields() != row.tenancy_fields():
            report.reject(
                line,
                f"Contrat, adresse ou solde différents de la ligne {first.line} pour le même numéro d'intitulé "
                "(les cotitulaires partagent la même location).",
            )
            continue
        holders[holder.holder_id] = row
        tenancies.setdefault(row.tenant_number, row)
        lines_of.setdefault(row.tenant_number, []).append(line)

    failed = store.put_holders(
        [(Holder(r.tenant_number, r.last_name, r.first_name, r.birth_date), r.line) for r in holders.values()]
    )
    for line in failed:
        report.reject(line, _STORE_FAILURE)

    names: dict[str, list[Holder]] = {}
    for r in holders.values():
        names.setdefault(r.tenant_number, []).append(Holder(r.tenant_number, r.last_name, r.first_name, r.birth_date))

    def save(row: TenantRow) -> None:
        store.put_addressees(row.tenant_number, names[row.tenant_number])
        store.put_tenancy(
            Tenancy(
                tenant_number=row.tenant_number,
                contract_number=row.contract_number,
                third_party_number=row.third_party_number,
                address_line1=row.address_line1,
                postal_code=row.postal_code,
                city=row.city,
                balance_cents=row.balance_cents,
                balance_date=row.balance_date,
            )
        )

    for row, _, error in _in_parallel(save, list(tenancies.values())):
        if error is not None:
            failed_lines = set(failed)
            for line in lines_of[row.tenant_number]:
                if line not in failed_lines:
                    report.reject(line, _STORE_FAILURE)


_STORE_FAILURE = "Enregistrement impossible (service momentanément indisponible) : déposez le fichier à nouveau."


# ------------------------------------------------------------------ notices file
@dataclass
class _Notice:
    tenant_number: str
    period: str
    issue_date: str
    due_date: str
    rows: list[NoticeRow] = field(default_factory=list)
    invalid_line: int | None = None  # a line of this notice that was rejected

    def balance(self) -> tuple[int, str] | None:
        dated = [(r.balance_date, r.balance_cents) for r in self.rows if r.balance_date and r.balance_cents is not None]
        if not dated:
            return None
        balance_date, cents = max(dated)
        return cents, balance_date

    def document(self, source_file: str, tenancy: dict[str, Any] | None) -> Document:
        balance = self.balance()
        if balance is None and tenancy and tenancy.get("balance_date") and tenancy["balance_date"] <= self.issue_date:
            balance = (int(tenancy["balance_cents"]), str(tenancy["balance_date"]))
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


def _import_notices(rows: list[tuple[int, dict[str, str]]], report: Report, store: ImportStore) -> None:
    notices: dict[tuple[str, str], _Notice] = {}
    seen: dict[tuple[object, ...], int] = {}
    invalid_keys: dict[tuple[str, str], int] = {}
    for line, values in rows:
        try:
            row = notice_row(line, values)
        except RowRejected as exc:
            report.reject(line, exc.reason)
            key = _raw_notice_key(values)
            if key is not None:
                invalid_keys.setdefault(key, line)
            continue
        identity: tuple[object, ...] = (row.tenant_number, row.period, row.issue_date, row.due_date, row.label)
        identity += (row.category, row.amount_cents, row.balance_cents, row.balance_date)
        if identity in seen:
            report.reject(
                line,
                f"Ligne en double de la ligne {seen[identity]} : ignorée pour ne pas compter le montant deux fois.",
            )
            continue
        seen[identity] = line
        notice = notices.setdefault(
            row.notice_key, _Notice(row.tenant_number, row.period, row.issue_date, row.due_date)
        )
        if (row.issue_date, row.due_date) != (notice.issue_date, notice.due_date):
            first = notice.rows[0].line if notice.rows else line
            report.reject(line, f"Dates d'émission ou limite différentes de la ligne {first} du même avis.")
            invalid_keys.setdefault(row.notice_key, line)
            continue
        notice.rows.append(row)

    # A notice with an invalid line is held back entirely (see the module docstring).
    for key, bad_line in invalid_keys.items():
        held = notices.pop(key, None)
        if held is None:
            continue
        for row in held.rows:
            report.reject(
                row.line,
                f"Avis non publié : la ligne {bad_line} du même avis ({held.period}) est invalide ; "
                "corrigez-la et déposez le fichier à nouveau.",
            )

    tenancies = store.get_tenancies({n.tenant_number for n in notices.values()})
    for key in [k for k, n in notices.items() if n.tenant_number not in tenancies]:
        for row in notices.pop(key).rows:
            report.reject(
                row.line,
                f"Numéro d'intitulé inconnu : {row.tenant_number} (importez d'abord le fichier des locataires).",
            )

    # Balances: the latest dated one of the file per tenant, set only when it is newer.
    balances: dict[str, tuple[str, int]] = {}
    for notice in notices.values():
        found = notice.balance()
        if found is not None:
            cents, balance_date = found
            if notice.tenant_number not in balances or balance_date > balances[notice.tenant_number][0]:
                balances[notice.tenant_number] = (balance_date, cents)
    updates = []
    for number, (balance_date, cents) in balances.items():
        stored = tenancies[number]
        stored_date = stored.get("balance_date") or ""
        unchanged = stored_date == balance_date and stored.get("balance_cents") == cents
        if balance_date > stored_date or (balance_date == stored_date and not unchanged):
            updates.append((number, cents, balance_date))
    for update, _, error in _in_parallel(lambda u: store.set_balance(*u), updates):
        if error is not None:
            for notice in [n for n in notices.values() if n.tenant_number == update[0]]:
                for row in notice.rows:
                    report.reject(row.line, _STORE_FAILURE)
                notices.pop((notice.tenant_number, notice.period), None)

    documents = [n.document(report.file, tenancies.get(n.tenant_number)) for n in notices.values()]
    to_render: list[Document] = []
    for document, existing, error in _in_parallel(store.create_document, documents):
        if error is not None:
            notice = notices[(document.tenant_number, str(document.period))]
            for row in notice.rows:
                report.reject(row.line, _STORE_FAILURE)
            continue
        if existing is None:
            report.documents_created += 1
            to_render.append(document)
        elif existing and "rendered_at" not in existing:
            # Created by an earlier import whose rendering never finished: finish it now.
            to_render.append(Document.from_item(existing))
    store.enqueue(report.file, to_render, tenancies)


def _raw_notice_key(values: dict[str, str]) -> tuple[str, str] | None:
    from oph.imports.csv_format import parse_period, parse_tenant_number

    try:
        return parse_tenant_number(values.get("tenant_number", "")), parse_period(values.get("period", ""))
    except RowRejected:
        return None


def _in_parallel(fn: Callable[[Any], Any], items: list[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Run one write per item on a few threads (boto3 clients are thread-safe).

    Yields (item, result, error) in the items' order.
    """
    if not items:
        return

    def guarded(item: Any) -> tuple[Any, Any, BaseException | None]:
        try:
            return item, fn(item), None
        except Exception as exc:
            get_logger().warning("import write failed", extra={"error": type(exc).__name__})
            return item, None, exc

    with ThreadPoolExecutor(max_workers=min(WRITE_THREADS, len(items))) as pool:
        yield from pool.map(guarded, items)


# ------------------------------------------------------------------ adapter
class ImportStore:
    """S3, DynamoDB and SQS as the import uses them (tests may pass a fake)."""

    def __init__(self, bucket: str | None = None) -> None:
        settings = get_settings()
        self.bucket = bucket or settings.documents_bucket
        self.table = settings.tenants_table
        self.queue_url = settings.notice_queue_url
        self.tenancy = TenancyStore(self.table)

    def read(self, key: str) -> bytes | None:
        try:
            with aws.unavailable_on_failure():
                return bytes(aws.s3().get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise

    def write_report(self, key: str, body: dict[str, Any]) -> None:
        with aws.unavailable_on_failure():
            aws.s3().put_object(
                Bucket=self.bucket,
                Key=key,
                Body=json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"),
                ContentType="application/json; charset=utf-8",
            )

    def put_holders(self, holders: list[tuple[Holder, int]]) -> list[int]:
        """Batch-write holder items (same layout as ``TenancyStore.put_holder``).

        Returns the lines of the holders that could not be written.
        """
        requests = [
            (
                line,
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": tenancy_pk(h.tenant_number)},
                            "sk": {"S": f"HOLDER#{h.holder_id}"},
                            "holder_id": {"S": h.holder_id},
                            "tenant_number": {"S": h.tenant_number},
                            "last_name": {"S": h.last_name},
                            "first_name": {"S": h.first_name},
                            "birth_date": {"S": h.birth_date},
                        }
                    }
                },
            )
            for h, line in holders
        ]
        failed: list[int] = []
        for chunk in _chunks(requests, 25):
            try:
                self._batch_write([r for _, r in chunk])
            except Exception as exc:
                get_logger().warning("holder batch failed", extra={"error": type(exc).__name__})
                failed += [line for line, _ in chunk]
        return failed

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        import time

        pending = {self.table: requests}
        for attempt in range(8):
            with aws.unavailable_on_failure():
                result = aws.dynamodb().batch_write_item(RequestItems=pending)
            pending = result.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise RuntimeError("unprocessed items left")

    def put_tenancy(self, tenancy: Tenancy) -> None:
        self.tenancy.put_tenancy(tenancy)

    def set_balance(self, tenant_number: str, cents: int, balance_date: str) -> bool:
        return self.tenancy.set_balance(tenant_number, cents, balance_date, source="notices")

    def put_addressees(self, tenant_number: str, holders: list[Holder]) -> None:
        """Record the holders' names and ids on the tenancy's ``NOTICE_ADDRESSEES`` item (one
        attribute per holder, so holders of earlier files are kept) for the notice worker."""
        values = {
            f":h{i}": {
                "M": {
                    "holder_id": {"S": h.holder_id},
                    "last_name": {"S": h.last_name},
                    "first_name": {"S": h.first_name},
                }
            }
            for i, h in enumerate(holders)
        }
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=self.table,
                Key={"pk": {"S": tenancy_pk(tenant_number)}, "sk": {"S": ADDRESSEES_SK}},
                UpdateExpression="SET " + ", ".join(f"#h{i} = :h{i}" for i in range(len(holders))),
                ExpressionAttributeNames={f"#h{i}": f"h_{h.holder_id}" for i, h in enumerate(holders)},
                ExpressionAttributeValues=values,
            )

    def get_tenancies(self, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The TENANCY items of these tenant numbers (absent = unknown tenant), with their
        addressees under ``"_addressees"`` when the tenants import recorded them."""
        import time

        found: dict[str, dict[str, Any]] = {}
        addressees: dict[str, list[dict[str, str]]] = {}
        keys = [
            {"pk": {"S": tenancy_pk(n)}, "sk": {"S": sk}} for n in sorted(numbers) for sk in ("TENANCY", ADDRESSEES_SK)
        ]
        for chunk in _chunks(keys, 100):
            request: dict[str, Any] = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            for attempt in range(8):
                with aws.unavailable_on_failure():
                    result = aws.dynamodb().batch_get_item(RequestItems=request)
                for item in result.get("Responses", {}).get(self.table, []):
                    values = dynamo.from_item(item)
                    number = str(item["pk"]["S"]).removeprefix("TENANT#")
                    if item["sk"]["S"] == "TENANCY":
                        found[number] = values
                    else:
                        addressees[number] = sorted(
                            (v for k, v in values.items() if k.startswith("h_") and isinstance(v, dict)),
                            key=lambda v: (v.get("last_name", ""), v.get("first_name", "")),
                        )
                request = result.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError("unprocessed keys left")
        for number, names in addressees.items():
            if number in found:
                found[number]["_addressees"] = names
        return found

    def create_document(self, document: Document) -> dict[str, Any] | None:
        """Conditional put of the index item: None when created, else the existing raw item
        (``{}`` if DynamoDB did not return it)."""
        try:
            with aws.unavailable_on_failure():
                aws.dynamodb().put_item(
                    TableName=self.table,
                    Item=document.to_item(),
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except Exception as exc:
            if aws.is_conditional_failure(exc):
                return dict(getattr(exc, "response", {}).get("Item") or {})
            raise
        return None

    def enqueue(self, source_file: str, documents: list[Document], tenancies: dict[str, dict[str, Any]]) -> None:
        """Send the notices to render, grouped by tenant, ``NOTICES_PER_MESSAGE`` per message."""
        by_tenant: dict[str, list[Document]] = {}
        for document in documents:
            by_tenant.setdefault(document.tenant_number, []).append(document)
        batch: list[dict[str, Any]] = []
        size = 0
        for number, docs in by_tenant.items():
            tenancy = {
                k: tenancies.get(number, {}).get(k, "")
                for k in ("contract_number", "third_party_number", "address_line1", "postal_code", "city")
            }
            entry: dict[str, Any] = {
                "tenant_number": number,
                "tenancy": tenancy,
                "documents": [asdict(d) for d in docs],
            }
            if tenancies.get(number, {}).get("_addressees"):
                entry["holders"] = tenancies[number]["_addressees"]
            if batch and size + len(docs) > NOTICES_PER_MESSAGE:
                self._send(source_file, batch)
                batch, size = [], 0
            batch.append(entry)
            size += len(docs)
        if batch:
            self._send(source_file, batch)

    def _send(self, source_file: str, tenants: list[dict[str, Any]]) -> None:
        body = json.dumps({"file": source_file, "tenants": tenants}, ensure_ascii=False, separators=(",", ":"))
        with aws.unavailable_on_failure():
            aws.sqs().send_message(QueueUrl=self.queue_url, MessageBody=body)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
