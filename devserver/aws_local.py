"""Creates the template's resources in whatever AWS endpoint boto3 points at (the embedded
moto server, or moto's in-process mock in the handler tests), from the template's own
definitions, and resolves every function's environment against them.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

import boto3

from devserver import template as tpl

_SESSION = boto3.session.Session()


# The app's ids, served locally in the association files (contract section 10: "demo values").
LOCAL_PARAMETERS = {
    "AppleAppId": "ABCDE12345.fr.oph-aubervilliers.espace-locataire",
    "AndroidPackage": "fr.oph_aubervilliers.espace_locataire",
    "AndroidCertFingerprints": ":".join(["5A", "C3", "9E", "21"] * 8),
}
# The push platform applications moto stands in for (CloudFormation has no such resource: in
# AWS they are created once by an admin, README "Set up push for the app").
LOCAL_PLATFORMS = {"ApnsPlatformApplicationArn": "APNS_SANDBOX", "FcmPlatformApplicationArn": "GCM"}

# Values that differ locally on purpose. MAIL_SEND_RATE: moto reports the SES sandbox's
# 1 e-mail/s, and nothing throttles locally; the mail sender paces at this rate instead.
LOCAL_OVERRIDES = {"MAIL_SEND_RATE": "200"}


@dataclass
class LocalAws:
    resolver: tpl.Resolver
    bucket: str
    queue_urls: dict[str, str]  # logical id -> URL

    def environment(self, function: tpl.Function) -> dict[str, str]:
        env = {k: str(self.resolver.resolve(v)) for k, v in function.environment.items()}
        env["STAGE"] = "dev" if env.get("STAGE") == "prod" else env.get("STAGE", "dev")
        env.update({k: v for k, v in LOCAL_OVERRIDES.items() if k in env})
        return env

    def shared_environment(self) -> dict[str, str]:
        """The Globals environment: what every function shares (the in-process server sets it once).

        One process plays every function locally, so it also gets the functions' own
        variables that name a resource (``IBAN_KEY_ID``): in AWS, their IAM policies, not
        their environment, decide which function may use what. Service names stay per function.
        """
        variables = tpl.load().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        env = {k: str(self.resolver.resolve(v)) for k, v in variables.items()}
        for function in tpl.functions():
            for name, value in function.environment.items():
                if name not in env and not name.startswith("POWERTOOLS_"):
                    env[name] = str(self.resolver.resolve(value))
        env.update({k: v for k, v in LOCAL_OVERRIDES.items() if k in env})
        return env


def _generate_secret(spec: dict[str, Any]) -> str:
    length = int(spec.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    generated = "".join(secrets.choice(alphabet) for _ in range(length))
    if "SecretStringTemplate" in spec:
        body = json.loads(spec["SecretStringTemplate"])
        body[spec["GenerateStringKey"]] = generated
        return json.dumps(body)
    return generated


def _create_keys(resolver: tpl.Resolver, physical: dict[str, str], attributes: dict[str, str]) -> None:
    """The template's KMS keys and aliases. A key's ``Ref`` resolves to its alias locally, not
    to its id: ``/_dev/reset`` creates new keys, and the warm workers, which keep the
    environment they started with, still find the key by its (unchanged) alias name."""
    kms = _SESSION.client("kms", region_name=tpl.REGION)
    for logical_id, resource in tpl.resources("AWS::KMS::Key").items():
        metadata = kms.create_key(Description=str(resolver.resolve(resource["Properties"].get("Description", ""))))
        physical[logical_id] = metadata["KeyMetadata"]["KeyId"]
        attributes[f"{logical_id}.Arn"] = metadata["KeyMetadata"]["Arn"]
    for logical_id, resource in tpl.resources("AWS::KMS::Alias").items():
        props = resource["Properties"]
        target = props["TargetKeyId"]["Ref"]
        alias = str(resolver.resolve(props["AliasName"]))
        kms.create_alias(AliasName=alias, TargetKeyId=physical[target])
        physical[logical_id] = alias
        physical[target] = alias


def _create_platform_applications(parameters: dict[str, str]) -> None:
    """The push platform applications (APNs sandbox, FCM) moto plays, unless given."""
    sns = _SESSION.client("sns", region_name=tpl.REGION)
    for parameter, platform in LOCAL_PLATFORMS.items():
        if not parameters.get(parameter):
            demo = {"PlatformCredential": "demo-credential", "PlatformPrincipal": "demo-principal"}
            created = sns.create_platform_application(
                Name=f"oph-local-{platform.lower()}", Platform=platform, Attributes=demo
            )
            parameters[parameter] = created["PlatformApplicationArn"]


def create_resources(public_base_url: str, overrides: dict[str, str] | None = None) -> LocalAws:
    parameters = {**tpl.parameter_defaults(), **LOCAL_PARAMETERS, "PublicBaseUrl": public_base_url, **(overrides or {})}
    physical: dict[str, str] = {}
    attributes: dict[str, str] = {}
    resolver = tpl.Resolver(parameters, physical, attributes)
    region = tpl.REGION

    # Names first, so that every Ref and GetAtt resolves whatever the creation order.
    for logical_id, resource in tpl.resources().items():
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            physical[logical_id] = logical_id
            attributes[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:{region}:{tpl.ACCOUNT_ID}:table/{logical_id}"
        elif kind in ("AWS::SES::ConfigurationSet",):
            physical[logical_id] = str(resolver.resolve(resource["Properties"].get("Name", logical_id)))
        elif kind == "AWS::SNS::Topic":
            physical[logical_id] = f"arn:aws:sns:{region}:{tpl.ACCOUNT_ID}:{logical_id}"
    bucket = ""
    for logical_id, resource in tpl.resources("AWS::S3::Bucket").items():
        bucket = str(resolver.resolve(resource["Properties"]["BucketName"])).lower()
        physical[logical_id] = bucket

    dynamodb = _SESSION.client("dynamodb", region_name=region)
    for logical_id, resource in tpl.resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        kwargs: dict[str, Any] = {
            "TableName": logical_id,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        dynamodb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(
                TableName=logical_id,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )

    s3: Any = _SESSION.client("s3", region_name=region)
    if bucket:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})

    sm = _SESSION.client("secretsmanager", region_name=region)
    for logical_id, resource in tpl.resources("AWS::SecretsManager::Secret").items():
        spec = resource["Properties"].get("GenerateSecretString", {})
        sm.create_secret(Name=logical_id, SecretString=_generate_secret(spec))
        # The name, not the ARN (whose suffix is random): the environment then stays the same
        # across /_dev/reset, so warm workers keep finding their secrets.
        physical[logical_id] = logical_id

    _create_keys(resolver, physical, attributes)

    sqs = _SESSION.client("sqs", region_name=region)
    queue_urls: dict[str, str] = {}
    for logical_id in tpl.resources("AWS::SQS::Queue"):
        url = sqs.create_queue(QueueName=logical_id)["QueueUrl"]
        queue_urls[logical_id] = url
        physical[logical_id] = url
        attributes[f"{logical_id}.Arn"] = f"arn:aws:sqs:{region}:{tpl.ACCOUNT_ID}:{logical_id}"

    ses = _SESSION.client("ses", region_name=region)
    sesv2 = _SESSION.client("sesv2", region_name=region)
    for logical_id in tpl.resources("AWS::SES::ConfigurationSet"):
        ses.create_configuration_set(ConfigurationSet={"Name": physical[logical_id]})
    for resource in tpl.resources("AWS::SES::EmailIdentity").values():
        sesv2.create_email_identity(EmailIdentity=str(resolver.resolve(resource["Properties"]["EmailIdentity"])))
    office = str(parameters.get("OfficeMailFrom", ""))
    if office and "@" in office:
        sesv2.create_email_identity(EmailIdentity=office.split("<")[-1].strip(">").split("@")[1])

    _create_platform_applications(parameters)
    return LocalAws(resolver=resolver, bucket=bucket, queue_urls=queue_urls)
