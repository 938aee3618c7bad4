"""The payment gateway port and its two adapters, chosen by name.

- ``systempay``: the Systempay/PayZen (Lyra) hosted payment form (:mod:`oph.payments.systempay`). The
  checkout page posts the signed ``vads_*`` form to ``SYSTEMPAY_FORM_URL``; the gateway calls
  ``POST /v1/payments/notifications/systempay`` (the IPN URL set in the Systempay back
  office) and sends the buyer back to ``/links/payment-return``.
- ``sandbox``: the local/demo gateway of the contract. Its hosted page is served by this
  backend (``/sandbox/payment``), speaks exactly the same protocol signed with the test key,
  and on submit posts the signed notification to ``/v1/payments/notifications/sandbox``
  BEFORE redirecting the browser. It refuses to run when the stage is production.

Keys: Secrets Manager JSON ``{"site_id", "test_key", "production_key"}``, read through the one
secret cache (:func:`oph.platform.aws.secrets.json_secret`): a key rotation is picked up
within five minutes.
"""

from __future__ import annotations

import secrets as tokens
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from oph.payments import systempay
from oph.payments.model import NotificationRejected
from oph.platform import clock
from oph.platform.aws import secrets
from oph.platform.errors import NotFound, ServiceUnavailable
from oph.platform.provider import Provider
from oph.platform.settings import get_settings

SECRET_CACHE_SECONDS = 300
TEST_CARD_SUCCESS = "4970100000000003"
TEST_CARD_REFUSED = "4970100000000014"


class GatewayUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Le paiement en ligne est momentanément indisponible. Veuillez réessayer plus tard.")


@dataclass(frozen=True)
class GatewayKeys:
    site_id: str
    test_key: str
    production_key: str

    def key_for(self, ctx_mode: str) -> str:
        return self.production_key if ctx_mode == systempay.PRODUCTION else self.test_key


def secret_keys() -> GatewayKeys:
    """The keys as Secrets Manager holds them (through the one secret cache)."""
    data = secrets.json_secret(get_settings().payment_secret_arn, max_age=SECRET_CACHE_SECONDS)
    return GatewayKeys(
        site_id=str(data.get("site_id") or ""),
        test_key=str(data.get("test_key") or ""),
        production_key=str(data.get("production_key") or ""),
    )


# Where the keys come from: the unit tier swaps in fixed keys (``key_source.override``).
key_source: Provider[Callable[[], GatewayKeys]] = Provider(lambda: secret_keys)


def gateway_keys() -> GatewayKeys:
    return key_source()()


@dataclass(frozen=True)
class CheckoutForm:
    action: str  # where the browser posts the form
    fields: dict[str, str]  # signed vads_* fields

    @property
    def form_action_source(self) -> str:
        """The CSP ``form-action`` source that allows posting to ``action``."""
        parts = urlsplit(self.action)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class GatewayPayment:
    """What a gateway needs to know of a payment (filled from the stored record)."""

    payment_id: str
    amount_cents: int
    site_id: str
    ctx_mode: str
    trans_id: str
    trans_date: str


@dataclass(frozen=True)
class VerifiedNotification:
    fields: dict[str, str]
    order_id: str
    amount: str
    currency: str
    site_id: str
    ctx_mode: str
    trans_id: str
    trans_date: str
    trans_status: str
    trans_uuid: str
    new_status: str | None  # succeeded | refused | abandoned | expired | None (not final)


class PaymentGateway(Protocol):
    name: str

    def ctx_mode(self) -> str: ...

    def checkout_form(self, payment: GatewayPayment, return_url: str) -> CheckoutForm: ...

    def verify_notification(self, fields: Mapping[str, str]) -> VerifiedNotification: ...


class SystempayGateway:
    """The real gateway: PRODUCTION context in the production stage, TEST elsewhere."""

    name = "systempay"

    def ctx_mode(self) -> str:
        return systempay.PRODUCTION if get_settings().is_production else systempay.TEST

    def form_url(self) -> str:
        return get_settings().systempay_form_url

    def _keys(self) -> GatewayKeys:
        keys = gateway_keys()
        if not keys.site_id or not keys.key_for(self.ctx_mode()):
            raise GatewayUnavailable()
        return keys

    def checkout_form(self, payment: GatewayPayment, return_url: str) -> CheckoutForm:
        keys = self._keys()
        fields = systempay.payment_form(
            site_id=payment.site_id,
            ctx_mode=payment.ctx_mode,
            trans_id=payment.trans_id,
            trans_date=payment.trans_date,
            amount_cents=payment.amount_cents,
            order_id=payment.payment_id,
            return_url=return_url,
        )
        return CheckoutForm(self.form_url(), systempay.signed(fields, keys.key_for(payment.ctx_mode)))

    def accepted_ctx_modes(self) -> tuple[str, ...]:
        # A test-mode notification is never accepted by a production stage.
        return (systempay.PRODUCTION,) if get_settings().is_production else systempay.CTX_MODES

    def verify_notification(self, fields: Mapping[str, str]) -> VerifiedNotification:
        try:
            systempay.check_notification_shape(fields)
        except systempay.MalformedNotification:
            raise NotificationRejected() from None
        ctx_mode = fields["vads_ctx_mode"]
        if ctx_mode not in self.accepted_ctx_modes():
            raise NotificationRejected()
        keys = gateway_keys()
        if not systempay.verify(fields, keys.key_for(ctx_mode)):
            raise NotificationRejected()
        if not keys.site_id or fields["vads_site_id"] != keys.site_id:
            raise NotificationRejected()
        return VerifiedNotification(
            fields=dict(fields),
            order_id=fields["vads_order_id"],
            amount=fields["vads_amount"],
            currency=fields["vads_currency"],
            site_id=fields["vads_site_id"],
            ctx_mode=ctx_mode,
            trans_id=fields["vads_trans_id"],
            trans_date=fields["vads_trans_date"],
            trans_status=fields["vads_trans_status"],
            trans_uuid=fields.get("vads_trans_uuid", ""),
            new_status=systempay.map_status(fields["vads_trans_status"]),
        )


class SandboxGateway(SystempayGateway):
    """The embedded demo gateway: same protocol, test key, hosted page served by us."""

    name = "sandbox"

    def __init__(self) -> None:
        if get_settings().is_production:
            raise NotFound()  # never available in a production stage

    def ctx_mode(self) -> str:
        return systempay.TEST

    def form_url(self) -> str:
        return get_settings().link("/sandbox/payment")

    def accepted_ctx_modes(self) -> tuple[str, ...]:
        return (systempay.TEST,)

    def notification_url(self) -> str:
        return get_settings().link("/v1/payments/notifications/sandbox")

    # -- the hosted page
    def verify_form(self, fields: Mapping[str, str]) -> dict[str, str]:
        """The vads_* fields of a checkout form posted to the sandbox page, if genuine."""
        keys = gateway_keys()
        vads = {k: v for k, v in fields.items() if k.startswith("vads_") or k == "signature"}
        if (
            vads.get("vads_ctx_mode") != systempay.TEST
            or vads.get("vads_site_id") != keys.site_id
            or vads.get("vads_currency") != systempay.CURRENCY_EUR
            or not vads.get("vads_order_id")
            or not str(vads.get("vads_amount", "")).isdigit()
            or not systempay.verify(vads, keys.test_key)
        ):
            raise NotificationRejected("Ce formulaire de paiement n'est pas valide.")
        return vads

    def notification_for(self, form: Mapping[str, str], outcome: str, card_number: str = "") -> dict[str, str]:
        """The signed IPN the real gateway would send for this form and outcome."""
        return build_notification(form, outcome, gateway_keys().test_key, card_number)


def build_notification(form: Mapping[str, str], outcome: str, key: str, card_number: str = "") -> dict[str, str]:
    """A notification (IPN) for a checkout form, as the Systempay gateway writes it, signed
    with ``key``. ``outcome`` is a ``vads_trans_status`` value."""
    results = {"AUTHORISED": ("00", "00"), "CAPTURED": ("00", "00"), "REFUSED": ("05", "05")}
    result, auth_result = results.get(outcome, ("17", ""))
    fields = {k: v for k, v in form.items() if k.startswith("vads_") and k not in _FORM_ONLY_FIELDS}
    fields.update(
        {
            "vads_trans_status": outcome,
            "vads_result": result,
            "vads_auth_result": auth_result,
            "vads_auth_mode": "FULL",
            "vads_operation_type": "DEBIT",
            "vads_url_check_src": "PAY",
            "vads_trans_uuid": tokens.token_hex(16),
            "vads_hash": tokens.token_hex(32),
            "vads_sequence_number": "1",
            "vads_effective_amount": form.get("vads_amount", ""),
            "vads_effective_currency": form.get("vads_currency", ""),
            "vads_effective_creation_date": systempay.format_trans_date(clock.now()),
            "vads_card_brand": "CB" if card_number else "",
            "vads_card_number": f"{card_number[:6]}XXXXXX{card_number[-4:]}" if card_number else "",
            "vads_payment_certificate": tokens.token_hex(20) if result == "00" else "",
        }
    )
    return systempay.signed(fields, key)


# Input-only fields of the form that the gateway does not send back in the IPN.
_FORM_ONLY_FIELDS = frozenset({"vads_url_return", "vads_return_mode", "vads_redirect_success_timeout"})

GATEWAYS: dict[str, Callable[[], PaymentGateway]] = {
    "systempay": SystempayGateway,
    "sandbox": SandboxGateway,
}


def get_gateway(name: str | None = None) -> PaymentGateway:
    """The adapter named ``name`` (the configured provider by default)."""
    configured = name is None
    name = name or get_settings().payment_provider
    factory = GATEWAYS.get(name)
    if factory is None:
        if configured:
            raise GatewayUnavailable()
        raise NotFound()
    try:
        return factory()
    except NotFound:
        if configured:  # PAYMENT_PROVIDER=sandbox in production: refuse to take payments
            raise GatewayUnavailable() from None
        raise


def sandbox() -> SandboxGateway:
    gateway = get_gateway("sandbox")
    assert isinstance(gateway, SandboxGateway)
    return gateway


# -- how the sandbox delivers its notification (HTTP by default; tests deliver it in-process)
NotificationSender = Callable[[str, dict[str, str]], int]


def http_sender(url: str, fields: dict[str, str]) -> int:
    """POST the form to ``url``: its HTTP status, 504 when it could not be delivered."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    if not url.startswith(("http://", "https://")):
        raise ValueError("notification URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=urlencode(fields).encode("utf-8"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=8) as response:  # noqa: S310 - scheme checked above
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        # Not delivered (timeout, connection refused, unknown host): as with the real gateway,
        # the buyer still goes back to the return page, which shows the payment pending.
        return 504


notification_sender: Provider[NotificationSender] = Provider(lambda: http_sender)


def send_notification(url: str, fields: dict[str, str]) -> int:
    return notification_sender()(url, fields)
