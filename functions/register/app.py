"""Registration: steps 1-3 of the app, resend, the /links/verify-email page, the office's
details (``GET /v1/office``, public: the app's "Contact" screen, contract section 9), and the
app's own public needs (``GET /v1/app/config``, the universal/app links files, section 10)."""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field

from oph.accounts import identity_check, registration
from oph.platform import mobile_app
from oph.platform.errors import NotFound, TokenExpired, TokenInvalid
from oph.platform.http import Api, EmailInput, RequestModel, json_response
from oph.platform.office import get_office
from oph.platform.pages import input_field, page

api = Api(
    public=[
        "POST /v1/registrations/identity",
        "POST /v1/registrations",
        "POST /v1/registrations/verify",
        "POST /v1/registrations/resend",
        "GET /links/verify-email",
        "POST /links/verify-email",
        "GET /v1/office",
        "GET /v1/app/config",
        "GET /.well-known/apple-app-site-association",
        "GET /.well-known/assetlinks.json",
    ]
)
app = api.resolver

# Passwords may be long: the policy answers (422 password_policy), not the generic size check.
PasswordField = Annotated[str, Field(max_length=64 * 1024)]


class IdentityRequest(RequestModel):
    tenant_number: str = Field(description="Numéro d'intitulé printed on the rent notice", examples=["123456"])
    last_name: str = Field(examples=["DUPOND"])
    first_name: str = Field(examples=["Jean"])
    birth_date: str = Field(description="YYYY-MM-DD", examples=["1975-09-10"], json_schema_extra={"format": "date"})


class RegistrationRequest(RequestModel):
    registration_token: str
    email: EmailInput
    email_confirmation: EmailInput
    password: PasswordField
    password_confirmation: PasswordField
    accept_terms: bool


class VerifyRequest(RequestModel):
    token: str


class ResendRequest(RequestModel):
    email: EmailInput


class IdentityResponse(BaseModel):
    registration_token: str
    expires_in: int = Field(examples=[1800])
    first_name: str = Field(examples=["Jean"])
    last_name: str = Field(examples=["DUPOND"])


class RegistrationResponse(BaseModel):
    status: str = Field(examples=["pending_verification"])
    email: str = Field(examples=["jean.dupond@exemple.com"])


class VerifyResponse(BaseModel):
    status: str = Field(examples=["active"])


class AcceptedResponse(BaseModel):
    status: str = Field(examples=["accepted"])


class OfficeAddress(BaseModel):
    line1: str = Field(examples=["122 bis, rue André Karman"])
    postal_code: str = Field(examples=["93300"])
    city: str = Field(examples=["Aubervilliers"])


class OfficeResponse(BaseModel):
    name: str = Field(examples=["Office Public de l'Habitat d'Aubervilliers"])
    address: OfficeAddress
    phone: str
    email: str
    opening_hours: list[str] = Field(examples=[["Lundi au vendredi : 8 h 30 – 12 h, 13 h 30 – 17 h"]])
    emergency_phone: str
    website: str = Field(examples=["https://www.oph-aubervilliers.fr"])
    creditor_identifier: str = Field(description="SEPA creditor identifier (ICS)")
    iban: str
    bic: str


def _doc(status: int, description: str, model: Any) -> dict[int, Any]:
    """OpenAPI only: the bodies are built by the use cases."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


TAGS = ["Inscription"]


@app.post(
    "/v1/registrations/identity",
    tags=TAGS,
    summary="Étape 1/2 : vérifier l'identité du titulaire",
    responses=_doc(200, "Jeton d'inscription (30 minutes), à présenter à l'étape 2", IdentityResponse),
)
def identity(body: Annotated[IdentityRequest, Body()]) -> Response[Any]:
    return json_response(
        identity_check.start_registration(
            body.tenant_number,
            body.last_name,
            body.first_name,
            body.birth_date,
            client_ip=app.current_event.request_context.identity.source_ip or "",
        )
    )


@app.post(
    "/v1/registrations",
    tags=TAGS,
    summary="Étape 2/2 : créer le compte (e-mail, mot de passe, CGU) et envoyer le lien",
    responses=_doc(201, "Compte en attente de confirmation de l'adresse e-mail", RegistrationResponse),
)
def register(body: Annotated[RegistrationRequest, Body()]) -> Response[Any]:
    result = registration.register(
        registration_token=body.registration_token,
        email=body.email,
        email_confirmation=body.email_confirmation,
        password=body.password,
        password_confirmation=body.password_confirmation,
        accept_terms=body.accept_terms,
    )
    return json_response(result, 201)


@app.post(
    "/v1/registrations/verify",
    tags=TAGS,
    summary="Confirmer l'adresse e-mail avec le jeton du lien (usage unique, 24 heures)",
    responses=_doc(200, "Compte activé", VerifyResponse),
)
def verify(body: Annotated[VerifyRequest, Body()]) -> Response[Any]:
    return json_response(registration.verify_email(body.token))


@app.post(
    "/v1/registrations/resend",
    tags=TAGS,
    summary="Renvoyer le lien de confirmation (toujours 202)",
    responses=_doc(202, "Toujours la même réponse, qu'une inscription soit en attente ou non", AcceptedResponse),
)
def resend(body: Annotated[ResendRequest, Body()]) -> Response[Any]:
    registration.resend_verification(body.email)
    return json_response({"status": "accepted"}, 202)


# The office's details change with the stack's configuration only: a client may keep them 5 minutes.
OFFICE_CACHE = "public, max-age=300"


@app.get(
    "/v1/office",
    tags=["Office"],
    summary="Coordonnées de l'Office (écran « Contact » de l'application)",
    responses=_doc(200, "Les coordonnées imprimées sur les documents et rappelées dans les e-mails", OfficeResponse),
)
def office() -> Response[Any]:
    return json_response(get_office().as_api(), headers={"Cache-Control": OFFICE_CACHE})


# ---------------------------------------------------------------- the mobile app's own needs (section 10)
class MinVersions(BaseModel):
    ios: str = Field(examples=["1.0.0"])
    android: str = Field(examples=["1.0.0"])


class Maintenance(BaseModel):
    message: str = Field(examples=["Le service est en maintenance jusqu'à 14 h."])
    until: str | None = Field(default=None, json_schema_extra={"format": "date-time"})


class AppFeatures(BaseModel):
    direct_debit: bool
    statement: bool
    push: bool


class AppConfigResponse(BaseModel):
    min_version: MinVersions
    maintenance: Maintenance | None = None
    features: AppFeatures


@app.get(
    "/v1/app/config",
    tags=["Application"],
    summary="Configuration de l'application (versions minimales, maintenance, fonctions)",
    responses=_doc(200, "Ce que l'application doit savoir au démarrage (cache 5 minutes)", AppConfigResponse),
)
def app_config() -> Response[Any]:
    return json_response(mobile_app.app_config(), headers={"Cache-Control": mobile_app.CONFIG_CACHE})


def _association(body: Any) -> Response[Any]:
    """An association file: exactly ``application/json``, cached an hour, 404 when the app's
    ids are not configured (contract section 10)."""
    if body is None:
        raise NotFound()
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers={"Cache-Control": mobile_app.ASSOCIATION_CACHE},
    )


@app.get("/.well-known/apple-app-site-association", include_in_schema=False)
def apple_app_site_association() -> Response[Any]:
    return _association(mobile_app.apple_app_site_association())


@app.get("/.well-known/assetlinks.json", include_in_schema=False)
def asset_links() -> Response[Any]:
    return _association(mobile_app.asset_links())


# ---------------------------------------------------------------- the page opened from the e-mail
# GET only shows a button (mail scanners open links); the form's POST consumes the token.
@app.get("/links/verify-email", include_in_schema=False)
def verify_page() -> Response[Any]:
    raw = app.current_event.get_query_string_value("token", "") or ""
    try:
        registration.check_verification_link(raw)
    except TokenExpired:
        return _expired_page()
    except TokenInvalid:
        return _invalid_page()
    return page(
        "Confirmer mon adresse e-mail",
        "<p>Pour activer votre compte Mon espace locataire, confirmez votre adresse e-mail.</p>"
        '<form method="post" action="verify-email">'
        f'<input type="hidden" name="token" value="{escape(raw)}">'
        '<button type="submit">Confirmer mon adresse</button></form>',
    )


@app.post("/links/verify-email", include_in_schema=False)
def verify_page_submit() -> Response[Any]:
    form = _form()
    if form.get("action") == "resend":
        registration.resend_verification(form.get("email", ""))
        return page(
            "Demande enregistrée",
            '<p role="status">Si une inscription est en attente pour cette adresse, un nouveau lien de '
            "confirmation vient de vous être envoyé. Il est valable 24 heures.</p>"
            '<p class="hint">Pensez à regarder dans votre dossier « courrier indésirable » (spam).</p>',
        )
    try:
        registration.verify_email(form.get("token", ""))
    except TokenExpired:
        return _expired_page()
    except TokenInvalid:
        return _invalid_page()
    return page(
        "Adresse e-mail confirmée",
        '<p class="ok" role="status">Votre adresse e-mail est confirmée : votre compte est activé.</p>'
        "<p>Vous pouvez maintenant vous connecter dans l'application Mon espace locataire avec votre "
        "adresse e-mail et votre mot de passe.</p>",
    )


def _form() -> dict[str, str]:
    try:
        text = app.current_event.decoded_body or ""
    except (ValueError, UnicodeDecodeError):
        return {}
    return {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items() if values}


def _expired_page() -> Response[Any]:
    return page(
        "Lien expiré",
        '<p class="error" role="alert">Ce lien a expiré : il n\'était valable que 24 heures.</p>'
        '<p id="email-hint">Saisissez l\'adresse e-mail de votre inscription pour recevoir un nouveau lien.</p>'
        '<form method="post" action="verify-email">'
        '<input type="hidden" name="action" value="resend">'
        + input_field(
            "email", "Adresse e-mail", kind="email", attributes='autocomplete="email" required', hint_id="email-hint"
        )
        + '<button type="submit">Recevoir un nouveau lien</button></form>',
        status=400,
    )


def _invalid_page() -> Response[Any]:
    return page(
        "Lien invalide",
        '<p class="error" role="alert">Ce lien n\'est pas valide ou a déjà été utilisé.</p>'
        "<p>Si vous avez demandé plusieurs liens, seul le plus récent fonctionne. Si votre adresse est déjà "
        "confirmée, connectez-vous simplement dans l'application.</p>",
        status=400,
    )


lambda_handler = api.lambda_handler()
