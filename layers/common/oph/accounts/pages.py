"""The ``/links/confirm-email`` page: the fallback when the e-mail-change link opens in a browser.

The confirmation must come from the app logged in to the account that asked for the change
(contract section 4), so this page never confirms anything and never consumes the token (mail
scanners open links first): it tells the holder, in French, to open the link on the phone
where the app is logged in. A dead link (unknown, used, superseded, expired) gets a French
error page instead, so nobody goes to the phone for nothing.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response

from oph.accounts.email_change import check_confirmation_link
from oph.platform import errors
from oph.platform.pages import page
from oph.platform.settings import get_settings

TITLE = "Confirmez votre nouvelle adresse e-mail"


def confirm_email_page(raw_token: str | None) -> Response:
    try:
        check_confirmation_link(raw_token or "")
    except (errors.TokenInvalid, errors.TokenExpired) as exc:
        title = "Lien expiré" if isinstance(exc, errors.TokenExpired) else "Lien non valide"
        return page(
            title,
            f'<p class="error" role="alert">{escape(exc.title)}</p>'
            "<p>Pour changer votre adresse e-mail, refaites la demande depuis l'application "
            "Mon espace locataire, dans « Mon compte ». Un nouveau lien vous sera envoyé.</p>",
            status=exc.status,
        )
    app_link = get_settings().link(f"/links/confirm-email?token={quote(raw_token or '', safe='')}")
    return page(
        TITLE,
        "<p><strong>Ouvrez ce lien sur le téléphone où l'application Mon espace locataire est "
        "installée et où vous êtes connecté(e) à votre compte.</strong></p>"
        "<p>Par sécurité, le changement d'adresse ne peut être confirmé que depuis l'application, "
        "connectée au compte qui l'a demandé. Cette page ne modifie rien : votre adresse actuelle "
        "reste votre identifiant tant que la nouvelle n'a pas été confirmée.</p>"
        "<p>Sur votre téléphone, ouvrez l'e-mail reçu et touchez le bouton « Confirmer ma nouvelle "
        "adresse » : l'application s'ouvrira et confirmera le changement.</p>"
        f'<p><a class="button" href="{escape(app_link)}">Ouvrir dans l\'application</a></p>'
        "<p class=\"hint\">Ce lien est valable 24 heures et ne peut servir qu'une fois. Si vous n'êtes "
        "pas à l'origine de cette demande, ignorez-le : rien ne sera modifié.</p>",
    )
