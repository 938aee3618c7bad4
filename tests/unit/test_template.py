"""The template's security and operations properties, read from template.yaml itself."""

from __future__ import annotations

import json

import pytest

from devserver import template as tpl

DATA_TYPES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::SQS::Queue")


@pytest.fixture(scope="module")
def resources():
    return tpl.load()["Resources"]


def _statements(resources):
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            assert isinstance(policy, dict) and "Statement" in policy, f"{logical_id}: inline statements only"
            for statement in policy["Statement"]:
                yield logical_id, statement


def test_bucket_blocks_public_access_encrypts_and_requires_tls(resources):
    bucket = resources["DocumentsBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    policy = resources["DocumentsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in policy if s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"]
    assert tls and tls[0]["Action"] == "s3:*"


@pytest.mark.parametrize("table", ["TenantsTable", "TokensTable"])
def test_tables_have_pitr_encryption_on_demand_and_prod_deletion_protection(resources, table):
    props = resources[table]["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert resources[table]["DeletionPolicy"] == "Retain"


def test_tokens_table_expires_items_by_ttl(resources):
    assert resources["TokensTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_no_wildcard_action_and_no_wildcard_resource_on_data(resources):
    for logical_id, statement in _statements(resources):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), (logical_id, actions)
        resource = statement["Resource"]
        if resource == "*" and actions == ["ses:GetSendQuota"]:
            continue  # an account-level read that names no resource type in IAM (the mail sender's rate)
        if resource == "*":
            # Only SES sending may use "*" (identities are matched by the sender condition).
            assert all(a.startswith("ses:Send") for a in actions), (logical_id, actions)
            assert "ses:FromAddress" in json.dumps(statement.get("Condition", {}))


def test_no_wide_sam_policy_templates(resources):
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in resource["Properties"].get("Policies", []):
                assert not any(k.endswith("Policy") for k in policy), (logical_id, policy)


def test_every_function_logs_to_a_log_group_with_retention(resources):
    groups = {
        v["Properties"]["LogGroupName"]["Fn::Sub"]: v["Properties"]
        for v in resources.values()
        if v["Type"] == "AWS::Logs::LogGroup"
    }
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert groups[f"/aws/lambda/${{{logical_id}}}"]["RetentionInDays"], logical_id


def test_asynchronous_failures_land_in_a_watched_dead_letter_queue(resources):
    for function in ("ImportFunction", "MailEventsFunction"):
        destination = resources[function]["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert destination["Destination"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    assert resources["NoticeQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["NoticeDeadLetterQueue", "Arn"]
    }
    watched = json.dumps(
        [resources[a]["Properties"]["Dimensions"] for a in ("NoticeDeadLetterAlarm", "EventsDeadLetterAlarm")]
    )
    assert "NoticeDeadLetterQueue" in watched and "EventsDeadLetterQueue" in watched


def test_runtime_is_python311_on_arm64_with_tracing():
    glob = tpl.load()["Globals"]["Function"]
    assert glob["Runtime"] == "python3.11"
    assert glob["Architectures"] == ["arm64"]
    assert glob["Tracing"] == "Active"


def test_every_contract_route_is_in_the_template():
    routes = {(r.method, r.path) for f in tpl.functions() for r in f.routes}
    expected = {
        ("POST", "/v1/registrations/identity"),
        ("POST", "/v1/registrations"),
        ("POST", "/v1/registrations/verify"),
        ("POST", "/v1/registrations/resend"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/refresh"),
        ("POST", "/v1/auth/logout"),
        ("POST", "/v1/auth/password/forgot"),
        ("POST", "/v1/auth/password/reset"),
        ("GET", "/v1/account"),
        ("DELETE", "/v1/account"),
        ("GET", "/v1/account/preferences"),
        ("PUT", "/v1/account/preferences"),
        ("POST", "/v1/account/email"),
        ("POST", "/v1/account/email/confirm"),
        ("PUT", "/v1/account/password"),
        ("GET", "/v1/account/export"),
        ("GET", "/v1/documents"),
        ("GET", "/v1/documents/{id}/download"),
        ("POST", "/v1/documents/receipts"),
        ("GET", "/v1/payments/balance"),
        ("POST", "/v1/payments"),
        ("GET", "/v1/payments"),
        ("GET", "/v1/payments/{id}"),
        ("POST", "/v1/payments/notifications/{provider}"),
        ("GET", "/links/verify-email"),
        ("GET", "/links/reset-password"),
        ("GET", "/links/confirm-email"),
        ("GET", "/links/payment-return"),
    }
    assert expected <= routes, expected - routes


def test_alarms_notify_the_alarm_topic(resources):
    alarms = {k: v for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    names = set(alarms)
    assert {
        "Api5xxAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "PaymentNotificationsRejectedAlarm",
        "ImportRowsRejectedAlarm",
        "MailBounceRateAlarm",
        "NoticeDeadLetterAlarm",
        "EventsDeadLetterAlarm",
    } <= names
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}


def _watched(alarm):
    return [
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in alarm["Properties"]["Metrics"]
        if "MetricStat" in m
    ]


def test_function_alarms_cover_every_function(resources):
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    for group in (
        ("FunctionErrorsAlarm", "BackgroundErrorsAlarm"),
        ("FunctionThrottlesAlarm", "BackgroundThrottlesAlarm"),
    ):
        watched = [name for alarm in group for name in _watched(resources[alarm])]
        assert sorted(watched) == sorted(functions)  # each function once


def test_metric_math_alarms_read_at_most_ten_metrics(resources):
    """CloudWatch's hard limit: an alarm on a metric math expression references at most 10
    metrics (docs: alarm-limits, "Limits that apply to alarms based on metric math")."""
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in resource["Properties"]:
            assert len(_watched(resource)) <= 10, logical_id


def test_dashboard_shows_business_metrics_and_alarms(resources):
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    for metric in (
        "RegistrationsCompleted",
        "LoginsFailed",
        "LoginsLocked",
        "PaymentsSucceeded",
        "EmailsBounced",
        "ImportRowsRejected",
    ):
        assert metric in body
    assert "${NoticeDeadLetterAlarm.Arn}" in body


def test_ses_events_reach_the_bounce_handler(resources):
    destination = resources["MailEventsDestination"]["Properties"]["EventDestination"]
    assert set(destination["MatchingEventTypes"]) == {"bounce", "complaint"}
    topic = destination["SnsDestination"]["TopicARN"]["Ref"]
    events = resources["MailEventsFunction"]["Properties"]["Events"]
    assert any(e["Type"] == "SNS" and e["Properties"]["Topic"]["Ref"] == topic for e in events.values())
    identity = resources["MailIdentity"]["Properties"]
    assert identity["DkimSigningAttributes"]
    assert identity["ConfigurationSetAttributes"]["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}


def test_api_stage_throttling_and_optional_waf(resources):
    settings = resources["Api"]["Properties"]["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    waf = resources["WafWebAcl"]
    assert waf["Condition"] == "WafEnabled"
    rule = waf["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    assert rule["AggregateKeyType"] == "IP"
    paths = json.dumps(rule["ScopeDownStatement"])
    assert "/v1/auth/" in paths and "/v1/registrations" in paths
    assert resources["WafAssociation"]["Condition"] == "WafEnabled"


def test_waf_blocks_with_the_contracts_429_problem_not_a_bare_403(resources):
    # Security revision 4: a blocked client gets 429 too_many_requests with Retry-After.
    waf = resources["WafWebAcl"]["Properties"]
    block = waf["Rules"][0]["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    assert {"Name": "Retry-After", "Value": "60"} in block["ResponseHeaders"]
    body = waf["CustomResponseBodies"][block["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    problem = json.loads(body["Content"])
    assert (problem["status"], problem["code"], problem["type"]) == (429, "too_many_requests", "about:blank")
    assert problem["title"].startswith("Trop de requêtes")


def test_step_one_lock_has_an_alarm_so_the_office_can_call_the_tenant(resources):
    alarm = resources["RegistrationIdentityLockedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("MonEspaceLocataire", "RegistrationIdentityLocked")
    assert {"Name": "service", "Value": "register"} in alarm["Dimensions"]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_prod_refuses_the_sandbox_gateway():
    rule = tpl.load()["Rules"]["ProductionUsesARealGateway"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PaymentProvider"}, "sandbox"]}]}


def test_deploy_check_refuses_bad_prod_settings():
    from scripts.check_deploy import PLACEHOLDER_PARAMETERS, parameters, problems

    # samconfig's prod still has the office's placeholders: refused until the office fills them.
    # ... and the app's domain waits for its ACM certificate (README, Deploy, step 2).
    refused = problems(parameters("prod"))
    assert len(refused) == len(PLACEHOLDER_PARAMETERS) + 1 == 7
    assert sum("placeholder" in reason for reason in refused) == 6
    assert any("CustomDomainCertificateArn" in reason for reason in refused)
    assert problems(parameters("dev")) == []
    real = dict.fromkeys(PLACEHOLDER_PARAMETERS, "la vraie valeur")
    assert problems({"Stage": "prod", "PaymentProvider": "systempay", "PublicBaseUrl": "https://x", **real}) == []
    domain = {"CustomDomainName": "app.x.fr", "CustomDomainCertificateArn": "arn:aws:acm:eu-west-3:1:certificate/c"}
    assert problems({"Stage": "prod", "PaymentProvider": "systempay", **domain, **real}) == []
    assert len(problems({"Stage": "prod", "PaymentProvider": "sandbox", "PublicBaseUrl": "http://x", **real})) == 2
    # prod on the API's own URL: no domain root for the universal-link files.
    assert len(problems({"Stage": "prod", "PaymentProvider": "systempay", **real})) == 1


def test_gateway_answers_are_problem_json_with_request_id(resources):
    # In the API's GatewayResponses (SAM writes them into the body), never separate resources.
    assert not [v for v in resources.values() if v["Type"] == "AWS::ApiGateway::GatewayResponse"]
    responses = resources["Api"]["Properties"]["GatewayResponses"]
    assert set(responses) == {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "REQUEST_TOO_LARGE", "DEFAULT_5XX"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    for props in responses.values():
        assert props["ResponseParameters"]["Headers"]["X-Request-Id"] == "context.requestId"
        assert (
            json.loads(props["ResponseTemplates"]["application/json"].replace("$context.requestId", "x"))["request_id"]
            == "x"
        )
