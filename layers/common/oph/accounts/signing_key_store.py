"""The JWT signing keys, read from Secrets Manager through the platform's one secret cache.

The secret is JSON ``{"kid", "key"}`` plus, during a rotation, ``{"previous_kid",
"previous_key"}``. It is cached for 5 minutes per container, so a rotation is picked up
within 5 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from oph.platform.aws import secrets
from oph.platform.provider import Provider
from oph.platform.settings import get_settings

SECRET_CACHE_SECONDS = 300


@dataclass(frozen=True)
class SigningKeys:
    kid: str
    key: bytes
    previous: dict[str, bytes]

    def for_kid(self, kid: str) -> bytes | None:
        if kid == self.kid:
            return self.key
        return self.previous.get(kid)


class SigningKeyStore:
    def keys(self) -> SigningKeys:
        data = secrets.json_secret(get_settings().jwt_secret_arn, max_age=SECRET_CACHE_SECONDS)
        previous = {}
        if data.get("previous_kid") and data.get("previous_key"):
            previous[str(data["previous_kid"])] = str(data["previous_key"]).encode()
        return SigningKeys(str(data["kid"]), str(data["key"]).encode(), previous)


signing_key_store: Provider[SigningKeyStore] = Provider(SigningKeyStore)
