"""Typed domain errors and the contract's error codes.

Use cases raise these; ``oph.platform.http`` maps them to problem+json once for every function. A
``title`` is always French and never carries personal data, tokens or AWS messages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from oph.platform.office import get_office


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


# French messages of the field codes, used when a validator gives none of its own.
FIELD_MESSAGES: dict[str, str] = {
    "required": "Ce champ est obligatoire.",
    "invalid_format": "Le format de ce champ n'est pas valide.",
    "mismatch": "La confirmation ne correspond pas.",
    "password_policy": "Le mot de passe ne respecte pas les règles de sécurité.",
    "terms_not_accepted": "Vous devez accepter les conditions générales d'utilisation.",
    "amount_out_of_range": "Le montant doit être compris entre 1,00 € et 10 000,00 €.",
    "unknown_field": "Ce champ n'est pas attendu.",
    "period_unpaid": "Aucun paiement n'est enregistré pour cette période.",
    "range_too_long": "La période demandée ne peut pas dépasser deux ans (731 jours).",
    "mandate_not_accepted": "Vous devez accepter le mandat de prélèvement SEPA pour le signer.",
}


class ApiError(Exception):
    """An error the API answers with a stable code; subclasses fix status, code and title."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Une erreur interne est survenue."

    def __init__(
        self,
        title: str | None = None,
        *,
        errors: Iterable[FieldError] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(self.code)
        self.title = title if title is not None else self.current_title()
        self.errors = list(errors)
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))

    @classmethod
    def current_title(cls) -> str:
        """The default title; a title that names the office's details (its phone, contract
        section 9) is built here from the stack's configuration when raised, never at import."""
        return cls.title


class MalformedJson(ApiError):
    status, code, title = 400, "malformed_json", "Le corps de la requête n'est pas un JSON valide."


class TokenInvalid(ApiError):
    status, code, title = 400, "token_invalid", "Ce lien n'est pas valide ou a déjà été utilisé."


class TokenExpired(ApiError):
    status, code, title = 400, "token_expired", "Ce lien a expiré."


class IdentityMismatch(ApiError):
    """One answer whatever is wrong; it repeats the registration guide's hint and gives the
    office's phone, so a tenant who cannot get through is not left alone."""

    status, code = 400, "identity_mismatch"
    title = "Les informations saisies ne correspondent pas à celles de l'Office."

    @classmethod
    def current_title(cls) -> str:
        return (
            f"{cls.title} Votre numéro d'intitulé est à retrouver sur vos avis d'échéance. "
            f"En cas de difficulté, contactez l'Office au {get_office().phone}."
        )


class Unauthorized(ApiError):
    status, code, title = 401, "unauthorized", "Authentification requise ou session expirée."


class InvalidCredentials(ApiError):
    status, code, title = 401, "invalid_credentials", "Adresse e-mail ou mot de passe incorrect."


class EmailNotVerified(ApiError):
    status, code = 403, "email_not_verified"
    title = "Votre adresse e-mail n'est pas encore confirmée. Consultez le lien reçu par e-mail."


class CurrentPasswordInvalid(ApiError):
    status, code, title = 403, "current_password_invalid", "Le mot de passe actuel est incorrect."


class AccountDisabled(ApiError):
    status, code = 403, "account_disabled"
    title = "Votre compte a été désactivé. Contactez l'Office pour le réactiver."

    @classmethod
    def current_title(cls) -> str:
        return f"Votre compte a été désactivé. Contactez l'Office au {get_office().phone} pour le réactiver."


class NotFound(ApiError):
    status, code, title = 404, "not_found", "Ressource introuvable."


class AccountExists(ApiError):
    status, code = 409, "account_exists"
    title = "Un compte existe déjà pour ce titulaire. Connectez-vous ou réinitialisez votre mot de passe."


class EmailTaken(ApiError):
    status, code, title = 409, "email_taken", "Cette adresse e-mail est déjà utilisée par un autre compte."


class IdempotencyConflict(ApiError):
    status, code = 409, "idempotency_conflict"
    title = "Cette clé d'idempotence a déjà servi pour une requête différente."


class PayloadTooLarge(ApiError):
    status, code, title = 413, "payload_too_large", "La requête dépasse la taille autorisée (64 Kio)."


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"
    title = "Le contenu de la requête doit être au format application/json."


class ValidationFailed(ApiError):
    status, code, title = 422, "validation_error", "Certains champs sont invalides."

    @classmethod
    def single(cls, field: str, code: str, message: str | None = None) -> ValidationFailed:
        return cls(errors=[FieldError(field, code, message or FIELD_MESSAGES.get(code, code))])


class TooManyRequests(ApiError):
    status, code, title = 429, "too_many_requests", "Trop de tentatives. Veuillez réessayer plus tard."


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"
    title = "Le service est momentanément indisponible. Veuillez réessayer dans quelques instants."

    def __init__(self, title: str | None = None, *, retry_after: float | None = 5) -> None:
        super().__init__(title, retry_after=retry_after)


class InternalError(ApiError):
    """Never raised on purpose: the generic answer for anything unexpected."""


class FieldErrors:
    """Collects every failing field of a request, so one 422 lists them all."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, code: str, message: str | None = None) -> None:
        if not any(e.field == field for e in self.items):
            self.items.append(FieldError(field, code, message or FIELD_MESSAGES.get(code, code)))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(errors=self.items)
