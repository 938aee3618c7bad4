"""The push pieces of the template (issue 20): who may queue a notification, what the push
worker may do in SNS, the platform events' topic, the queue's retries and dead letters."""

from __future__ import annotations

import json

from tests.unit.test_template_deploy import _of_type, translate

QUEUERS = {"AccountFunction", "AccountAdminFunction", "ImportFunction", "NoticeWorkerFunction", "PaymentsFunction"}


def _statements(cfn, function: str) -> list[dict]:
    role = cfn["Resources"][f"{function}Role"]["Properties"]
    return [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_only_the_functions_that_raise_notifications_may_queue_them():
    cfn = translate()
    functions = [k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]
    allowed = {
        f
        for f in functions
        if any(
            "sqs:SendMessage" in s["Action"] and s["Resource"] == {"Fn::GetAtt": ["PushQueue", "Arn"]}
            for s in _statements(cfn, f)
        )
    }
    assert allowed == QUEUERS


def test_the_push_worker_touches_only_platform_endpoints_and_applications():
    cfn = translate()
    sns = [s for s in _statements(cfn, "PushWorkerFunction") if any(a.startswith("sns:") for a in s["Action"])]
    resources = {json.dumps(s["Resource"]) for s in sns}
    assert all(":app/*" in r or ":endpoint/*" in r for r in resources), resources
    actions = {a for s in sns for a in s["Action"]}
    assert actions == {
        "sns:CreatePlatformEndpoint",
        "sns:Publish",
        "sns:SetEndpointAttributes",
        "sns:GetEndpointAttributes",
        "sns:DeleteEndpoint",
    }
    mapping = next(
        r["Properties"]
        for r in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": "PushWorkerFunction"}
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = cfn["Resources"]["PushQueue"]["Properties"]
    worker = cfn["Resources"]["PushWorkerFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5


def test_platform_events_reach_the_events_function_on_an_encrypted_topic_sns_may_use():
    cfn = translate()
    topic = cfn["Resources"]["PushEventsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationsKey"}
    key = cfn["Resources"]["NotificationsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "sns.amazonaws.com"} for s in key)
    subscriptions = [
        r["Properties"]
        for r in _of_type(cfn, "AWS::SNS::Subscription").values()
        if r["Properties"]["TopicArn"] == {"Ref": "PushEventsTopic"}
    ]
    assert subscriptions and subscriptions[0]["Protocol"] == "lambda"
    assert "PushEventsTopicArn" in cfn["Outputs"]
