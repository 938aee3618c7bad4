"""Publishing avis d'échéance: PDF into the tenant's prefix, then the "available" e-mail.

The import sends batches of tenants to SQS; the notice worker calls :func:`deliver_batch` for
each message. Everything here is idempotent, because SQS delivers at least once and a message
whose batch failed is retried: the PDF is rendered deterministically and overwritten, and
each holder is e-mailed at most once per notice thanks to a claim recorded with the notice
before sending, released if the sending fails; the holders' phones are told at most once per
notice the same way (a "push" claim, never released: a push is best effort). A claim is only
taken for what will be sent: the holders to e-mail, and "push" when a holder's account wants
push notifications.

What a message costs in AWS calls: one BatchGetItem of its holders' accounts (two, when some
have one: pointers, then accounts), then per notice the S3 put and ONE UpdateItem that marks
it rendered and takes its claims together (:meth:`DocumentStore.mark_rendered_and_claim`).
That write stays one per notice: BatchWriteItem only puts or deletes whole items, without a
condition, so it would overwrite the claims another delivery of the message recorded and
recreate a notice deleted meanwhile; TransactWriteItems fails whole when one notice is gone
and returns no old values; and a claim must say whether it was new, which only an
UpdateItem's ``UPDATED_OLD`` answers. E-mails and pushes add their own calls only for the
holders who get one.

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
from oph.accounts.model import Account
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
# The claim of the phones' notification, next to the holders' e-mail claims.
PUSH_CLAIM = "push"


def deliver_batch(body: Mapping[str, Any]) -> int:
    """Publish every notice of one SQS message; returns how many PDFs were stored.

    The holders' accounts of the whole message are read first, in one batch. If any tenant
    fails, the others still complete and the first error is raised, so the message is
    retried; everything per tenant is idempotent.
    """
    from concurrent.futures import ThreadPoolExecutor

    tenants = [(entry, holders_of(entry)) for entry in body.get("tenants") or []]
    accounts = account_store().get_by_holders(h.holder_id for _, holders in tenants for h in holders)
    if len(tenants) <= 1:
        return sum(_deliver(entry, holders, accounts) for entry, holders in tenants)
    document_store().warm_up()
    with ThreadPoolExecutor(max_workers=min(PUBLISH_THREADS, len(tenants))) as pool:
        futures = [pool.submit(_deliver, entry, holders, accounts) for entry, holders in tenants]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
    return sum(f.result() for f in futures)


def holders_of(entry: Mapping[str, Any]) -> list[Any]:
    """The tenant's holders as the message names them, else as the tenancy lists them."""
    known = entry.get("holders")
    if known:
        return [Addressee(str(h["holder_id"]), str(h["last_name"]), str(h["first_name"])) for h in known]
    return list(tenancy_store().list_holders(str(entry["tenant_number"])))


def deliver_tenant(entry: Mapping[str, Any]) -> int:
    """Publish the notices of one tenant of a message, then tell the holders who want it."""
    holders = holders_of(entry)
    return _deliver(entry, holders, account_store().get_by_holders(h.holder_id for h in holders))


def _deliver(entry: Mapping[str, Any], holders: list[Any], accounts: Mapping[str, Account]) -> int:
    """Per notice: the PDF stored, then one write marks it rendered and claims its e-mails and
    its push; only what this delivery claimed is sent. A failed e-mail does not stop the
    others (its claim is released); the first failure is raised once every notice is done.
    ``accounts``: the holders' accounts by holder id."""
    documents = [_document(d) for d in entry.get("documents") or []]
    recipients = notice_recipients(holders, accounts)
    phones = [h.holder_id for h in holders if push.wants_push(accounts.get(h.holder_id), push.PUSH_NOTICES)]
    claims = [holder.holder_id for holder, _ in recipients] + ([PUSH_CLAIM] if phones else [])
    tenancy = entry.get("tenancy") or {}
    errors: list[Exception] = []
    for document in documents:
        store_pdf(document, tenancy, holders)
        claimed = document_store().mark_rendered_and_claim(document, clock.iso_instant(), claims)
        for holder, account in recipients:
            if holder.holder_id in claimed and (failed := send_notice_email(document, holder, account)) is not None:
                errors.append(failed)
        if PUSH_CLAIM in claimed:  # notify_notice never raises
            push.notify_notice(phones, document.doc_id, document.period)
    if errors:
        raise errors[0]
    return len(documents)


def _document(values: Mapping[str, Any]) -> Document:
    known = {k: v for k, v in values.items() if k in Document.__dataclass_fields__}
    document = Document(**known)
    if document.type != NOTICE or document.tenant_number is None:
        raise ValueError("not a notice")
    return document


def store_pdf(document: Document, tenancy: Mapping[str, Any] | Any, holders: Iterable[Any]) -> bytes:
    """Render the notice and store it under the tenant's prefix (overwriting the same bytes
    when a message is delivered again)."""
    from oph.documents.notice_pdf import render_notice

    pdf = render_notice(document, tenancy, holders)
    document_store().put_pdf(document, pdf)
    count("NoticePdfsStored")
    return pdf


def publish_pdf(document: Document, tenancy: Mapping[str, Any] | Any, holders: Iterable[Any]) -> bytes:
    """Render the notice, store it under the tenant's prefix, mark the index item rendered
    (a download that comes before the worker: nobody is notified from here)."""
    pdf = store_pdf(document, tenancy, holders)
    document_store().mark_rendered(document, clock.iso_instant())
    return pdf


def wants_notice_emails(account: Account) -> bool:
    """An active, enabled account, with an address not known to bounce, that did not turn
    the ``notice_emails`` preference off (it is on by default)."""
    return account.in_service and account.email_status != "undeliverable" and account.wants("notice_emails")


def notice_recipients(holders: Iterable[Any], accounts: Mapping[str, Account]) -> list[tuple[Any, Account]]:
    """The holders to e-mail about a notice, with their account (``accounts``: by holder id)."""
    found = []
    for holder in holders:
        account = accounts.get(holder.holder_id)
        if account is not None and wants_notice_emails(account):
            found.append((holder, account))
    return found


def send_notice_email(document: Document, holder: Any, account: Account) -> Exception | None:
    """E-mail one holder whose claim this delivery took that the notice is available. If it
    cannot be sent, the claim is released (the retry of the message sends it) and the error
    returned."""
    email = notice_email(document, account)
    try:
        if mail_queue.queue_configured():  # deployed and local: at the pace SES allows
            mail_queue.enqueue(f"notice/{document.tenant_number}/{document.doc_id}/{holder.holder_id}", email)
        else:  # no queue (the unit tier's twins): straight to the mailer
            get_mailer().send(email)
    except Exception as exc:
        document_store().release_notification(document, holder.holder_id)
        return exc
    count("NoticeEmailsSent")
    return None
