"""Payments: balance, statement, payer en ligne, direct debit, gateway notifications,
checkout/sandbox/return pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from oph.accounts.access_tokens import authenticate
from oph.payments import balance as payment_reads
from oph.payments import checkout, direct_debit, notifications, sandbox, statement, systempay
from oph.payments import pages as payment_pages
from oph.payments.mandate import DEBIT_DAYS
from oph.payments.model import MAX_AMOUNT_CENTS, MIN_AMOUNT_CENTS, NotificationRejected
from oph.platform.errors import FIELD_MESSAGES, ValidationFailed
from oph.platform.http import Api, RequestModel, json_response, principal, raw_body

NOTIFICATION = "POST /v1/payments/notifications/<provider>"
PAGES = [
    "GET /links/checkout",
    "GET /links/payment-return",
    "POST /sandbox/payment",
    "POST /sandbox/payment/submit",
]
api = Api(public=[NOTIFICATION, *PAGES], form_routes=[NOTIFICATION], authenticate=authenticate)
app = api.resolver


class PaymentRequest(RequestModel):
    amount_cents: Annotated[
        int,
        Field(
            strict=True,
            description="Montant en centimes d'euro (100 à 1 000 000).",
            # Documented only: the validator below answers with the contract's amount_out_of_range.
            json_schema_extra={"minimum": MIN_AMOUNT_CENTS, "maximum": MAX_AMOUNT_CENTS},
        ),
    ]

    @field_validator("amount_cents")
    @classmethod
    def _in_range(cls, value: int) -> int:
        if not MIN_AMOUNT_CENTS <= value <= MAX_AMOUNT_CENTS:
            raise PydanticCustomError("amount_out_of_range", FIELD_MESSAGES["amount_out_of_range"])
        return value


# The use case checks the values (every failing field in one 422, contract section 8):
# ``debit_day`` and ``accept_mandate`` are taken as any JSON value here so that a wrong one is
# reported with its contract code next to the other fields' errors.
class MandateRequest(RequestModel):
    iban: str = Field(
        description="IBAN du compte à débiter (zone SEPA ; espaces et casse indifférents).",
        examples=["FR76 3000 6000 0112 3456 7890 189"],
    )
    account_holder: str = Field(
        description="Titulaire du compte (70 caractères au plus).",
        examples=["DUPOND Jean"],
        json_schema_extra={"maxLength": 70},
    )
    debit_day: Annotated[
        Any,
        WithJsonSchema({"type": "integer", "enum": list(DEBIT_DAYS), "description": "Jour du mois : 5, 10 ou 15."}),
    ]
    accept_mandate: Annotated[
        Any,
        WithJsonSchema({"type": "boolean", "description": "Doit valoir true (sinon 422 mandate_not_accepted)."}),
    ]
    current_password: str = Field(json_schema_extra={"minLength": 1})


class MandateRevocationRequest(RequestModel):
    current_password: str = Field(json_schema_extra={"minLength": 1})


# -- response shapes (documentation only: the use cases build the bodies)


class Balance(BaseModel):
    balance_cents: int = Field(
        description="Solde à sa date (mouvements du compte, sinon dernier solde importé). Positif : somme due ; "
        "négatif : crédit.",
        examples=[61068],
    )
    balance_date: str | None = Field(examples=["2019-05-23"])
    pending_cents: int = Field(
        description="Paiements en ligne acceptés après la date du solde et pas encore rapprochés.", examples=[0]
    )
    amount_due_cents: int = Field(description="Montant du dernier avis d'échéance (0 sans avis).", examples=[22000])
    due_date: str | None = Field(examples=["2019-06-10"])
    amount_to_pay_cents: int = Field(
        description="Net à payer : solde + avis émis après la date du solde − paiements en attente, jamais négatif ; "
        "montant proposé pour « payer en ligne ».",
        examples=[83068],
    )


class StatementItem(BaseModel):
    date: str = Field(examples=["2019-05-05"])
    label: str = Field(examples=["Virement"])
    amount_cents: int = Field(description="Positif : somme due ; négatif : règlement.", examples=[-18000])
    balance_cents: int = Field(description="Solde après cette ligne.", examples=[21068])
    source: Literal["office", "online"] = Field(
        description="office : mouvement du compte tenu par l'Office ; online : paiement en ligne pas encore rapproché."
    )
    reference: str = Field(examples=["M-88412"])


class Statement(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", examples=["2019-01-01"])
    to: str = Field(examples=["2019-05-31"])
    opening_balance_cents: int = Field(description="Solde juste avant « from ».", examples=[39068])
    items: list[StatementItem] = Field(description="Du plus ancien au plus récent.")
    closing_balance_cents: int = Field(examples=[-932])
    amount_to_pay_cents: int = Field(description="Net à payer aujourd'hui (comme dans le solde).", examples=[0])


class DirectDebit(BaseModel):
    status: Literal["none", "pending", "active", "revocation_pending", "revoked"] = Field(
        description="none : aucun mandat (les autres champs sont null) ; pending : signé en ligne, pas encore pris "
        "en compte par l'Office ; active ; revocation_pending : arrêt demandé ; revoked : arrêté."
    )
    iban_masked: str | None = Field(examples=["FR76 **** **** **** **** ***0 189"])
    account_holder: str | None = Field(examples=["DUPOND Jean"])
    debit_day: Literal[5, 10, 15] | None = Field(examples=[5])
    mandate_reference: str | None = Field(description="Référence unique du mandat (RUM).", examples=["OPH-123456-0001"])
    signed_at: str | None = Field(examples=["2019-05-28T12:05:00Z"])
    document_id: str | None = Field(description="Le mandat signé, dans « Mes documents » (type mandate).")


class CreatedPayment(BaseModel):
    id: str
    status: Literal["created"]
    amount_cents: int
    checkout_url: str


class PaymentView(BaseModel):
    id: str
    amount_cents: int
    status: Literal["created", "succeeded", "refused", "abandoned", "expired"]
    created_at: str
    paid_at: str | None


class PaymentList(BaseModel):
    items: list[PaymentView]


def _doc(*entries: tuple[int, str, Any]) -> dict[int, Any]:
    return {
        status: {"description": text, "content": {"application/json": {"model": model}}}
        for status, text, model in entries
    }


@app.get(
    "/v1/payments/balance",
    tags=["Paiements"],
    summary="Solde, paiements en attente, dernier avis et net à payer",
    responses=_doc((200, "Solde", Balance)),
)
def balance() -> Response[Any]:
    return json_response(payment_reads.get_balance(principal().tenant_number))


DATE_QUERY = "AAAA-MM-JJ, inclus."


@app.get(
    "/v1/payments/statement",
    tags=["Paiements"],
    summary="Relevé de compte : mouvements, paiements en ligne et soldes sur une période",
    responses=_doc((200, "Relevé (plus de 731 jours : 422 range_too_long sur from)", Statement)),
)
def account_statement(
    from_date: Annotated[
        str | None,
        Query(
            alias="from",
            description=f"Début ({DATE_QUERY}) ; par défaut, le lendemain de la même date un an avant « to ».",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    to_date: Annotated[
        str | None,
        Query(
            alias="to",
            description=f"Fin ({DATE_QUERY}) ; par défaut, aujourd'hui (Paris).",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
) -> Response[Any]:
    return json_response(statement.statement(principal().tenant_number, from_date, to_date).as_api())


DIRECT_DEBIT = "/v1/payments/direct-debit"


@app.get(
    DIRECT_DEBIT,
    tags=["Paiements"],
    summary="Prélèvement automatique : le mandat SEPA du logement (le même pour les cotitulaires)",
    responses=_doc((200, "Le mandat (status none : aucun)", DirectDebit)),
)
def get_direct_debit() -> Response[Any]:
    return json_response(direct_debit.get_direct_debit(principal().tenant_number))


@app.put(
    DIRECT_DEBIT,
    tags=["Paiements"],
    summary="Signer un mandat de prélèvement SEPA (IBAN masqué dans toutes les réponses)",
    responses=_doc(
        (201, "Mandat signé (pending) ; le PDF est dans « Mes documents » (409 direct_debit_exists)", DirectDebit)
    ),
)
def sign_mandate(body: Annotated[MandateRequest, Body()]) -> Response[Any]:
    answer = direct_debit.sign_mandate(
        principal().account,
        iban=body.iban,
        account_holder=body.account_holder,
        debit_day=body.debit_day,
        accept_mandate=body.accept_mandate,
        current_password=body.current_password,
    )
    return json_response(answer, status=201)


@app.delete(
    DIRECT_DEBIT,
    tags=["Paiements"],
    summary="Demander l'arrêt du prélèvement automatique",
    responses=_doc((200, "Arrêt demandé (revocation_pending) ; 404 sans mandat en attente ou actif", DirectDebit)),
)
def revoke_mandate(body: Annotated[MandateRevocationRequest, Body()]) -> Response[Any]:
    return json_response(direct_debit.revoke_mandate(principal().account, body.current_password))


@app.post(
    "/v1/payments",
    tags=["Paiements"],
    summary="Payer en ligne : crée un paiement et son lien de paiement",
    responses=_doc(
        (201, "Paiement créé", CreatedPayment),
        (200, "Même Idempotency-Key et même corps : la première réponse, à l'identique", CreatedPayment),
    ),
)
def create_payment(
    body: Annotated[PaymentRequest, Body()],
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Clé choisie par l'app (un UUID).",
            # Documented only: a blank key is a missing one (422 required, below).
            json_schema_extra={"pattern": r"\S"},
        ),
    ],
) -> Response[Any]:
    caller = principal()
    if not idempotency_key.strip():
        raise ValidationFailed.single("Idempotency-Key", "required")
    status, answer = checkout.create_payment(
        account_id=caller.account_id,
        tenant_number=caller.tenant_number,
        amount_cents=body.amount_cents,
        idempotency_key=idempotency_key,
    )
    return json_response(answer, status=status)


@app.get(
    "/v1/payments",
    tags=["Paiements"],
    summary="Historique des paiements en ligne",
    responses=_doc((200, "Du plus récent au plus ancien", PaymentList)),
)
def list_payments() -> Response[Any]:
    return json_response(payment_reads.list_payments(principal().tenant_number))


@app.get(
    "/v1/payments/<payment_id>",
    tags=["Paiements"],
    summary="Un paiement",
    responses=_doc((200, "Le paiement", PaymentView)),
)
def get_payment(payment_id: str) -> Response[Any]:
    return json_response(payment_reads.get_payment(principal().tenant_number, payment_id))


@app.post(
    "/v1/payments/notifications/<provider>",
    tags=["Paiements"],
    summary="Notification serveur à serveur de la passerelle (IPN, formulaire vads_*)",
    responses={200: {"description": "Notification prise en compte", "content": {"text/plain": {"model": str}}}},
)
def notification(provider: str) -> Response[str]:
    notifications.handle_notification(provider, raw_body(app.current_event.raw_event))
    return Response(status_code=200, content_type="text/plain; charset=utf-8", body="OK")


def _query(name: str) -> str:
    return app.current_event.get_query_string_value(name, "") or ""


def _form() -> dict[str, Any]:
    try:
        return systempay.parse_form(raw_body(app.current_event.raw_event))
    except systempay.MalformedNotification:
        raise NotificationRejected("Ce formulaire de paiement n'est pas valide.") from None


@app.get("/links/checkout", include_in_schema=False)
def checkout_page() -> Response[str]:
    return payment_pages.checkout_page(checkout.checkout(_query("payment_id"), _query("sig")))


@app.get("/links/payment-return", include_in_schema=False)
def return_page() -> Response[str]:
    return payment_pages.return_page(checkout.payment_status(_query("payment_id")))


@app.post("/sandbox/payment", include_in_schema=False)
def sandbox_page() -> Response[str]:
    return payment_pages.sandbox_page(sandbox.sandbox_open(_form()))


@app.post("/sandbox/payment/submit", include_in_schema=False)
def sandbox_submit() -> Response[str]:
    try:
        return payment_pages.redirect(sandbox.sandbox_submit(_form()))
    except sandbox.UnknownTestCard as exc:
        return payment_pages.sandbox_page(
            exc.form,
            error="Carte de test inconnue : utilisez 4970 1000 0000 0003 (accepté) ou 4970 1000 0000 0014 (refusé).",
            status=422,
        )


lambda_handler = api.lambda_handler()
