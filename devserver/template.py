"""Reads ``template.yaml`` (with cfn-lint's decoder, which understands the short-form tags)
and resolves what the local server and the tests need: functions, their routes and event
sources, their environment, and the resources to create in the embedded AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-3"
STACK_NAME = "oph-local"


@cache
def load() -> dict[str, Any]:
    from cfnlint.decode import decode

    template, matches = decode(str(TEMPLATE))
    if matches or template is None:
        raise RuntimeError(f"template.yaml cannot be read: {matches}")
    return _plain(template)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    all_resources = load()["Resources"]
    return {k: v for k, v in all_resources.items() if kind is None or v["Type"] == kind}


@dataclass
class Route:
    method: str
    path: str  # API Gateway syntax: /v1/documents/{id}/download
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        self.regex = re.compile(f"^{pattern}$")


@dataclass
class Function:
    logical_id: str
    module: str  # importable module, e.g. functions.register.app
    attribute: str  # handler attribute, e.g. lambda_handler
    routes: list[Route]
    sqs_queues: list[str]  # logical ids of queues feeding it
    s3_prefixes: list[str]  # object key prefixes that trigger it
    sns_topics: list[str]
    schedules: list[dict[str, Any]]
    environment: dict[str, Any]
    timeout: int
    memory: int


def functions() -> list[Function]:
    glob = load().get("Globals", {}).get("Function", {})
    global_env = glob.get("Environment", {}).get("Variables", {})
    result = []
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        props = resource["Properties"]
        code_dir = props["CodeUri"].strip("/").replace("/", ".")
        module, attribute = props["Handler"].rsplit(".", 1)
        routes, queues, prefixes, topics, schedules = [], [], [], [], []
        for event in props.get("Events", {}).values():
            eprops = event.get("Properties", {})
            if event["Type"] == "Api":
                routes.append(Route(eprops["Method"].upper(), eprops["Path"]))
            elif event["Type"] == "SQS":
                queues.append(eprops["Queue"]["Fn::GetAtt"][0])
            elif event["Type"] == "S3":
                rules = eprops.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                prefixes += [r["Value"] for r in rules if r["Name"] == "prefix"]
            elif event["Type"] == "SNS":
                topics.append(eprops["Topic"]["Ref"])
            elif event["Type"] in ("Schedule", "ScheduleV2"):
                schedules.append(eprops)
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        result.append(
            Function(
                logical_id=logical_id,
                module=f"{code_dir}.{module}",
                attribute=attribute,
                routes=routes,
                sqs_queues=queues,
                s3_prefixes=prefixes,
                sns_topics=topics,
                schedules=schedules,
                environment=env,
                timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
                memory=int(props.get("MemorySize", glob.get("MemorySize", 128))),
            )
        )
    return result


class Resolver:
    """Resolves intrinsic functions to the names the local resources get."""

    def __init__(self, parameters: dict[str, str], physical: dict[str, str], attributes: dict[str, str]) -> None:
        self.parameters = parameters
        self.physical = physical  # logical id -> Ref value
        self.attributes = attributes  # "Logical.Attr" -> value

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.physical.get(name, name)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), text)
            if fn == "Fn::GetAtt":
                name = ".".join(arg) if isinstance(arg, list) else arg
                return self.attributes.get(name, f"arn:aws:local:::{name}")
            if fn == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if fn == "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in arg[1])
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def condition(self, name: str) -> bool:
        """The template's condition ``name`` for these parameters (local: Stage dev)."""
        return self._holds(load().get("Conditions", {})[name])

    def _holds(self, node: dict[str, Any]) -> bool:
        ((fn, arg),) = node.items()
        if fn == "Fn::Equals":
            return str(self.resolve(arg[0])) == str(self.resolve(arg[1]))
        if fn == "Fn::Not":
            return not self._holds(arg[0])
        if fn == "Fn::And":
            return all(self._holds(part) for part in arg)
        if fn == "Fn::Or":
            return any(self._holds(part) for part in arg)
        if fn == "Condition":
            return self.condition(arg)
        raise ValueError(f"condition function {fn} is not supported locally")

    def _sub(self, name: str) -> str:
        if "." in name:
            return str(self.attributes.get(name, name))
        return self.ref(name)


def parameter_defaults() -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in load().get("Parameters", {}).items()}
