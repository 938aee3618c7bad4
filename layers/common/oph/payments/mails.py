"""The e-mails of the payments context, in French, HTML and text (:func:`oph.platform.mail.compose`).

- the confirmation of a succeeded online payment, with its "reçu de paiement" attached: the
  time of payment in Paris time ("le 28 mai 2019 à 14 h 05") and the reference a tenant can
  read out on the phone (:func:`oph.payments.references.payment_reference`), not the
  32-character id;
- the quittance sent by e-mail to a holder who asked for it (``receipts_by_email``).
"""

from __future__ import annotations

from oph.accounts.mails import holder_greeting
from oph.accounts.model import Account
from oph.documents.model import Document
from oph.payments.model import Payment
from oph.payments.references import payment_reference
from oph.platform.french import datetime_long_fr, euros, period_label
from oph.platform.mail import Attachment, Email, compose


def confirmation_email(payment: Payment, account: Account, filename: str, pdf: bytes) -> Email:
    assert payment.paid_at is not None
    amount = euros(payment.amount_cents)
    return compose(
        f"Confirmation de votre paiement de {amount}",
        [
            holder_greeting(account),
            f"Nous avons bien reçu votre paiement en ligne de {amount}, effectué "
            f"{datetime_long_fr(payment.paid_at)} pour le logement de numéro d'intitulé {payment.tenant_number}.",
            f"Référence du paiement : {payment_reference(payment)} (à rappeler si vous contactez l'Office).",
            "Votre reçu de paiement est joint à cet e-mail. Vous le retrouverez aussi dans "
            "l'application, rubrique « Mes documents ».",
            "Ce paiement sera pris en compte dans votre solde lors de la prochaine mise à jour "
            "de votre compte locataire.",
            f"Identifiant technique du paiement (pour l'Office) : {payment.payment_id}.",
        ],
        to=account.email,
        attachments=[Attachment(filename, "application/pdf", pdf)],
    )


def quittance_email(document: Document, pdf: bytes, account: Account) -> Email:
    label = period_label(str(document.period))
    return compose(
        f"Votre quittance de loyer de {label}",
        [
            holder_greeting(account),
            f"Vous trouverez ci-joint votre quittance de loyer de {label}, d'un montant de "
            f"{euros(int(document.amount_cents or 0))}.",
            "Elle reste disponible dans l'application Mon espace locataire, rubrique « Mes documents ».",
            "Vous recevez vos quittances par e-mail parce que vous l'avez demandé ; vous pouvez changer ce choix "
            "à tout moment dans vos préférences.",
        ],
        to=account.email,
        attachments=[Attachment(document.filename, "application/pdf", pdf)],
    )
