"""Opt-in end-to-end checks against a deployed stack: set AWS_SAM_STACK_NAME (and AWS
credentials) to run them; they are skipped otherwise. They read the stack's Outputs.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests

STACK = os.environ.get("AWS_SAM_STACK_NAME")
pytestmark = [
    pytest.mark.deployed,
    pytest.mark.skipif(not STACK, reason="AWS_SAM_STACK_NAME is not set: no deployed stack to test"),
]


@pytest.fixture(scope="module")
def outputs():
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_unknown_route_is_a_problem_404_with_request_id(outputs):
    reply = requests.get(outputs["ApiUrl"] + "/v1/nothing-" + uuid.uuid4().hex, timeout=10)
    assert reply.status_code == 404
    assert reply.headers["X-Request-Id"] == reply.json()["request_id"]


def test_identity_mismatch_for_an_unknown_tenant(outputs):
    reply = requests.post(
        outputs["ApiUrl"] + "/v1/registrations/identity",
        json={"tenant_number": "000000000", "last_name": "X", "first_name": "Y", "birth_date": "1900-01-01"},
        timeout=10,
    )
    assert reply.status_code in (400, 429)
    assert reply.json()["code"] in ("identity_mismatch", "too_many_requests")


def test_authenticated_route_refuses_without_token(outputs):
    reply = requests.get(outputs["ApiUrl"] + "/v1/account", timeout=10)
    assert reply.status_code == 401
    assert reply.json()["code"] == "unauthorized"


def test_tables_and_bucket_exist(outputs):
    import boto3

    for key in ("TenantsTableName", "TokensTableName"):
        assert boto3.client("dynamodb").describe_table(TableName=outputs[key])["Table"]["TableStatus"] == "ACTIVE"
    boto3.client("s3").head_bucket(Bucket=outputs["DocumentsBucketName"])
