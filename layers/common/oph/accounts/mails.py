"""The e-mails of the accounts context, in French, HTML and text (:func:`oph.platform.mail.compose`).

Registration (verification link, "someone tried your address"), the e-mail change (link to
the new address, notices to the old one and to an address already in use), the password
(reset link, "your password was changed") and the deletion notice.

One greeting (:func:`oph.platform.mail.greeting`: "Bonjour Jean DUPOND,"), except to an
address that may not be the holder's ("Bonjour,"); times in Paris time
(:func:`oph.platform.french.datetime_long_fr`); wherever a message says to contact the office
it gives the office's phone, and :func:`oph.platform.mail.compose` ends every message with the
office's contacts.
"""

from __future__ import annotations

from urllib.parse import quote

from oph.accounts.model import Account
from oph.platform import clock
from oph.platform.french import datetime_long_fr
from oph.platform.mail import Email, compose, greeting
from oph.platform.office import get_office
from oph.platform.settings import get_settings


def holder_greeting(account: Account) -> str:
    """ "Bonjour Jean DUPOND," as the office's records write the holder's name."""
    return greeting(account.first_name, account.last_name)


def contact_office() -> str:
    """ "contactez l'Office au 01 …": the office's phone, read when the message is written."""
    return f"contactez l'Office au {get_office().phone}"


def now_fr() -> str:
    """ "le 24 mai 2019 à 14 h 05": now, in Paris time."""
    return datetime_long_fr(clock.iso_instant())


def verification_link(raw: str) -> str:
    return get_settings().link("/links/verify-email?token=" + quote(raw, safe=""))


def verification_email(to: str, raw: str, first_name: str = "", last_name: str = "") -> Email:
    return compose(
        "Confirmez votre adresse e-mail — Mon espace locataire",
        [
            greeting(first_name, last_name),
            "Votre compte Mon espace locataire est presque prêt. Pour l'activer, confirmez votre adresse "
            "e-mail avec le bouton ci-dessous, de préférence sur le téléphone où l'application est installée.",
        ],
        to=to,
        link=("Confirmer mon adresse", verification_link(raw)),
        after_link=[
            "Ce lien est valable 24 heures et ne peut servir qu'une seule fois. Passé ce délai, demandez "
            "un nouveau lien depuis l'application.",
            "Vous ne trouvez pas nos e-mails ? Pensez à regarder dans votre dossier « courrier indésirable » "
            "(spam) et ajoutez notre adresse à vos contacts.",
            "Si vous n'êtes pas à l'origine de cette inscription, ignorez simplement cet e-mail : aucun "
            "compte ne sera activé.",
        ],
    )


def duplicate_notice(to: str) -> Email:
    return compose(
        "Tentative de création de compte avec votre adresse e-mail",
        [
            greeting(),
            "Quelqu'un vient d'essayer de créer un compte Mon espace locataire avec votre adresse e-mail, "
            "qui est déjà utilisée par un compte.",
            "Si c'était vous, connectez-vous simplement dans l'application avec cette adresse. Si vous avez "
            "oublié votre mot de passe, choisissez « Mot de passe oublié ? » pour le réinitialiser.",
            "Si ce n'était pas vous, vous pouvez ignorer cet e-mail : votre compte n'a pas été modifié et "
            "aucun autre compte n'a été créé avec votre adresse.",
        ],
        to=to,
        after_link=[
            "Vous ne trouvez pas nos e-mails ? Pensez à regarder dans votre dossier « courrier indésirable » (spam)."
        ],
    )


def confirmation_email(new_email: str, link: str) -> Email:
    # The recipient may not be the holder (a typo): no name, nothing about the account.
    return compose(
        "Confirmez votre nouvelle adresse e-mail",
        [
            greeting(),
            "Une demande a été faite pour utiliser cette adresse comme identifiant de connexion à "
            "l'espace locataire de l'Office Public de l'Habitat d'Aubervilliers.",
            "Pour confirmer ce changement, ouvrez le lien ci-dessous sur le téléphone où l'application "
            "Mon espace locataire est installée et où vous êtes connecté(e). Ce lien est valable 24 heures "
            "et ne peut servir qu'une fois.",
        ],
        to=new_email,
        link=("Confirmer ma nouvelle adresse", link),
        after_link=[
            "Tant que ce lien n'a pas été utilisé, votre adresse actuelle reste votre identifiant.",
            "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail : rien ne sera modifié.",
        ],
        sender=get_settings().office_mail_from,
    )


def address_in_use_email(address: str) -> Email:
    return compose(
        "Tentative d'utilisation de votre adresse e-mail",
        [
            greeting(),
            "Quelqu'un a demandé à utiliser votre adresse e-mail comme identifiant d'un autre compte de "
            "l'espace locataire de l'Office Public de l'Habitat d'Aubervilliers. Cette adresse étant déjà "
            "associée à votre compte, aucune modification n'a été faite.",
            "Si c'était vous, connectez-vous avec cette adresse ; si vous avez oublié votre mot de passe, "
            "utilisez « Mot de passe oublié » dans l'application.",
            "Si ce n'était pas vous, vous n'avez rien à faire : votre compte n'est pas concerné.",
        ],
        to=address,
        sender=get_settings().office_mail_from,
    )


def change_requested_email(account: Account, new_email: str) -> Email:
    return compose(
        "Demande de changement de votre adresse e-mail",
        [
            holder_greeting(account),
            f"Une demande de changement de l'adresse e-mail de votre espace locataire a été faite "
            f"{now_fr()}. Nouvelle adresse demandée : {new_email}.",
            "Le changement ne prendra effet que lorsque le lien envoyé à la nouvelle adresse aura été "
            "utilisé. D'ici là, vous continuez à vous connecter avec votre adresse actuelle.",
            "Si vous n'êtes pas à l'origine de cette demande, quelqu'un connaît sans doute votre mot de "
            "passe : changez-le tout de suite dans l'application (Mon compte, « Modifier mon mot de "
            f"passe ») ou avec « Mot de passe oublié », puis {contact_office()}. La demande expirera "
            "d'elle-même dans 24 heures.",
        ],
        to=account.email,
    )


def email_changed_email(account: Account, new_email: str) -> Email:
    return compose(
        "Votre adresse e-mail a été modifiée",
        [
            holder_greeting(account),
            f"L'adresse e-mail de votre espace locataire a été remplacée par {new_email}. "
            "C'est désormais elle qui vous sert d'identifiant ; cette adresse-ci ne recevra plus nos messages.",
            f"Si vous n'êtes pas à l'origine de ce changement, {contact_office()} au plus vite.",
        ],
        to=account.email,
    )


def password_changed_email(account: Account) -> Email:
    return compose(
        "Votre mot de passe a été modifié",
        [
            holder_greeting(account),
            f"Le mot de passe de votre espace locataire de l'Office Public de l'Habitat d'Aubervilliers "
            f"a été modifié {now_fr()}.",
            "Par sécurité, toutes vos sessions ouvertes ont été fermées : reconnectez-vous sur vos "
            "autres appareils avec votre nouveau mot de passe.",
            "Si vous n'êtes pas à l'origine de cette modification, utilisez immédiatement « Mot de passe "
            f"oublié » dans l'application pour en choisir un nouveau, puis {contact_office()}.",
        ],
        to=account.email,
    )


def account_deleted_email(account: Account) -> Email:
    return compose(
        "Votre compte a été supprimé",
        [
            holder_greeting(account),
            "Votre compte de l'espace locataire de l'Office Public de l'Habitat d'Aubervilliers a été "
            "supprimé à votre demande : vos identifiants, votre adresse e-mail et vos sessions ont été effacés.",
            "Votre dossier de locataire, vos avis d'échéance, vos quittances et vos paiements restent "
            "conservés par l'Office, comme la loi l'exige.",
            "Vous pouvez créer un nouveau compte à tout moment avec votre numéro d'intitulé.",
            f"Si vous n'êtes pas à l'origine de cette suppression, {contact_office()}.",
        ],
        to=account.email,
    )


def reset_link_email(account: Account, url: str) -> Email:
    return compose(
        "Réinitialisation de votre mot de passe",
        [
            holder_greeting(account),
            "Vous avez demandé à réinitialiser le mot de passe de votre compte Mon espace locataire. "
            "Pour choisir un nouveau mot de passe, cliquez sur le bouton ci-dessous.",
        ],
        to=account.email,
        link=("Choisir un nouveau mot de passe", url),
        after_link=[
            "Ce lien est valable 1 heure et ne peut servir qu'une fois. "
            "Si vous en demandez un nouveau, celui-ci ne fonctionnera plus.",
            "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail : "
            "votre mot de passe actuel reste inchangé.",
        ],
    )


def password_reset_email(account: Account) -> Email:
    return compose(
        "Votre mot de passe a été modifié",
        [
            holder_greeting(account),
            f"Le mot de passe de votre compte Mon espace locataire a été modifié {now_fr()}.",
            "Par sécurité, vous avez été déconnecté de tous vos appareils : connectez-vous à nouveau "
            "avec votre nouveau mot de passe.",
            "Si vous n'êtes pas à l'origine de ce changement, réinitialisez immédiatement votre mot de passe "
            f"depuis l'application (« Mot de passe oublié ») et {contact_office()}.",
        ],
        to=account.email,
    )
