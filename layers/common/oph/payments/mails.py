"""The e-mails of the payments context, in French, HTML and text (:func:`oph.platform.mail.compose`).

- the confirmation of a succeeded online payment, with its "reçu de paiement" attached: the
  time of payment in Paris time ("le 28 mai 2019 à 14 h 05") and the reference a tenant can
  read out on the phone (:func:`oph.payments.references.payment_reference`), not the
  32-character id;
- the quittance sent by e-mail to a holder who asked for it (``receipts_by_email``);
- the direct-debit mandate (contract section 8): its confirmation when signed, the revocation
  request, and the bank's rejection. They show the IBAN only masked
  (``Mandate.iban_masked``: a mandate never holds it in clear) and the mandate reference (RUM)
  a tenant quotes to the office or the bank.
"""

from __future__ import annotations

from oph.accounts.mails import contact_office, holder_greeting
from oph.accounts.model import Account
from oph.documents.model import Document
from oph.payments.mandate import Mandate
from oph.payments.model import Payment
from oph.payments.references import payment_reference
from oph.platform.clock import paris_date
from oph.platform.french import date_long_fr, datetime_long_fr, euros, period_label
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


OTHER_WAYS_TO_PAY = (
    "En attendant, réglez votre loyer par un autre moyen : paiement en ligne dans l'application, virement ou chèque."
)


def _mandate_lines(mandate: Mandate) -> list[str]:
    return [
        f"Référence unique du mandat (RUM) : {mandate.reference}",
        f"Compte à débiter : {mandate.iban_masked} (titulaire : {mandate.account_holder})",
        f"Jour de prélèvement : le {mandate.debit_day} de chaque mois",
    ]


def mandate_confirmation_email(mandate: Mandate, account: Account) -> Email:
    """To the holder who signed: the mandate is recorded, the office will take it on."""
    return compose(
        "Votre mandat de prélèvement automatique est enregistré",
        [
            holder_greeting(account),
            f"Votre mandat de prélèvement SEPA a bien été signé {datetime_long_fr(mandate.signed_at)} pour le "
            f"logement de numéro d'intitulé {mandate.tenant_number}.",
            *_mandate_lines(mandate),
            "L'Office le met en place avec votre banque : cela peut prendre quelques jours, et vous suivez son "
            "état dans l'application. Tant que le prélèvement n'est pas en place, continuez à régler votre loyer "
            "comme d'habitude.",
            "Le mandat signé est disponible dans l'application, rubrique « Mes documents ».",
            "Vous pouvez demander à tout moment l'arrêt du prélèvement depuis l'application. Vous bénéficiez du "
            "droit d'être remboursé par votre banque d'un prélèvement autorisé, sur demande présentée dans les "
            "8 semaines suivant le débit.",
            f"Si vous n'êtes pas à l'origine de ce mandat, {contact_office()} sans attendre.",
        ],
        to=account.email,
    )


def mandate_revocation_email(mandate: Mandate, account: Account, *, requested_at: str, by_you: bool) -> Email:
    """To the holder who asked to stop the direct debit (and to its signer, if another holder asked)."""
    who = "Vous avez demandé" if by_you else "Un cotitulaire de votre bail a demandé"
    return compose(
        "Votre demande d'arrêt du prélèvement automatique",
        [
            holder_greeting(account),
            f"{who} {datetime_long_fr(requested_at)} l'arrêt du prélèvement automatique du loyer du logement de "
            f"numéro d'intitulé {mandate.tenant_number}.",
            *_mandate_lines(mandate),
            "L'Office transmet la demande à sa banque. Jusqu'à ce que l'arrêt soit effectif, un prélèvement déjà "
            "programmé peut encore avoir lieu.",
            "Pensez à régler vos prochains loyers par un autre moyen : paiement en ligne dans l'application, "
            "virement ou chèque. Vous pourrez signer un nouveau mandat dans l'application une fois l'arrêt effectif.",
            f"Si vous n'êtes pas à l'origine de cette demande, {contact_office()}."
            if by_you
            else f"Pour toute question sur cette demande, {contact_office()}.",
        ],
        to=account.email,
    )


def mandate_rejected_email(mandate: Mandate, account: Account) -> Email:
    """To the holder who signed: the bank refused the mandate, so there is no direct debit and
    they must sign again (contract section 8: "the holder is told by e-mail why")."""
    return compose(
        "Votre prélèvement automatique n'a pas pu être mis en place",
        [
            holder_greeting(account),
            f"Votre banque a refusé le mandat de prélèvement SEPA que vous avez signé le "
            f"{date_long_fr(paris_date(mandate.signed_at))} pour le logement de numéro d'intitulé {mandate.tenant_number}. "
            "Le prélèvement automatique n'est donc pas en place et votre loyer ne sera pas prélevé.",
            *_mandate_lines(mandate),
            "Une banque refuse un mandat notamment lorsque le compte n'accepte pas les prélèvements, lorsque "
            "l'IBAN ou le nom du titulaire ne correspondent pas au compte, ou lorsque le compte est clôturé.",
            "Vérifiez ces informations auprès de votre banque, puis signez un nouveau mandat dans l'application.",
            OTHER_WAYS_TO_PAY,
            f"Pour toute question, {contact_office()}.",
        ],
        to=account.email,
    )
