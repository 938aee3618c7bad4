"""The JWT signing keys, read from Secrets Manager through the platform's one secret cache.

The secret is JSON ``{"kid", "key"}`` plus, during a rotation, ``{"previous_kid",
"previous_key"}``. It is cached for 5 minutes per container, so a rotation is picked up
within 5 minutes for signing; a token signed with a ``kid`` this container does not know yet
(another container already signs with the rotated key) makes it re-read the secret at once,
at most once a minute (:meth:`SigningKeyStore.refreshed_keys`), instead of refusing the token
for up to 5 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from oph.platform.aws import secrets
from oph.platform.provider import Provider
from oph.platform.settings import get_settings

SECRET_CACHE_SECONDS = 300
UNKNOWN_KID_REFRESH_SECONDS = 60


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
        return _keys(secrets.json_secret(get_settings().jwt_secret_arn, max_age=SECRET_CACHE_SECONDS))

    def refreshed_keys(self) -> SigningKeys:
        """Read the secret again unless it was read less than a minute ago."""
        return _keys(secrets.refresh(get_settings().jwt_secret_arn, min_interval=UNKNOWN_KID_REFRESH_SECONDS))


def _keys(data: dict[str, object]) -> SigningKeys:
    previous = {}
    if data.get("previous_kid") and data.get("previous_key"):
        previous[str(data["previous_kid"])] = str(data["previous_key"]).encode()
    return SigningKeys(str(data["kid"]), str(data["key"]).encode(), previous)


signing_key_store: Provider[SigningKeyStore] = Provider(SigningKeyStore)
