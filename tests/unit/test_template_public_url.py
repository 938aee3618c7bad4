"""Issue 18 point 6: the links of the e-mails lead to something this stack serves.

The old default (``https://app.oph-aubervilliers.fr``) named a domain no stack created. Now the
base is PublicBaseUrl when given, else the custom domain the stack creates, else the API's own
URL — carried by an SSM parameter, since the functions cannot refer to the API (cycle).
"""

from __future__ import annotations

import pytest

from devserver import template as tpl
from tests.unit.test_template_deploy import _of_type, _one, translate

LINK_BUILDERS = {"RegisterFunction", "AuthFunction", "AccountFunction", "PaymentsFunction"}
PARAMETER_NAME = "/oph-local/public-base-url"  # /${AWS::StackName}/public-base-url, locally


def _resolved(parameters: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(the SSM parameter's value, one function's PUBLIC_BASE_URL*) for these stack parameters,
    resolved with the template's own conditions."""
    resolver = tpl.Resolver({**tpl.parameter_defaults(), **parameters}, {"Api": "a1b2c3"}, {})
    value = str(resolver.resolve(tpl.resources()["PublicBaseUrlParameter"]["Properties"]["Value"]))
    globals_env = tpl.load()["Globals"]["Function"]["Environment"]["Variables"]
    env = {k: str(resolver.resolve(v)) for k, v in globals_env.items() if k.startswith("PUBLIC_BASE_URL")}
    return value, env


def test_the_default_is_the_api_own_url_not_a_domain_nobody_created():
    assert tpl.parameter_defaults()["PublicBaseUrl"] == ""
    value, env = _resolved({})
    assert value == "https://a1b2c3.execute-api.eu-west-3.amazonaws.com/dev"
    # The functions get no URL from their environment, only where to read it.
    assert env == {"PUBLIC_BASE_URL": "", "PUBLIC_BASE_URL_PARAMETER": PARAMETER_NAME}
    assert str(tpl.Resolver({}, {}, {}).resolve(tpl.resources()["PublicBaseUrlParameter"]["Properties"]["Name"])) == (
        PARAMETER_NAME
    )


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"CustomDomainName": "app.example.fr", "CustomDomainCertificateArn": "arn:cert"}, "https://app.example.fr"),
        ({"PublicBaseUrl": "https://links.example.fr"}, "https://links.example.fr"),
        (
            {"PublicBaseUrl": "https://links.example.fr", "CustomDomainName": "app.example.fr"},
            "https://links.example.fr",
        ),
    ],
)
def test_a_given_url_or_the_custom_domain_goes_straight_to_the_environment(parameters, expected):
    value, env = _resolved(parameters)
    assert value == expected
    assert env["PUBLIC_BASE_URL"] == expected  # no SSM read at all then


def test_the_functions_that_build_links_may_read_that_parameter_and_only_it():
    cfn = translate()
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${AWS::StackName}/public-base-url"
    readers = set()
    for logical_id, role in _of_type(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if any(action.startswith("ssm:") for action in statement["Action"]):
                    assert statement == {
                        "Effect": "Allow",
                        "Action": ["ssm:GetParameter"],
                        "Resource": {"Fn::Sub": arn},
                    }
                    readers.add(logical_id.removesuffix("Role"))
    assert readers == LINK_BUILDERS


def test_the_custom_domain_is_created_mapped_at_its_root_and_named_in_dns():
    cfn = translate(
        {
            "CustomDomainName": "app.example.fr",
            "CustomDomainCertificateArn": "arn:cert",
            "CustomDomainHostedZoneId": "Z1",
        }
    )
    name_id, domain = _one(cfn, "AWS::ApiGateway::DomainName")
    assert domain["Condition"] == "HasCustomDomain"
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["Properties"]["RegionalCertificateArn"] == {"Ref": "CustomDomainCertificateArn"}
    _, mapping = _one(cfn, "AWS::ApiGateway::BasePathMapping")
    props = mapping["Properties"]
    # No BasePath: the stage answers at the domain's root, where /.well-known must be.
    assert "BasePath" not in props and props["RestApiId"] == {"Ref": "Api"}
    stage_id = props["Stage"]["Ref"]
    assert cfn["Resources"][stage_id]["Type"] == "AWS::ApiGateway::Stage"
    _, record = _one(cfn, "AWS::Route53::RecordSet")
    assert record["Condition"] == "HasCustomDomainRecord"
    assert record["Properties"]["AliasTarget"] == {
        "DNSName": {"Fn::GetAtt": [name_id, "RegionalDomainName"]},
        "HostedZoneId": {"Fn::GetAtt": [name_id, "RegionalHostedZoneId"]},
    }
    conditions = cfn["Conditions"]
    assert conditions["HasCustomDomainRecord"]["Fn::And"][0] == {"Condition": "HasCustomDomain"}


def test_a_custom_domain_without_its_certificate_is_refused_before_deploying():
    rule = tpl.load()["Rules"]["CustomDomainHasItsCertificate"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CustomDomainName"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CustomDomainCertificateArn"}, ""]}]}


def test_outputs_tell_the_admin_the_links_base():
    outputs = tpl.load()["Outputs"]
    assert outputs["PublicBaseUrl"]["Value"] == {"Fn::GetAtt": ["PublicBaseUrlParameter", "Value"]}
