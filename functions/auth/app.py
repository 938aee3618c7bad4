"""Authentication: login, refresh, logout, forgotten password, /links/reset-password page."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from oph.errors import NotImplementedYet
from oph.http import Api, RequestModel

api = Api(public=["POST /v1/auth/login"])
app = api.resolver


class LoginRequest(RequestModel):
    email: str
    password: str


@app.post("/v1/auth/login", tags=["Authentification"])
def login(body: Annotated[LoginRequest, Body()]) -> dict:
    raise NotImplementedYet()


lambda_handler = api.lambda_handler()
