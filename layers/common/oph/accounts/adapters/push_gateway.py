"""Amazon SNS mobile push: the only module that talks to SNS.

The platform applications (APNs for iOS, FCM for Android) hold the platforms' credentials,
which live in Secrets Manager and are given to SNS when the applications are set up (README,
"set up push for the app"); the functions only know their ARNs, from
``APNS_PLATFORM_APPLICATION_ARN`` and ``FCM_PLATFORM_APPLICATION_ARN`` (empty: that platform
is not configured). Each device gets one platform endpoint (``CreatePlatformEndpoint`` is
idempotent per token) and each notification one ``Publish`` to it.

SNS failures become the four errors below, so the use cases decide without knowing SNS codes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from oph.accounts.model import ANDROID, IOS
from oph.platform import aws
from oph.platform.provider import Provider

APPLICATION_VARIABLES = {IOS: "APNS_PLATFORM_APPLICATION_ARN", ANDROID: "FCM_PLATFORM_APPLICATION_ARN"}
# SNS codes meaning "try again later" beyond the platform's generic list (5xx, throttling).
_TRANSIENT = frozenset({"Throttled", "ThrottledException", "KMSThrottling", "InternalError", "InternalFailure"})
_NOT_FOUND = frozenset({"NotFound", "NotFoundException", "ResourceNotFound", "ResourceNotFoundException"})
_EXISTING = re.compile(r"Endpoint (arn:\S+) already exists")


class DeviceTokenInvalid(Exception):
    """The platform refused the device's token (the endpoint is disabled, or SNS rejects the
    token itself): the device must be removed."""


class EndpointGone(Exception):
    """The endpoint no longer exists (deleted meanwhile): create it again."""


class PushRefused(Exception):
    """A refusal that retrying cannot fix (bad parameters, a disabled platform application,
    missing permissions): the notification is dropped."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class PushUnavailable(Exception):
    """Throttled, or SNS is failing: the message must be retried later."""


@dataclass(frozen=True)
class EndpointState:
    token: str
    enabled: bool


def _sns() -> Any:
    return aws.client("sns")


def _message(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", ""))


def _existing_endpoint(exc: BaseException) -> str | None:
    """The ARN named by "Endpoint <arn> already exists with the same Token, but different
    attributes" (CreatePlatformEndpoint's answer for a token whose endpoint was disabled)."""
    if aws.error_code(exc) != "InvalidParameter":
        return None
    found = _EXISTING.search(_message(exc))
    return found.group(1) if found else None


@contextmanager
def _translated(*, about_token: bool = False) -> Iterator[None]:
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as exc:
        code = aws.error_code(exc)
        if code == "EndpointDisabled":
            raise DeviceTokenInvalid() from None
        if code in _NOT_FOUND:
            raise EndpointGone() from None
        if code in _TRANSIENT or aws.is_retryable(exc):
            raise PushUnavailable(code) from None
        if about_token and code == "InvalidParameter" and "Token" in _message(exc):
            raise DeviceTokenInvalid() from None
        raise PushRefused(code) from None
    except Exception as exc:
        if aws.is_retryable(exc):  # timeouts, connection errors
            raise PushUnavailable(type(exc).__name__) from None
        raise


class PushGateway:
    def application(self, platform: str) -> str:
        """The platform application of ``platform`` ("" when that platform is not configured)."""
        variable = APPLICATION_VARIABLES.get(platform)
        return os.environ.get(variable, "") if variable else ""

    def create_endpoint(self, application_arn: str, token: str) -> str:
        """The endpoint of ``token`` in the application (the existing one if there is one)."""
        with _translated(about_token=True):
            try:
                reply = _sns().create_platform_endpoint(PlatformApplicationArn=application_arn, Token=token)
                return str(reply["EndpointArn"])
            except Exception as exc:
                existing = _existing_endpoint(exc)
                if existing is None:
                    raise
        # The token has an endpoint with other attributes: disabled after an earlier failure.
        # The app has just registered the token again, so it is believed valid (AWS's advice).
        with _translated():
            _sns().set_endpoint_attributes(EndpointArn=existing, Attributes={"Enabled": "true"})
        return existing

    def publish(self, endpoint_arn: str, message: str) -> None:
        """``message``: the JSON object of one text per platform (``MessageStructure=json``)."""
        with _translated():
            _sns().publish(TargetArn=endpoint_arn, Message=message, MessageStructure="json")

    def endpoint_state(self, endpoint_arn: str) -> EndpointState | None:
        """The endpoint's token and whether it is enabled; None when it no longer exists."""
        try:
            with _translated():
                attributes = _sns().get_endpoint_attributes(EndpointArn=endpoint_arn).get("Attributes", {})
        except EndpointGone:
            return None
        enabled = str(attributes.get("Enabled", "true")).lower() == "true"
        return EndpointState(token=str(attributes.get("Token", "")), enabled=enabled)

    def delete_endpoint(self, endpoint_arn: str) -> None:
        """Idempotent: deleting an endpoint that is gone succeeds."""
        try:
            with _translated():
                _sns().delete_endpoint(EndpointArn=endpoint_arn)
        except EndpointGone:
            return


push_gateway: Provider[PushGateway] = Provider(PushGateway)
