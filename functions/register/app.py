"""Registration: steps 1-3 of the app, resend, and the /links/verify-email page."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from oph.errors import NotImplementedYet
from oph.http import Api, RequestModel

api = Api(
    public=[
        "POST /v1/registrations/identity",
        "POST /v1/registrations",
        "POST /v1/registrations/verify",
        "POST /v1/registrations/resend",
        "GET /links/verify-email",
        "POST /links/verify-email",
    ]
)
app = api.resolver


class IdentityRequest(RequestModel):
    tenant_number: str
    last_name: str
    first_name: str
    birth_date: str


@app.post("/v1/registrations/identity", tags=["Inscription"])
def identity(body: Annotated[IdentityRequest, Body()]) -> dict:
    raise NotImplementedYet()


lambda_handler = api.lambda_handler()
