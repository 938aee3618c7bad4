"""Documents ("Mes documents"): listing, download links, quittances and relevés de compte on demand."""

from __future__ import annotations

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from oph.accounts.access_tokens import authenticate
from oph.platform.http import Api, RequestModel, json_response, principal

api = Api(authenticate=authenticate)
app = api.resolver
TAGS = ["Documents"]
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReceiptRequest(RequestModel):
    period: str

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not _PERIOD.match(value):
            raise PydanticCustomError("invalid_format", "La période doit être au format AAAA-MM (par exemple 2019-05).")
        return value


class StatementRequest(RequestModel):
    """The range of the relevé de compte; validated by the use case exactly as the query of
    ``GET /v1/payments/statement`` (defaults, ``invalid_format``, ``range_too_long``)."""

    from_date: str | None = Field(
        default=None,
        alias="from",
        description="AAAA-MM-JJ, inclus ; par défaut le lendemain de la même date un an avant `to`",
    )
    to: str | None = Field(default=None, description="AAAA-MM-JJ, inclus ; par défaut aujourd'hui (Paris)")


# -- response shapes (documentation only: the use cases build the bodies)


class DocumentItem(BaseModel):
    id: str
    type: str
    title: str
    issued_on: str
    period: str | None
    due_date: str | None = None
    amount_due_cents: int | None = None
    amount_cents: int | None = None


class DocumentList(BaseModel):
    items: list[DocumentItem]


class DownloadLink(BaseModel):
    url: str
    expires_in: int = 300
    filename: str


def _doc(*entries: tuple[int, str, Any]) -> dict[int, Any]:
    return {
        status: {"description": text, **({"content": {"application/json": {"model": model}}} if model else {})}
        for status, text, model in entries
    }


@app.get(
    "/v1/documents",
    tags=TAGS,
    summary="Mes documents : avis d'échéance, quittances, reçus, relevés de compte, mandats (du plus récent au plus ancien)",
    responses=_doc((200, "Documents de la location", DocumentList)),
)
def list_documents(
    doc_type: Annotated[
        str | None,
        Query(alias="type", description="notice, receipt, payment_receipt, statement ou mandate", max_length=40),
    ] = None,
) -> Response[Any]:
    from oph.documents.library import list_documents as use_case

    return json_response({"items": use_case(principal().tenant_number, doc_type)})


@app.get(
    "/v1/documents/<id>/download",
    tags=TAGS,
    summary="Lien de téléchargement du PDF (URL signée valable 5 minutes)",
    responses=_doc((200, "URL signée", DownloadLink), (404, "Document inconnu (ou d'une autre location)", None)),
)
def download_document(id: str) -> Response[Any]:  # noqa: A002 - the contract's parameter name
    from oph.documents.library import download_link

    return json_response(download_link(principal().tenant_number, id))


@app.post(
    "/v1/documents/receipts",
    tags=TAGS,
    summary="Quittance (période payée) ou reçu (période payée en partie) à la demande",
    responses=_doc(
        (201, "Document créé", DocumentItem),
        (200, "Document déjà créé pour cette période dans le même état de paiement", DocumentItem),
        (404, "Aucun avis d'échéance pour cette période", None),
    ),
)
def create_receipt(body: Annotated[ReceiptRequest, Body()]) -> Response[Any]:
    from oph.payments.receipts import create_receipt as use_case

    caller = principal()
    document, created = use_case(caller.tenant_number, body.period, caller.account)
    return json_response(document.as_api(), status=201 if created else 200)


@app.post(
    "/v1/documents/statements",
    tags=TAGS,
    summary="Relevé de compte en PDF pour une période (du plus ancien mouvement au plus récent, avec le solde)",
    responses=_doc(
        (201, "Relevé créé", DocumentItem),
        (200, "Relevé déjà créé aujourd'hui pour la même période", DocumentItem),
    ),
)
def create_statement(body: Annotated[StatementRequest, Body()]) -> Response[Any]:
    from oph.payments.statement_document import create_statement_document

    document, created = create_statement_document(principal().tenant_number, body.from_date, body.to)
    return json_response(document.as_api(), status=201 if created else 200)


lambda_handler = api.lambda_handler()
