"""The sandbox gateway's hosted page (contract section 6): it speaks the Systempay protocol
with the test key, so the whole real code path runs without a bank."""

from __future__ import annotations

from oph.payments.adapters.gateway import TEST_CARD_REFUSED, TEST_CARD_SUCCESS, sandbox, send_notification
from oph.payments.checkout import return_url
from oph.platform.observability import get_logger


class UnknownTestCard(Exception):
    """The sandbox only knows its two test cards: the page is shown again with a message."""

    def __init__(self, form: dict[str, str]) -> None:
        super().__init__("unknown test card")
        self.form = form


def sandbox_open(fields: dict[str, str]) -> dict[str, str]:
    """The genuine signed form posted by a checkout page to the sandbox (else 400)."""
    return sandbox().verify_form(fields)


def outcome_of(fields: dict[str, str], form: dict[str, str]) -> tuple[str, str]:
    """(``vads_trans_status``, card number) of what the buyer did on the page."""
    card = "".join((fields.get("card_number") or "").split())
    if "cancel" in fields:
        return "ABANDONED", ""
    if card == TEST_CARD_SUCCESS:
        return "AUTHORISED", card
    if card == TEST_CARD_REFUSED:
        return "REFUSED", card
    raise UnknownTestCard(form)


def sandbox_submit(fields: dict[str, str]) -> str:
    """Pay, refuse or cancel like the real gateway: notify the backend first (server to
    server, signed), then send the browser back to the form's return URL."""
    gateway = sandbox()
    form = gateway.verify_form(fields)
    outcome, card = outcome_of(fields, form)
    notification = gateway.notification_for(form, outcome, card)
    status = send_notification(gateway.notification_url(), notification)
    if status != 200:
        get_logger().warning("sandbox notification not accepted", extra={"http_status": status})
    return form.get("vads_url_return") or return_url(form["vads_order_id"])
