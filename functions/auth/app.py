"""Authentication: login, refresh, logout, forgotten password, /links/reset-password page."""

from __future__ import annotations

from html import escape
from typing import Annotated
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from oph.accounts import password_reset, sessions
from oph.platform.errors import FieldError, MalformedJson, ValidationFailed
from oph.platform.http import JSON, Api, EmailInput, RequestModel, empty_response, raw_body
from oph.platform.pages import error_summary, input_field, page

api = Api(
    public=[
        "POST /v1/auth/login",
        "POST /v1/auth/refresh",
        "POST /v1/auth/logout",
        "POST /v1/auth/password/forgot",
        "POST /v1/auth/password/reset",
        "GET /links/reset-password",
        "POST /links/reset-password",
    ]
)
app = api.resolver

TAGS = ["Authentification"]


class LoginRequest(RequestModel):
    email: EmailInput
    password: str


class RefreshRequest(RequestModel):
    refresh_token: str


class ForgotRequest(RequestModel):
    email: EmailInput


class ResetRequest(RequestModel):
    token: str
    password: str
    password_confirmation: str


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 900
    refresh_token: str
    refresh_expires_in: int = 2592000


@app.post(
    "/v1/auth/login",
    tags=TAGS,
    summary="Se connecter avec e-mail et mot de passe",
)
def login(body: Annotated[LoginRequest, Body()]) -> TokenPair:
    return TokenPair(**sessions.login(body.email, body.password))


@app.post(
    "/v1/auth/refresh",
    tags=TAGS,
    summary="Renouveler les jetons (rotation du jeton de renouvellement)",
)
def refresh(body: Annotated[RefreshRequest, Body()]) -> TokenPair:
    return TokenPair(**sessions.refresh_session(body.refresh_token))


@app.post(
    "/v1/auth/logout",
    tags=TAGS,
    summary="Se déconnecter (révoque la session)",
    responses={204: {"description": "Session révoquée"}},
)
def logout(body: Annotated[RefreshRequest, Body()]) -> Response[None]:
    sessions.logout(body.refresh_token)
    return empty_response(204)


@app.post(
    "/v1/auth/password/forgot",
    tags=TAGS,
    summary="Mot de passe oublié : envoyer un lien de réinitialisation",
    responses={202: {"description": "Toujours la même réponse, que l'adresse ait un compte ou non"}},
)
def forgot(body: Annotated[ForgotRequest, Body()]) -> Response[dict[str, str]]:
    password_reset.request_reset(body.email)
    return Response(status_code=202, content_type=JSON, body={"status": "accepted"})


@app.post(
    "/v1/auth/password/reset",
    tags=TAGS,
    summary="Choisir un nouveau mot de passe avec le lien reçu par e-mail",
    responses={204: {"description": "Mot de passe modifié ; toutes les sessions sont révoquées"}},
)
def reset(body: Annotated[ResetRequest, Body()]) -> Response[None]:
    password_reset.reset_password(body.token, body.password, body.password_confirmation)
    return empty_response(204)


# -- /links/reset-password: the fallback page when the app is not installed

POLICY_HTML = (
    '<div id="password-rules"><p class="hint">Votre nouveau mot de passe doit :</p><ul class="hint">'
    "<li>contenir entre 8 et 128 caractères ;</li>"
    "<li>mélanger au moins trois types de caractères parmi : majuscules, minuscules, chiffres et "
    "caractères spéciaux (par exemple ! ? - _ @ #) ;</li>"
    "<li>ne pas être un mot de passe courant (comme « azerty » ou « motdepasse »), même suivi ou précédé "
    "de chiffres ou de caractères spéciaux ;</li>"
    "<li>ne contenir ni votre nom, ni votre prénom, ni votre numéro d'intitulé, ni la partie de votre "
    "adresse e-mail située avant « @ ».</li></ul></div>"
)
PASSWORD_ATTRIBUTES = 'autocomplete="new-password" required minlength="8" maxlength="128"'


def _form(token: str, problems: list[FieldError] | None = None, status: int = 200) -> Response:
    """The new-password form; after a 422, the errors above it (announced) and under each field."""
    problems = problems or []
    by_field = {p.field: p.message for p in problems}
    summary = error_summary("Le mot de passe n'a pas été enregistré :", [p.message for p in problems])
    body = (
        "<p>Choisissez le nouveau mot de passe de votre compte Mon espace locataire.</p>"
        f"{POLICY_HTML}{summary if problems else ''}"
        '<form method="post" action="reset-password">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        + input_field(
            "password",
            "Nouveau mot de passe",
            kind="password",
            attributes=PASSWORD_ATTRIBUTES,
            hint_id="password-rules",
            error=by_field.get("password"),
        )
        + input_field(
            "password_confirmation",
            "Confirmez le nouveau mot de passe",
            kind="password",
            attributes=PASSWORD_ATTRIBUTES,
            error=by_field.get("password_confirmation"),
        )
        + '<button type="submit">Enregistrer mon nouveau mot de passe</button></form>'
    )
    return page("Nouveau mot de passe", body, status=status)


@app.get("/links/reset-password", include_in_schema=False)  # HTML page, not JSON API
def reset_page() -> Response[str]:
    token = app.current_event.get_query_string_value("token") or ""
    password_reset.check_reset_token(token)  # an unusable link gets the error page at once
    return _form(token)


@app.post("/links/reset-password", include_in_schema=False)
def reset_page_submit() -> Response[str]:
    try:
        fields = parse_qs(raw_body(app.current_event.raw_event).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise MalformedJson("Le formulaire envoyé n'est pas valide.") from None

    def field(name: str) -> str:
        return (fields.get(name) or [""])[0]

    token = field("token")
    try:
        password_reset.reset_password(token, field("password"), field("password_confirmation"))
    except ValidationFailed as exc:
        return _form(token, exc.errors, status=422)
    return page(
        "Mot de passe modifié",
        '<p class="ok" role="status">Votre mot de passe a bien été modifié.</p>'
        "<p>Vous pouvez maintenant vous connecter à l'application Mon espace locataire avec votre nouveau "
        "mot de passe. Par sécurité, vous avez été déconnecté de tous vos appareils.</p>",
    )


lambda_handler = api.lambda_handler()
