"""Helpers shared by the registration handler tests (no tests here)."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from oph.accounts import model as accounts
from oph.accounts.account_store import account_from_item, email_key, holder_key
from oph.platform import aws
from oph.platform.settings import get_settings

PASSWORD = "Correct-Cheval-Pile-42"


def identity(tenant: Any) -> dict[str, str]:
    """Step-1 body of a factories.Tenant or of the demo tenant dict."""
    if isinstance(tenant, dict):
        return dict(tenant)
    holder = tenant.holder
    return {
        "tenant_number": holder.tenant_number,
        "last_name": holder.last_name,
        "first_name": holder.first_name,
        "birth_date": holder.birth_date,
    }


def new_email() -> str:
    return f"loc-{uuid.uuid4().hex[:10]}@exemple.com"


def step2_body(token: str, email: str, password: str = PASSWORD, **overrides: Any) -> dict[str, Any]:
    body = {
        "registration_token": token,
        "email": email,
        "email_confirmation": email,
        "password": password,
        "password_confirmation": password,
        "accept_terms": True,
    }
    body.update(overrides)
    return body


def start(client: Any, tenant: Any, ip: str = "203.0.113.7") -> str:
    reply = client.post("/v1/registrations/identity", json=identity(tenant), ip=ip)
    assert reply.status == 200, reply.text
    return str(reply.json()["registration_token"])


def register(client: Any, tenant: Any, email: str, password: str = PASSWORD) -> Any:
    reply = client.post("/v1/registrations", json=step2_body(start(client, tenant), email, password))
    assert reply.status == 201, reply.text
    return reply


def links_to(outbox: Any, email: str) -> list[str]:
    """Verification tokens e-mailed to ``email``, oldest first."""
    found = []
    for message in outbox():
        if email in message["to"]:
            match = re.search(r"/links/verify-email\?token=([A-Za-z0-9_%-]+)", message["text"])
            if match:
                found.append(parse_qs(urlsplit(match.group(0)).query)["token"][0])
    return found


def messages_to(outbox: Any, email: str) -> list[dict[str, Any]]:
    return [m for m in outbox() if email in m["to"]]


def verify(client: Any, token: str) -> Any:
    return client.post("/v1/registrations/verify", json={"token": token})


def email_owner(email: str) -> str | None:
    item = (
        aws.dynamodb()
        .get_item(TableName=get_settings().tenants_table, Key=email_key(email), ConsistentRead=True)
        .get("Item")
    )
    return item["account_id"]["S"] if item else None


def holder_owner(holder_id: str) -> str | None:
    item = (
        aws.dynamodb()
        .get_item(TableName=get_settings().tenants_table, Key=holder_key(holder_id), ConsistentRead=True)
        .get("Item")
    )
    return item["account_id"]["S"] if item else None


def all_accounts() -> list[accounts.Account]:
    items = aws.dynamodb().scan(TableName=get_settings().tenants_table)["Items"]
    return [account_from_item(i) for i in items if i["pk"]["S"].startswith("ACCOUNT#")]


def problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    assert body["request_id"] == reply.header("X-Request-Id")
    return body


def field_codes(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body["errors"]}
