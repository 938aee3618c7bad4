"""The French HTML pages of the payment journey (no JavaScript: plain forms).

- the checkout page behind ``checkout_url``: a "Payer <montant>" button posting the signed
  gateway form (auto-submitting would need JavaScript);
- the sandbox gateway's hosted card page;
- ``/links/payment-return``: the payment's status as recorded from the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from aws_lambda_powertools.event_handler import Response

from oph.payments.checkout import CheckoutView
from oph.payments.model import ABANDONED, CREATED, EXPIRED, REFUSED, SUCCEEDED, Payment
from oph.payments.references import payment_reference
from oph.platform.french import datetime_long_fr, euros
from oph.platform.pages import input_field, page, security_headers


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in fields.items()
    )


def checkout_page(view: CheckoutView) -> Response:
    payment = view.payment
    amount = euros(payment.amount_cents)
    if view.fields is None:
        if payment.status == SUCCEEDED:
            return page(
                "Paiement déjà effectué",
                f'<p class="ok" role="status">Ce paiement de {escape(amount)} a déjà été effectué. Merci !</p>',
            )
        return page(
            "Paiement indisponible",
            '<p class="error" role="alert">Ce lien de paiement n\'est plus valable.</p>'
            "<p>Aucun montant n'a été débité. Recommencez le paiement depuis l'application.</p>",
            status=410,
        )
    body = (
        f"<p>Montant à régler : <strong>{escape(amount)}</strong></p>"
        f'<p class="hint">Référence du paiement : {escape(payment_reference(payment))}</p>'
        f'<form method="post" action="{escape(view.action)}">{_hidden(view.fields)}'
        f'<button type="submit">Payer {escape(amount)}</button></form>'
        '<p class="hint">Vous allez être dirigé vers la page de paiement sécurisée de la banque. '
        "Vos données de carte ne sont jamais transmises à l'Office. Aucun frais n'est appliqué.</p>"
    )
    return page("Paiement de votre loyer", body, form_action=f"'self' {view.form_action_source}")


def sandbox_page(form: Mapping[str, str], *, error: str | None = None, status: int = 200) -> Response:
    amount = euros(int(form["vads_amount"]))
    body = (
        '<p class="hint">Passerelle de paiement de démonstration (sandbox) : aucune carte réelle '
        "n'est débitée.</p>"
        f"<p>Montant : <strong>{escape(amount)}</strong></p>"
        f'<p class="hint">Commande : {escape(form["vads_order_id"])}</p>'
        f'<form method="post" action="/sandbox/payment/submit">{_hidden(form)}'
        + input_field(
            "card_number",
            "Numéro de carte",
            attributes='inputmode="numeric" autocomplete="off" maxlength="32" placeholder="4970 1000 0000 0003"',
            hint_id="card-hint",
            error=error,
            announce=True,
        )
        + '<p class="hint" id="card-hint">Cartes de test : 4970 1000 0000 0003 (paiement accepté), '
        "4970 1000 0000 0014 (paiement refusé).</p>"
        f'<button type="submit" name="pay" value="1">Payer {escape(amount)}</button> '
        '<button type="submit" name="cancel" value="1" class="secondary">Annuler</button>'
        "</form>"
    )
    return page("Paiement sécurisé (simulation)", body, status=status)


def redirect(location: str) -> Response:
    headers = security_headers()
    headers["Location"] = location
    return Response(status_code=303, content_type="text/plain; charset=utf-8", body="", headers=headers)


_RETURN_TEXTS = {
    SUCCEEDED: ("Paiement accepté", "ok"),
    REFUSED: ("Paiement refusé", "error"),
    ABANDONED: ("Paiement annulé", "error"),
    EXPIRED: ("Paiement expiré", "error"),
    CREATED: ("Paiement en cours", "hint"),
}


def return_page(payment: Payment) -> Response:
    amount = escape(euros(payment.amount_cents))
    title, css = _RETURN_TEXTS.get(payment.status, ("Paiement en cours", "hint"))
    if payment.status == SUCCEEDED and payment.paid_at:
        message = (
            f"Votre paiement de {amount} a bien été enregistré {datetime_long_fr(payment.paid_at)}. "
            "Vous allez recevoir un e-mail de confirmation avec votre reçu de paiement."
        )
    elif payment.status == REFUSED:
        message = (
            f"Votre paiement de {amount} a été refusé par votre banque. Aucun montant n'a été débité. "
            "Vous pouvez réessayer depuis l'application."
        )
    elif payment.status == ABANDONED:
        message = f"Le paiement de {amount} a été annulé. Aucun montant n'a été débité."
    elif payment.status == EXPIRED:
        message = f"Le paiement de {amount} n'a pas été finalisé à temps. Aucun montant n'a été débité."
    else:
        message = (
            f"Nous attendons la confirmation de votre banque pour le paiement de {amount}. "
            "Actualisez cette page dans quelques instants."
        )
    refresh = (
        f'<form method="get" action="/links/payment-return"><input type="hidden" name="payment_id" '
        f'value="{escape(payment.payment_id)}"><button type="submit">Actualiser</button></form>'
        if payment.status == CREATED
        else ""
    )
    body = (
        f'<p class="{css}" role="{"alert" if css == "error" else "status"}" '
        f'data-status="{escape(payment.status)}">{message}</p>'
        f'<p class="hint">Référence du paiement : {escape(payment_reference(payment))}</p>'
        f"{refresh}"
        "<p>Vous pouvez revenir à l'application Mon espace locataire.</p>"
    )
    return page(title, body)
