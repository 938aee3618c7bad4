"""Account ("Mon compte"): infos, preferences, e-mail and password changes, delete, export."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from oph.errors import NotImplementedYet
from oph.http import Api, RequestModel

api = Api()
app = api.resolver


class PreferencesUpdate(RequestModel):
    notice_emails: bool | None = None
    receipts_by_email: bool | None = None


@app.get("/v1/account", tags=["Compte"])
def get_account() -> dict:
    raise NotImplementedYet()


@app.put("/v1/account/preferences", tags=["Compte"])
def put_preferences(body: Annotated[PreferencesUpdate, Body()]) -> dict:
    raise NotImplementedYet()


lambda_handler = api.lambda_handler()
