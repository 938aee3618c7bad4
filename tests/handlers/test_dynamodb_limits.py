"""Values people send never make a DynamoDB key or item AWS would refuse (moto would not).

The handler tier runs with :mod:`tests.dynamodb_limits` installed: a request AWS refuses
(partition key > 2048 bytes, sort key > 1024 bytes, item > 400 KB) fails here as it would
there. These tests send the largest values each route takes.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from oph.platform import aws
from oph.platform.settings import get_settings
from tests.factories import tenant_with_login

LONG_EMAIL = "a" * 240 + "@" + "b" * 1800 + ".fr"  # 2 KB: once a 500 in AWS, not in moto


def test_the_mimic_refuses_what_dynamodb_refuses(runtime):
    table = get_settings().tenants_table
    with pytest.raises(ClientError) as refused:
        aws.dynamodb().put_item(TableName=table, Item={"pk": {"S": "x" * 2049}, "sk": {"S": "s"}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        aws.dynamodb().get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "y" * 1025}})
    with pytest.raises(ClientError):
        aws.dynamodb().put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "s"}, "v": {"S": "z" * 410_000}})
    aws.dynamodb().put_item(TableName=table, Item={"pk": {"S": "x" * 2000}, "sk": {"S": "y" * 1000}})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/login", {"email": LONG_EMAIL, "password": "Correct-Cheval-Pile-42"}),
        ("/v1/auth/password/forgot", {"email": LONG_EMAIL}),
        ("/v1/registrations/resend", {"email": LONG_EMAIL}),
        ("/v1/registrations/resend", {"email": "c" * 60 + "@" + "d" * 190 + ".com"}),  # 255 characters
    ],
)
def test_an_email_over_254_characters_is_422_invalid_format_everywhere(client, runtime, path, body):
    reply = client.post(path, body)
    assert reply.status == 422, reply.text
    assert reply.json()["errors"][0] == {
        "field": "email",
        "code": "invalid_format",
        "message": reply.json()["errors"][0]["message"],
    }


def test_the_largest_values_of_every_json_route_stay_under_the_limits(client, runtime):
    _, me = tenant_with_login()
    huge = "é" * 4096  # the longest string a JSON body field takes (4096 characters, 8 KB)
    answers = [
        client.post(
            "/v1/registrations/identity",
            {"tenant_number": huge, "last_name": huge, "first_name": huge, "birth_date": "1975-09-10"},
        ),
        client.post(
            "/v1/registrations",
            {
                "registration_token": huge,
                "email": LONG_EMAIL,
                "email_confirmation": LONG_EMAIL,
                "password": huge,
                "password_confirmation": huge,
                "accept_terms": True,
            },
        ),
        client.post("/v1/registrations/verify", {"token": huge}),
        client.post("/v1/auth/refresh", {"refresh_token": huge}),
        client.post("/v1/auth/password/reset", {"token": huge, "password": huge, "password_confirmation": huge}),
        client.post("/v1/account/email", {"new_email": LONG_EMAIL, "current_password": huge}, token=me.access_token),
        client.post("/v1/account/email/confirm", {"token": huge}, token=me.access_token),
        client.get("/v1/documents/" + "i" * 1500 + "/download", token=me.access_token),
        client.get("/v1/payments/" + "p" * 1500, token=me.access_token),
        client.post(
            "/v1/payments", {"amount_cents": 22000}, headers={"Idempotency-Key": "k" * 255}, token=me.access_token
        ),
        client.post("/v1/documents/receipts", {"period": huge}, token=me.access_token),
    ]
    for reply in answers:
        assert reply.status < 500, reply.text
