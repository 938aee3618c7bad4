"""Payments: balance, payer en ligne, gateway notifications, checkout/sandbox/return pages."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from oph.errors import NotImplementedYet
from oph.http import Api, RequestModel

NOTIFICATION = "POST /v1/payments/notifications/<provider>"
api = Api(public=[NOTIFICATION], form_routes=[NOTIFICATION])
app = api.resolver


class PaymentRequest(RequestModel):
    amount_cents: int


@app.get("/v1/payments/balance", tags=["Paiements"])
def balance() -> dict:
    raise NotImplementedYet()


@app.post("/v1/payments", tags=["Paiements"])
def create_payment(body: Annotated[PaymentRequest, Body()]) -> dict:
    raise NotImplementedYet()


lambda_handler = api.lambda_handler()
