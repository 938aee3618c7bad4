"""Configuration read from the environment the SAM template sets (see ``Globals``)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

_F = TypeVar("_F", bound=Callable[[], object])
_resets: list[Callable[[], object]] = []


def on_reset(fn: _F) -> _F:
    """Register a cache-clearing function run by :func:`reset_caches` (tests, local reset)."""
    _resets.append(fn)
    return fn


def reset_caches() -> None:
    """Forget everything cached per container: settings, clients, keys, the mailer."""
    get_settings.cache_clear()
    for fn in list(_resets):
        fn()


@dataclass(frozen=True)
class Settings:
    stage: str
    tenants_table: str
    tokens_table: str
    documents_bucket: str
    public_base_url: str  # empty: read from ``public_base_url_parameter`` (SSM) when needed
    public_base_url_parameter: str
    mail_from: str
    office_mail_from: str
    ses_configuration_set: str
    jwt_secret_arn: str
    payment_provider: str
    payment_secret_arn: str
    systempay_form_url: str
    payment_expiry_minutes: int
    notice_queue_url: str
    bcrypt_cost: int

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    def base_url(self) -> str:
        """The stack's public base URL, no trailing slash: ``PUBLIC_BASE_URL`` when the template
        could give it (a PublicBaseUrl or a custom domain), else the API's own URL, which only
        an SSM parameter can carry (template.yaml, PublicBaseUrl), read at the first link."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        # Named, not imported: the platform's settings know no AWS package (as Provider.lazy).
        parameters = importlib.import_module("oph.platform.aws.parameters")
        url = str(parameters.string_parameter(self.public_base_url_parameter))
        if self.is_production and not url.startswith("https://"):
            raise MisconfiguredStage("the public base URL must be https:// in production")
        return url.rstrip("/")

    def link(self, path: str) -> str:
        """Absolute URL of a page of ours; never built from request headers (host spoofing)."""
        return self.base_url() + path


class MisconfiguredStage(RuntimeError):
    """A production stage configured in a way that must never serve tenants."""


@cache
def get_settings() -> Settings:
    settings = _read_settings()
    if settings.is_production:
        # Fail loudly at cold start rather than e-mail tokens over http or take fake payments.
        if settings.public_base_url and not settings.public_base_url.startswith("https://"):
            raise MisconfiguredStage("PUBLIC_BASE_URL must be https:// in production")
        if settings.payment_provider == "sandbox":
            raise MisconfiguredStage("the sandbox payment gateway is refused in production")
    return settings


def _read_settings() -> Settings:
    env = os.environ.get
    return Settings(
        stage=env("STAGE", "local"),
        tenants_table=env("TENANTS_TABLE", "TenantsTable"),
        tokens_table=env("TOKENS_TABLE", "TokensTable"),
        documents_bucket=env("DOCUMENTS_BUCKET", "documents"),
        public_base_url=env("PUBLIC_BASE_URL", "http://127.0.0.1:3000"),
        public_base_url_parameter=env("PUBLIC_BASE_URL_PARAMETER", ""),
        mail_from=env("MAIL_FROM", "Mon espace locataire <ne-pas-repondre@oph-aubervilliers.fr>"),
        office_mail_from=env("OFFICE_MAIL_FROM", "informatique@oph-aubervilliers.fr"),
        ses_configuration_set=env("SES_CONFIGURATION_SET", ""),
        jwt_secret_arn=env("JWT_SECRET_ARN", "JwtSigningKey"),
        payment_provider=env("PAYMENT_PROVIDER", "sandbox"),
        payment_secret_arn=env("PAYMENT_SECRET_ARN", "PaymentGatewaySecret"),
        systempay_form_url=env("SYSTEMPAY_FORM_URL", "https://paiement.systempay.fr/vads-payment/"),
        payment_expiry_minutes=int(env("PAYMENT_EXPIRY_MINUTES", "60")),
        notice_queue_url=env("NOTICE_QUEUE_URL", ""),
        # 12 in production (see docs/PERFORMANCE.md); tests lower it through the environment.
        bcrypt_cost=int(env("BCRYPT_COST", "12")),
    )
