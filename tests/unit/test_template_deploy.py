"""What a fresh AWS account needs from the template (issue 18), read from the template as
``sam deploy`` sends it to CloudFormation: translated by ``samtranslator``, as the SAM CLI does
(local code paths replaced by S3 URIs, the managed-policy map stubbed, pseudo parameters given).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from devserver import template as tpl

PSEUDO_PARAMETERS = {
    "AWS::Region": tpl.REGION,
    "AWS::AccountId": tpl.ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::StackName": "oph-test",
}
PUSH_TO_CLOUDWATCH_LOGS = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", None),
    "THROTTLED": ("429", "too_many_requests", "'1'"),
    "REQUEST_TOO_LARGE": ("413", "payload_too_large", None),
    "DEFAULT_5XX": ("503", "service_unavailable", "'5'"),
}


class _ManagedPolicies:
    """The SAM CLI asks IAM for the managed-policy map; no AWS here."""

    def load(self) -> dict[str, str]:
        return {"AmazonAPIGatewayPushToCloudWatchLogs": PUSH_TO_CLOUDWATCH_LOGS}


def translate(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    sam = copy.deepcopy(tpl.load())
    for resource in sam["Resources"].values():
        # What `sam package` / `sam validate` do: local code becomes an S3 object.
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    return transform(sam, {**PSEUDO_PARAMETERS, **(parameters or {})}, _ManagedPolicies())


@pytest.fixture(scope="module", autouse=True)
def _region(monkeypatch_module):
    # samtranslator builds a boto3 session for the pseudo parameters: it needs a region.
    monkeypatch_module.setenv("AWS_DEFAULT_REGION", tpl.REGION)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def cfn(_region) -> dict[str, Any]:
    return translate()


def _of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


def _one(cfn: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = _of_type(cfn, kind)
    assert len(found) == 1, (kind, list(found))
    return next(iter(found.items()))


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


# ---------------------------------------------------------------- 1. API Gateway CloudWatch role
def test_access_logs_come_with_the_regional_cloudwatch_role_the_stage_waits_for(cfn):
    resources = cfn["Resources"]
    _, stage = _one(cfn, "AWS::ApiGateway::Stage")
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"]

    account_id, account = _one(cfn, "AWS::ApiGateway::Account")
    role = resources[account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]]
    assert role["Type"] == "AWS::IAM::Role"
    assert PUSH_TO_CLOUDWATCH_LOGS in json.dumps(role["Properties"]["ManagedPolicyArns"]).replace(
        "arn:${AWS::Partition}:", "arn:aws:"
    )
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert any(s["Principal"] == {"Service": "apigateway.amazonaws.com"} for s in trust)

    # A per-region singleton: created only when asked (default), kept when the stack goes.
    parameter = cfn["Parameters"]["ApiGatewayCloudWatchRole"]
    assert parameter["Default"] == "create" and sorted(parameter["AllowedValues"]) == ["create", "existing"]
    condition = account["Condition"]
    assert cfn["Conditions"][condition] == {"Fn::Equals": [{"Ref": "ApiGatewayCloudWatchRole"}, "create"]}
    assert role.get("Condition") == condition
    assert account.get("DeletionPolicy") == "Retain" and role.get("DeletionPolicy") == "Retain"

    # The stage waits for the account setting: the stage references the RestApi, which depends
    # on a handle that references the account only when it is created (DependsOn cannot name a
    # resource whose condition may be false).
    rest_api_id = stage["Properties"]["RestApiId"]["Ref"]
    waits_for = _depends_on(resources[rest_api_id]) + _depends_on(stage)
    assert any(
        name == account_id or f'"Ref": "{account_id}"' in json.dumps(resources[name].get("Metadata", {}))
        for name in waits_for
    ), waits_for


# ---------------------------------------------------------------- 2. notice worker concurrency
def test_no_reserved_concurrency_the_queue_source_caps_the_worker_instead(cfn):
    for logical_id, function in _of_type(cfn, "AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], logical_id
    mappings = [
        m["Properties"]
        for m in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": "NoticeWorkerFunction"}
    ]
    assert mappings and mappings[0]["EventSourceArn"] == {"Fn::GetAtt": ["NoticeQueue", "Arn"]}
    assert 2 <= mappings[0]["ScalingConfig"]["MaximumConcurrency"] <= 20
    assert cfn["Resources"]["NoticeQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] >= 5


# ---------------------------------------------------------------- 4. encrypted topics
def test_topics_use_a_key_cloudwatch_and_ses_may_use(cfn):
    resources = cfn["Resources"]
    topics = _of_type(cfn, "AWS::SNS::Topic")
    assert set(topics) >= {"MailEventsTopic", "AlarmTopic"}
    for logical_id, topic in topics.items():
        key_id = topic["Properties"]["KmsMasterKeyId"]
        assert "alias/aws/sns" not in json.dumps(key_id), logical_id
        key = resources[key_id["Ref"] if "Ref" in key_id else key_id["Fn::GetAtt"][0]]
        assert key["Type"] == "AWS::KMS::Key", logical_id
        assert key["Properties"]["EnableKeyRotation"] is True
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        assert any(
            s["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
            and s["Action"] == "kms:*"
            for s in statements
        )
        for service in ("cloudwatch.amazonaws.com", "ses.amazonaws.com"):
            grants = [s for s in statements if s["Effect"] == "Allow" and s["Principal"] == {"Service": service}]
            assert grants, (logical_id, service)
            for grant in grants:
                assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"], service
                assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    aliases = [
        a["Properties"]["AliasName"]
        for a in _of_type(cfn, "AWS::KMS::Alias").values()
        if a["Properties"]["TargetKeyId"] == topics["AlarmTopic"]["Properties"]["KmsMasterKeyId"]
    ]
    assert aliases and "${AWS::StackName}" in aliases[0]["Fn::Sub"]


# ---------------------------------------------------------------- 5. gateway responses in the body
def test_gateway_responses_are_in_the_rest_api_body_not_separate_resources(cfn):
    assert not _of_type(cfn, "AWS::ApiGateway::GatewayResponse")
    _, rest_api = _one(cfn, "AWS::ApiGateway::RestApi")
    body = rest_api["Properties"]["Body"]
    # The inline DefinitionBody SAM needs for GatewayResponses loses no route: every Api event
    # of every function is in the body, with its Lambda integration.
    routes = {(r.method.lower(), r.path) for f in tpl.functions() for r in f.routes}
    in_body = {(m, path) for path, methods in body["paths"].items() for m in methods}
    assert in_body == routes
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy", (method, path)
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == set(GATEWAY_RESPONSES)
    for response_type, (status, code, retry_after) in GATEWAY_RESPONSES.items():
        response = responses[response_type]
        assert response["statusCode"] == status
        parameters = response["responseParameters"]
        assert parameters["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        assert parameters["gatewayresponse.header.X-Request-Id"] == "context.requestId"
        assert parameters.get("gatewayresponse.header.Retry-After") == retry_after
        problem = json.loads(response["responseTemplates"]["application/json"].replace("$context.requestId", "rid"))
        assert problem["status"] == int(status) and problem["code"] == code and problem["request_id"] == "rid"
        assert problem["type"] == "about:blank" and problem["title"]


def test_bulk_emails_go_through_a_queue_paced_by_its_sender(cfn):
    """Point 8: the notice worker never calls SES (160 concurrent senders against 14/s); the
    mail sender does, with as many concurrent containers as the pacing assumes."""
    resources = cfn["Resources"]
    worker_role = resources["NoticeWorkerFunctionRole"]["Properties"]["Policies"]
    worker_actions = {a for p in worker_role for s in p["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert not any(action.startswith("ses:") for action in worker_actions)
    assert "sqs:SendMessage" in worker_actions
    sender = resources["MailSenderFunction"]["Properties"]
    mapping = next(
        r["Properties"]
        for r in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": "MailSenderFunction"}
    )
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["MailQueue", "Arn"]}
    assert (
        str(mapping["ScalingConfig"]["MaximumConcurrency"])
        == sender["Environment"]["Variables"]["MAIL_SENDER_CONCURRENCY"]
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources["MailQueue"]["Properties"]
    # AWS: the queue's visibility timeout at least 6 x the function's timeout for SQS sources.
    assert queue["VisibilityTimeout"] >= 6 * sender["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5
    assert queue["MessageRetentionPeriod"] == 1209600  # 14 days: hours of backlog never expire
    assert "MailDeadLetterAlarm" in resources


def test_every_schedule_retries_then_dead_letters(cfn):
    """Issue 18: a failed scheduled job is retried, then lands in the events DLQ (alarmed).
    EventBridge Scheduler sends dead letters with the schedule's execution role, which must
    therefore be allowed sqs:SendMessage on the queue (Scheduler guide, "Configuring a
    schedule's dead-letter queue")."""
    schedules = _of_type(cfn, "AWS::Scheduler::Schedule")
    assert len(schedules) == 3
    for logical_id, schedule in schedules.items():
        target = schedule["Properties"]["Target"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}}, logical_id
        retry = target["RetryPolicy"]
        assert retry["MaximumRetryAttempts"] >= 2 and 60 <= retry["MaximumEventAgeInSeconds"] <= 86400, logical_id
        role = cfn["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]
        statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        assert any(
            "sqs:SendMessage" in json.dumps(s["Action"]) and "EventsDeadLetterQueue" in json.dumps(s["Resource"])
            for s in statements
        ), logical_id


def test_the_payment_index_projects_only_what_its_one_lookup_reads(cfn):
    """gsi1 finds a payment's tenancy from its id (PaymentStore.find), then a consistent GetItem
    reads the payment: the index needs the tenancy number, not a copy of every item."""
    table = cfn["Resources"]["TenantsTable"]["Properties"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1"
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tenant_number"]}
