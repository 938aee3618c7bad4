"""Publishing avis d'échéance: PDF into the tenant's prefix, then the "available" e-mail.

The import sends batches of tenants to SQS; the notice worker calls :func:`deliver_batch` for
each message. Everything here is idempotent, because SQS delivers at least once and a message
whose batch failed is retried: the PDF is rendered deterministically and overwritten, and
each holder is e-mailed at most once per notice thanks to a claim recorded with the notice
(:meth:`DocumentStore.claim_notification`) before sending, released if the sending fails.

The "available" e-mails go through the mail queue (``oph.platform.mail_queue``), which sends
them at the pace SES allows: a bulk publication never throttles the account.

Only holders with an active, enabled account whose ``notice_emails`` preference is on (the
default) and whose address is not known to bounce are e-mailed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oph.accounts import push
from oph.accounts.account_store import account_store
from oph.accounts.model import ACTIVE, Account
from oph.documents.mails import notice_email
from oph.documents.model import NOTICE, Document
from oph.documents.store import document_store
from oph.platform import clock, mail_queue
from oph.platform.mail import get_mailer
from oph.platform.observability import count
from oph.tenancy.model import Addressee
from oph.tenancy.store import tenancy_store

# Tenants of one message are published by a few threads: rendering is CPU-bound, but each
# notice also waits on S3 and DynamoDB, and those waits overlap (docs/PERFORMANCE.md).
PUBLISH_THREADS = 8


def deliver_batch(body: Mapping[str, Any]) -> int:
    """Publish every notice of one SQS message; returns how many PDFs were stored.

    If any tenant fails, the others still complete and the first error is raised, so the
    message is retried; everything per tenant is idempotent.
    """
    from concurrent.futures import ThreadPoolExecutor

    entries = list(body.get("tenants") or [])
    if len(entries) <= 1:
        return sum(deliver_tenant(entry) for entry in entries)
    document_store().warm_up()
    with ThreadPoolExecutor(max_workers=min(PUBLISH_THREADS, len(entries))) as pool:
        futures = [pool.submit(deliver_tenant, entry) for entry in entries]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
    return sum(f.result() for f in futures)


def deliver_tenant(entry: Mapping[str, Any]) -> int:
    """Publish the notices of one tenant of a message, then tell the holders who want it."""
    number = str(entry["tenant_number"])
    documents = [_document(d) for d in entry.get("documents") or []]
    known = entry.get("holders")
    holders: list[Any] = (
        [Addressee(str(h["holder_id"]), str(h["last_name"]), str(h["first_name"])) for h in known]
        if known
        else tenancy_store().list_holders(number)
    )
    tenancy = entry.get("tenancy") or {}
    for document in documents:
        publish_pdf(document, tenancy, holders)
    recipients = notice_recipients(holders)
    for document in documents:
        for holder, account in recipients:
            notify(document, holder, account)
        push_once(document, holders)
    return len(documents)


def push_once(document: Document, holders: Iterable[Any]) -> None:
    """Tell the holders' phones (``oph.accounts.push``: their preference, their devices), once
    per notice even when the message is retried: one "push" claim next to the e-mails' (never
    released: a push is best effort, and ``notify_notice`` never raises)."""
    if document_store().claim_notification(document, "push"):
        push.notify_notice([h.holder_id for h in holders], document.doc_id, document.period)


def _document(values: Mapping[str, Any]) -> Document:
    known = {k: v for k, v in values.items() if k in Document.__dataclass_fields__}
    document = Document(**known)
    if document.type != NOTICE or document.tenant_number is None:
        raise ValueError("not a notice")
    return document


def publish_pdf(document: Document, tenancy: Mapping[str, Any] | Any, holders: Iterable[Any]) -> bytes:
    """Render the notice, store it under the tenant's prefix, mark the index item rendered."""
    from oph.documents.notice_pdf import render_notice

    pdf = render_notice(document, tenancy, holders)
    store = document_store()
    store.put_pdf(document, pdf)
    store.mark_rendered(document, clock.iso_instant())
    count("NoticePdfsStored")
    return pdf


def wants_notice_emails(account: Account) -> bool:
    """An active, enabled account, with an address not known to bounce, that did not turn
    the ``notice_emails`` preference off (it is on by default)."""
    return (
        account.status == ACTIVE
        and not account.disabled
        and account.email_status != "undeliverable"
        and bool((account.preferences or {}).get("notice_emails", True))
    )


def notice_recipients(holders: Iterable[Any]) -> list[tuple[Any, Account]]:
    """The holders to e-mail about a notice, with their account."""
    accounts = account_store()
    found = []
    for holder in holders:
        account = accounts.get_by_holder(holder.holder_id)
        if account is not None and wants_notice_emails(account):
            found.append((holder, account))
    return found


def notify(document: Document, holder: Any, account: Account) -> bool:
    """E-mail one holder that the notice is available, once: False if already done."""
    store = document_store()
    if not store.claim_notification(document, holder.holder_id):
        return False
    email = notice_email(document, account)
    try:
        if mail_queue.queue_configured():  # deployed and local: at the pace SES allows
            mail_queue.enqueue(f"notice/{document.tenant_number}/{document.doc_id}/{holder.holder_id}", email)
        else:  # no queue (the unit tier's twins): straight to the mailer
            get_mailer().send(email)
    except Exception:
        store.release_notification(document, holder.holder_id)  # let the retry of this message send it
        raise
    count("NoticeEmailsSent")
    return True
