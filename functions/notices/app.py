"""Documents ("Mes documents"): listing, download links, quittances on demand."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from oph.errors import NotImplementedYet
from oph.http import Api, RequestModel

api = Api()
app = api.resolver


class ReceiptRequest(RequestModel):
    period: str


@app.get("/v1/documents", tags=["Documents"])
def list_documents() -> dict:
    raise NotImplementedYet()


@app.post("/v1/documents/receipts", tags=["Documents"])
def create_receipt(body: Annotated[ReceiptRequest, Body()]) -> dict:
    raise NotImplementedYet()


lambda_handler = api.lambda_handler()
