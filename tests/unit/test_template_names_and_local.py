"""Issue 18, points 3, 6 and 7: two stages in one account, the public base URL, `sam local`.

3. dev and prod must deploy side by side in one account and region: every physical name
   carries the stack name (SAM names a ``ScheduleV2`` schedule after its logical id unless it
   is given a ``Name``), and each stage has its own SES identity (one identity per stack, on a
   per-stage ``MailDomain``, decided in template.yaml).
6. A function's environment never refers to the API: SAM's API body refers to every function,
   so CloudFormation would refuse the circular dependency.
7. ``sam local start-api --env-vars local/env.json`` passes a function only the variables the
   template declares: every variable of local/env.json must be declared, and SAM CLI's own
   resolution (no Docker needed) must hand them to every function.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tomllib
from typing import Any

import pytest

from devserver import template as tpl

NAME_KEYS = (
    "Name",
    "FunctionName",
    "TopicName",
    "QueueName",
    "AlarmName",
    "DashboardName",
    "LayerName",
    "LogGroupName",
    "BucketName",
    "TableName",
    "AliasName",
    "SecretName",
    "RoleName",
    "ScheduleGroupName",
)
# Resources whose physical name is scoped by a parent that already carries the stack name
# (a configuration set's event destination) are not account-wide names.
# Names scoped by their parent, or a DNS name that is the stack's own by definition (the
# custom domain record: two stacks cannot serve one domain).
SCOPED_TYPES = ("AWS::SES::ConfigurationSetEventDestination", "AWS::Route53::RecordSet")


def _text(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return json.dumps(value)


def _carries_stack_name(value: Any, resources: dict[str, Any]) -> bool:
    text = _text(value)
    if "${AWS::StackName}" in text:
        return True
    # "/aws/lambda/${SomeFunction}": the function's name carries the stack name itself.
    refs = re.findall(r"\$\{([A-Za-z0-9]+)\}", text)
    return bool(refs) and all(
        "${AWS::StackName}" in _text(resources.get(ref, {}).get("Properties", {}).get("FunctionName", ""))
        for ref in refs
    )


def test_every_schedule_v2_is_named_after_the_stack():
    schedules = [
        (logical_id, name, event)
        for logical_id, resource in tpl.resources("AWS::Serverless::Function").items()
        for name, event in resource["Properties"].get("Events", {}).items()
        if event["Type"] == "ScheduleV2"
    ]
    assert schedules
    for logical_id, name, event in schedules:
        assert "Name" in event["Properties"], f"{logical_id}.{name}: SAM would name it after the logical id"
        assert "${AWS::StackName}" in _text(event["Properties"]["Name"]), f"{logical_id}.{name}"
        assert len(_text(event["Properties"]["Name"]).replace("${AWS::StackName}", "x" * 30)) <= 64


def test_every_physical_name_carries_the_stack_name():
    resources = tpl.resources()
    for logical_id, resource in resources.items():
        if resource["Type"] in SCOPED_TYPES:
            continue
        for key in NAME_KEYS:
            value = resource.get("Properties", {}).get(key)
            if value is not None and not isinstance(value, list):
                assert _carries_stack_name(value, resources), f"{logical_id}.{key} = {value}"


def _stage_parameters(stage: str) -> dict[str, str]:
    config = tomllib.loads((tpl.ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config[stage]["deploy"]["parameters"]["parameter_overrides"]
    return {**tpl.parameter_defaults(), **dict(part.split("=", 1) for part in shlex.split(overrides))}


def test_each_stage_has_its_own_ses_identity_and_sends_from_it():
    identities = tpl.resources("AWS::SES::EmailIdentity")
    assert [r["Properties"]["EmailIdentity"] for r in identities.values()] == [{"Ref": "MailDomain"}]
    dev, prod = _stage_parameters("dev"), _stage_parameters("prod")
    assert dev["MailDomain"] != prod["MailDomain"], "one SES identity per account/region: one domain per stage"
    for params in (dev, prod):
        for sender in (params["MailFrom"], params["OfficeMailFrom"]):
            address = sender.rsplit("<", 1)[-1].rstrip(">")
            # The functions may only send "*@${MailDomain}" (their IAM condition).
            assert address.endswith("@" + params["MailDomain"]), (params["Stage"], sender)


def test_no_function_environment_refers_to_the_api():
    """The API's own URL cannot be handed to the functions through their environment: the
    API's body refers to every function's ARN, so CloudFormation would refuse the cycle."""
    for function in tpl.functions():
        assert '"Api"' not in json.dumps(function.environment), function.logical_id
        assert "${Api}" not in json.dumps(function.environment), function.logical_id


def _env_json() -> dict[str, Any]:
    return json.loads((tpl.ROOT / "local" / "env.json").read_text(encoding="utf-8"))


def test_every_local_env_variable_is_declared_in_the_template():
    declared = {name for function in tpl.functions() for name in function.environment}
    env = _env_json()
    for scope, variables in env.items():
        assert scope == "Parameters" or scope in {f.logical_id for f in tpl.functions()}, scope
        missing = set(variables) - declared
        assert not missing, f"sam local drops undeclared variables: {sorted(missing)}"
    assert "OPH_ENDPOINT_URL" in env["Parameters"]


@pytest.fixture(scope="module")
def sam_local_environments() -> dict[str, dict[str, str]]:
    """What SAM CLI hands each function under ``sam local start-api --env-vars local/env.json``,
    computed by SAM CLI itself in the tools venv (scripts/sam_local_env.py)."""
    python = tpl.ROOT / ".venv-tools" / "bin" / "python"
    assert python.exists(), "the tools venv is missing: `make deps` (part of `make test`) creates .venv-tools"
    out = subprocess.run(
        [str(python), str(tpl.ROOT / "scripts" / "sam_local_env.py")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": tpl.REGION},
    )
    return dict(json.loads(out.stdout))


def test_sam_cli_passes_every_local_env_variable_to_every_function(sam_local_environments):
    env = _env_json()
    assert set(sam_local_environments) == {f.logical_id for f in tpl.functions()}
    for logical_id, resolved in sam_local_environments.items():
        wanted = {**env.get("Parameters", {}), **env.get(logical_id, {})}
        for name, value in wanted.items():
            if name in {f.logical_id: f for f in tpl.functions()}[logical_id].environment:
                assert resolved.get(name) == value, (logical_id, name)
        # The one every function needs: without it, `sam local` calls real AWS.
        assert resolved["OPH_ENDPOINT_URL"] == env["Parameters"]["OPH_ENDPOINT_URL"], logical_id


def test_the_client_factory_uses_the_project_endpoint(monkeypatch):
    from oph.platform.aws import client, reset_clients

    monkeypatch.setenv("AWS_DEFAULT_REGION", tpl.REGION)
    monkeypatch.setenv("OPH_ENDPOINT_URL", "http://host.docker.internal:5005")
    reset_clients()
    try:
        assert client("s3").meta.endpoint_url == "http://host.docker.internal:5005"
        monkeypatch.setenv("OPH_ENDPOINT_URL", "")  # the template's value in AWS: the standard endpoint
        reset_clients()
        assert "amazonaws.com" in client("dynamodb").meta.endpoint_url
    finally:
        reset_clients()
        # The boto3 session is cached per process; one made here (maybe before moto was
        # imported in this worker) must not serve the handler tests that follow.
        from oph.platform import aws

        aws.session.cache_clear()
