"""Account ("Mon compte"): infos, preferences, e-mail and password changes, delete, export,
and the phones that receive push notifications."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from oph.accounts import devices, email_change
from oph.accounts import pages as account_pages
from oph.accounts import profile as account_service
from oph.accounts.access_tokens import authenticate
from oph.accounts.model import MAX_DEVICE_TOKEN_BYTES, PLATFORMS
from oph.platform.http import Api, EmailInput, RequestModel, empty_response, json_response, principal
from oph.platform.validation import is_valid_email
from oph.privacy import deletion as account_deletion
from oph.privacy import export as data_export

api = Api(public=["GET /links/confirm-email"], authenticate=authenticate)
app = api.resolver

TAGS = ["Compte"]


def _required(value: str) -> str:
    if not value:
        raise PydanticCustomError("required", "Ce champ est obligatoire.")
    return value


# An empty current password is a missing one (422 required), not a wrong one (403).
CurrentPassword = Annotated[str, AfterValidator(_required), Field(json_schema_extra={"minLength": 1})]


# Optional, but never null: documented as a plain boolean.
OptionalBool = Annotated[StrictBool | None, WithJsonSchema({"type": "boolean"})]


class PreferencesUpdate(RequestModel):
    notice_emails: OptionalBool = None
    receipts_by_email: OptionalBool = None
    push_notices: OptionalBool = None
    push_payments: OptionalBool = None

    @field_validator("notice_emails", "receipts_by_email", "push_notices", "push_payments", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:  # a field sent as null is not a boolean
            raise PydanticCustomError("invalid_format", "La valeur doit être true ou false.")
        return value


def _platform(value: Any) -> Any:
    if value not in PLATFORMS:
        raise PydanticCustomError("invalid_format", "La plateforme doit être ios ou android.")
    return value


def _device_token(value: Any) -> Any:
    """Checked before the model's own string length, so every over-long token gets this answer."""
    if isinstance(value, str):
        if not value.strip():
            raise PydanticCustomError("required", "Ce champ est obligatoire.")
        if len(value.encode("utf-8", "surrogatepass")) > MAX_DEVICE_TOKEN_BYTES:
            raise PydanticCustomError("invalid_format", "Le jeton ne doit pas dépasser 4 096 octets.")
    return value


Platform = Annotated[str, BeforeValidator(_platform), WithJsonSchema({"type": "string", "enum": list(PLATFORMS)})]
DeviceToken = Annotated[
    str,
    BeforeValidator(_device_token),
    Field(json_schema_extra={"minLength": 1, "maxLength": MAX_DEVICE_TOKEN_BYTES}),
]


class DeviceRegistration(RequestModel):
    platform: Platform
    token: DeviceToken


class DeviceUnregistration(RequestModel):
    token: DeviceToken


class EmailChangeRequest(RequestModel):
    new_email: EmailInput
    current_password: CurrentPassword

    @field_validator("new_email")
    @classmethod
    def _email_format(cls, value: str) -> str:
        if not is_valid_email(value):
            raise PydanticCustomError("invalid_format", "L'adresse e-mail n'est pas valide.")
        return value


class EmailConfirmRequest(RequestModel):
    token: str


class PasswordChangeRequest(RequestModel):
    current_password: CurrentPassword
    new_password: str
    new_password_confirmation: str


class AccountDeleteRequest(RequestModel):
    current_password: CurrentPassword


# -- response shapes (documentation only: the use cases build the bodies)


class Address(BaseModel):
    line1: str
    postal_code: str
    city: str


class AccountView(BaseModel):
    tenant_number: str
    first_name: str
    last_name: str
    email: str
    pending_email: str | None
    email_status: str
    contract_number: str
    third_party_number: str
    address: Address
    created_at: str
    terms_accepted_at: str


class Preferences(BaseModel):
    notice_emails: bool
    receipts_by_email: bool
    push_notices: bool
    push_payments: bool


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 900
    refresh_token: str
    refresh_expires_in: int = 2592000


def _doc(status: int, description: str, model: Any = None, media: str = "application/json") -> dict[int, Any]:
    """OpenAPI only: bodies are built by the use cases, so the routes return ``Response[Any]``."""
    content = {media: {"model": model}} if model is not None else {}
    return {status: {"description": description, **({"content": content} if content else {})}}


@app.get("/v1/account", tags=TAGS, summary="Mes infos", responses=_doc(200, "Mes infos", AccountView))
def get_account() -> Response[Any]:
    return json_response(account_service.get_account(principal().account))


@app.get(
    "/v1/account/preferences",
    tags=TAGS,
    summary="Préférences de communication",
    responses=_doc(200, "Préférences", Preferences),
)
def get_preferences() -> Response[Any]:
    return json_response(account_service.get_preferences(principal().account))


@app.put(
    "/v1/account/preferences",
    tags=TAGS,
    summary="Modifier les préférences (tout sous-ensemble)",
    responses=_doc(200, "Toutes les préférences, après modification", Preferences),
)
def put_preferences(body: Annotated[PreferencesUpdate, Body()]) -> Response[Any]:
    changes = body.model_dump(exclude_unset=True)
    return json_response(account_service.update_preferences(principal().account, changes))


@app.post(
    "/v1/account/email",
    tags=TAGS,
    summary="Changer d'adresse e-mail (lien de confirmation)",
    responses=_doc(202, "Demande enregistrée ; pending_email montre l'adresse demandée", AccountView),
)
def request_email_change(body: Annotated[EmailChangeRequest, Body()]) -> Response[Any]:
    view = email_change.request_email_change(principal().account, body.new_email, body.current_password)
    return json_response(view, status=202)


@app.post(
    "/v1/account/email/confirm",
    tags=TAGS,
    summary="Confirmer la nouvelle adresse e-mail",
    responses=_doc(200, "Adresse remplacée", AccountView),
)
def confirm_email_change(body: Annotated[EmailConfirmRequest, Body()]) -> Response[Any]:
    return json_response(email_change.confirm_email_change(principal().account, body.token))


@app.put(
    "/v1/account/password",
    tags=TAGS,
    summary="Changer de mot de passe",
    responses=_doc(200, "Nouvelle paire de jetons ; toutes les autres sessions sont révoquées", TokenPair),
)
def change_password(body: Annotated[PasswordChangeRequest, Body()]) -> Response[Any]:
    tokens = account_service.change_password(
        principal().account, body.current_password, body.new_password, body.new_password_confirmation
    )
    return json_response(tokens)


@app.delete(
    "/v1/account",
    tags=TAGS,
    summary="Supprimer mon compte en ligne",
    responses=_doc(204, "Compte supprimé (les données de l'Office sont conservées)"),
)
def delete_account(body: Annotated[AccountDeleteRequest, Body()]) -> Response[Any]:
    account_deletion.delete_account(principal().account, body.current_password)
    return empty_response(204)


@app.put(
    "/v1/account/devices",
    tags=TAGS,
    summary="Enregistrer ce téléphone pour les notifications (5 au plus par compte)",
    responses=_doc(204, "Téléphone enregistré (le même jeton à nouveau ne change rien)"),
)
def register_device(body: Annotated[DeviceRegistration, Body()]) -> Response[Any]:
    devices.register_device(principal().account, body.platform, body.token)
    return empty_response(204)


@app.delete(
    "/v1/account/devices",
    tags=TAGS,
    summary="Ne plus recevoir de notifications sur ce téléphone",
    responses=_doc(204, "Téléphone retiré (aussi quand le jeton est inconnu)"),
)
def unregister_device(body: Annotated[DeviceUnregistration, Body()]) -> Response[Any]:
    devices.unregister_device(principal().account, body.token)
    return empty_response(204)


@app.get(
    "/v1/account/export",
    tags=TAGS,
    summary="Exporter mes données (RGPD)",
    responses=_doc(200, "Fichier JSON mes-donnees.json (pièce jointe)", dict[str, Any]),
)
def export_data() -> Response[Any]:
    return json_response(
        data_export.export_personal_data(principal().account),
        headers={"Content-Disposition": f'attachment; filename="{data_export.FILENAME}"'},
    )


@app.get("/links/confirm-email", include_in_schema=False)  # HTML page (never consumes the link), not JSON API
def confirm_email_page(token: Annotated[str | None, Query()] = None) -> Response[Any]:
    return account_pages.confirm_email_page(token)


lambda_handler = api.lambda_handler()
