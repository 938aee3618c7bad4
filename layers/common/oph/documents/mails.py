"""The e-mails of the documents context, in French, HTML and text (:func:`oph.platform.mail.compose`).

"Your avis d'échéance is available": it says what is really to pay, the notice's "Net à
payer" (:func:`oph.documents.model.net_to_pay`, the same figure as the PDF): the account's
balance at its date, plus the notice when that balance does not include it yet, never below
0. Telling a tenant who owes 610,68 € of older rent that 220,00 € is "to pay" would mislead
exactly the tenants who most need to know.
"""

from __future__ import annotations

from oph.accounts.mails import holder_greeting
from oph.accounts.model import Account
from oph.documents.model import Document, net_to_pay
from oph.platform.french import date_fr, euros, period_label
from oph.platform.mail import Email, compose
from oph.platform.office import get_office


def balance_sentence(document: Document) -> str | None:
    """ "Solde de votre compte au 23/05/2019 : 610,68 € (sans cet avis)." or None when unknown."""
    extra = document.extra or {}
    balance, balance_date = extra.get("balance_cents"), extra.get("balance_date")
    if balance is None or not balance_date:
        return None
    cents = int(balance)
    amount = f"{euros(-cents)} en votre faveur" if cents < 0 else euros(cents)
    scope = "sans cet avis" if str(balance_date) < document.issued_on else "cet avis compris"
    return f"Solde de votre compte au {date_fr(str(balance_date))} : {amount} ({scope})."


def notice_email(document: Document, account: Account) -> Email:
    period = period_label(str(document.period))
    net = net_to_pay(document)
    due = date_fr(str(document.due_date))
    balance = balance_sentence(document)
    to_pay = (
        f"Net à payer : {euros(net)}, avant le {due}."
        if net > 0
        else "Net à payer : 0,00 € : vous n'avez rien à régler pour cet avis."
    )
    return compose(
        f"Votre avis d'échéance de {period} est disponible",
        [
            holder_greeting(account),
            f"Votre avis d'échéance de {period} est disponible dans l'application Mon espace locataire, "
            "rubrique « Mes documents ».",
            f"Montant de l'avis : {euros(int(document.amount_due_cents or 0))}.",
            *([balance] if balance else []),
            to_pay,
            "Vous pouvez régler en ligne par carte bancaire, sans frais, depuis l'application.",
            f"En cas de difficulté de paiement, contactez l'Office au {get_office().phone} sans attendre : "
            "des solutions existent.",
        ],
        to=account.email,
    )
