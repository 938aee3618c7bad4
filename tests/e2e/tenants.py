"""A fresh tenant the way it happens for real: imported like the office does, registered
through steps 1 and 2, activated by the link from the outbox, then logged in."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from tests.fixtures import STRONG_PASSWORD


@dataclass
class Registered:
    tenant_number: str
    email: str
    access_token: str
    refresh_token: str


def register_tenant(
    api: Any,
    *,
    last_name: str = "LEFEBVRE",
    first_name: str = "Amina",
    birth_date: str = "1988-04-02",
    prefix: str = "e2e",
    first_digit: int = 7,
) -> Registered:
    number = str(first_digit * 100000 + secrets.randbelow(99999))
    csv_body = (
        "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
        "address_line1;postal_code;city;balance;balance_date\n"
        f"{number};{last_name};{first_name};{birth_date};C{number}-01;T{number};3 Rue du Moutier;93300;"
        "AUBERVILLIERS;220,00;2019-05-23\n"
    ).encode()
    imported = api.request("POST", "/_dev/imports/tenants", body=csv_body, query=f"name={prefix}-{number}.csv")
    assert imported.status == 200, imported.text
    return register_holder(api, number, last_name, first_name, birth_date, prefix=prefix)


def register_holder(
    api: Any, number: str, last_name: str, first_name: str, birth_date: str, *, prefix: str = "e2e"
) -> Registered:
    """Steps 1 and 2, the verify link from the outbox, then login, for a holder already imported."""
    identity = api.post(
        "/v1/registrations/identity",
        {"tenant_number": number, "last_name": last_name, "first_name": first_name, "birth_date": birth_date},
    )
    assert identity.status == 200, identity.text
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@exemple.com"
    registered = api.post(
        "/v1/registrations",
        {
            "registration_token": identity.json()["registration_token"],
            "email": email,
            "email_confirmation": email,
            "password": STRONG_PASSWORD,
            "password_confirmation": STRONG_PASSWORD,
            "accept_terms": True,
        },
    )
    assert registered.status == 201, registered.text
    link = next(
        re.search(r"/links/verify-email\?token=([A-Za-z0-9_\-]+)", m["text"]).group(1)
        for m in reversed(api.outbox())
        if email in m["to"] and "/links/verify-email" in m["text"]
    )
    assert api.post("/v1/registrations/verify", {"token": link}).status == 200
    login = api.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert login.status == 200, login.text
    return Registered(number, email, login.json()["access_token"], login.json()["refresh_token"])
