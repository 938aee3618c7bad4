"""The gateway's server-to-server notification (IPN): verified, then applied exactly once.

Only a genuine notification about this very payment changes it. ``succeeded`` never changes
and wins over an earlier ``refused``/``abandoned``/``expired`` (the card was debited); any
other final status only replaces ``created``. A success is then fulfilled
(:func:`oph.payments.fulfilment.fulfil`): duplicates and retries of it send one e-mail.
"""

from __future__ import annotations

from oph.accounts import push
from oph.payments import systempay
from oph.payments.adapters.gateway import VerifiedNotification, get_gateway
from oph.payments.fulfilment import fulfil
from oph.payments.model import REFUSED, SUCCEEDED, AlreadySucceeded, NotificationRejected, Payment
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.errors import NotFound, ServiceUnavailable
from oph.platform.observability import count, get_logger
from oph.platform.transaction import RaceLost, Transaction

MAX_GATEWAY_VALUE = 64  # what is kept of the gateway's status and transaction uuid


def handle_notification(provider: str, body: bytes) -> None:
    """A gateway's notification, verified and applied exactly once.

    Any check that fails raises (4xx) and changes nothing; the rejection is counted.
    """
    try:
        gateway = get_gateway(provider)
        try:
            fields = systempay.parse_form(body)
        except systempay.MalformedNotification:
            raise NotificationRejected() from None
        verified = gateway.verify_notification(fields)
        payment = payment_store().find(verified.order_id)
        if payment is None or not matches(payment, verified, provider):
            raise NotificationRejected()
    except (NotificationRejected, NotFound):
        count("PaymentNotificationsRejected")
        get_logger().warning("payment notification rejected", extra={"provider": provider[:32]})
        raise
    apply(payment, verified)


def matches(payment: Payment, notification: VerifiedNotification, provider: str) -> bool:
    """The notification is about this very payment: same gateway, shop, mode, transaction,
    amount and currency."""
    return (
        payment.provider == provider
        and notification.site_id == payment.site_id
        and notification.ctx_mode == payment.ctx_mode
        and notification.currency == systempay.CURRENCY_EUR
        and notification.amount == str(payment.amount_cents)
        and notification.trans_id.lower() == payment.trans_id.lower()
        and notification.trans_date == payment.trans_date
    )


def apply(payment: Payment, notification: VerifiedNotification) -> None:
    """The notification's final status, if it has one, through the status machine."""
    new_status = notification.new_status
    if new_status is None:
        get_logger().info(
            "payment notification without final status", extra={"trans_status": notification.trans_status}
        )
        return
    if new_status == SUCCEEDED:
        if mark_succeeded(payment, notification):
            count("PaymentsSucceeded")
            push.notify_payment(payment.account_id, payment.payment_id, succeeded=True)  # queued, never raises
        fulfil(payment.tenant_number, payment.payment_id)
        return
    closed = payment_store().close(
        payment, new_status, trans_status=notification.trans_status[:MAX_GATEWAY_VALUE], at=clock.iso_instant()
    )
    # Not closed: already final (a duplicate, a retry or an out-of-order notification).
    if closed and new_status == REFUSED:
        count("PaymentsRefused")
        push.notify_payment(payment.account_id, payment.payment_id, succeeded=False)


def mark_succeeded(payment: Payment, notification: VerifiedNotification) -> bool:
    """True for the one notification that moved the payment to succeeded."""
    store = payment_store()
    writes = store.mark_succeeded(
        payment,
        paid_at=clock.iso_instant(),
        trans_status=notification.trans_status[:MAX_GATEWAY_VALUE],
        trans_uuid=notification.trans_uuid[:MAX_GATEWAY_VALUE],
    )
    try:
        Transaction(writes).commit()
    except AlreadySucceeded:
        return False
    except RaceLost:  # a concurrent copy of the notification: the gateway retries
        raise ServiceUnavailable() from None
    return True
