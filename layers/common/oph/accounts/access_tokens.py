"""Access tokens (JWT) and the one verifier used by every authenticated route.

Access token: HS256 only (the algorithm is pinned: ``alg=none`` or RS/HS confusion cannot
pass), header ``kid``, claims ``iss``, ``aud``, ``sub`` (account id), ``sid`` (session id),
``iat``, ``exp`` (15 minutes), ``jti``. The key lives in Secrets Manager as JSON
``{"kid", "key"}`` plus, during a rotation, ``{"previous_kid", "previous_key"}``: verification
accepts both by ``kid``, signing uses the current one. The secret is cached for 5 minutes per
container, so a rotation is picked up within 5 minutes.

Revocation bound: zero. Every authenticated request reads the account (disabled flag,
``session_generation``, carried by the token as ``gen``) and its session item
(``SESSION#<sid>`` in TokensTable): a logout, password change or reset, deletion or
disabling refuses the token from its next use on. Both are read with strong consistency in
one BatchGetItem (one round trip), the price of the contract's revocation rule.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oph.accounts.model import Account, account_key
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import AccountDisabled, Unauthorized
from oph.platform.settings import get_settings, on_reset

ISSUER = "https://api.oph-aubervilliers.fr"
AUDIENCE = "mon-espace-locataire"
ALGORITHM = "HS256"
ACCESS_TTL = 900
SECRET_CACHE_SECONDS = 300
MAX_CLOCK_SKEW = 30


@dataclass(frozen=True)
class Principal:
    account_id: str
    tenant_number: str
    session_id: str
    account: Account


@dataclass(frozen=True)
class SigningKeys:
    kid: str
    key: bytes
    previous: dict[str, bytes]

    def for_kid(self, kid: str) -> bytes | None:
        if kid == self.kid:
            return self.key
        return self.previous.get(kid)


_keys: tuple[float, SigningKeys] | None = None


@on_reset
def _forget_keys() -> None:
    global _keys
    _keys = None


def signing_keys() -> SigningKeys:
    global _keys
    if _keys is not None and time.monotonic() - _keys[0] < SECRET_CACHE_SECONDS:
        return _keys[1]
    with aws.unavailable_on_failure():
        raw = aws.secretsmanager().get_secret_value(SecretId=get_settings().jwt_secret_arn)["SecretString"]
    data = json.loads(raw)
    previous = {}
    if data.get("previous_kid") and data.get("previous_key"):
        previous[str(data["previous_kid"])] = str(data["previous_key"]).encode()
    keys = SigningKeys(str(data["kid"]), str(data["key"]).encode(), previous)
    _keys = (time.monotonic(), keys)
    return keys


def issue_access_token(account_id: str, session_id: str, generation: int) -> str:
    import jwt

    keys = signing_keys()
    now = int(clock.now_ts())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": account_id,
        "sid": session_id,
        "gen": generation,
        "iat": now,
        "exp": now + ACCESS_TTL,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, keys.key, algorithm=ALGORITHM, headers={"kid": keys.kid})


def decode_access_token(token: str) -> dict[str, Any]:
    """Claims of a well-formed, correctly signed, unexpired token; else 401."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized() from None
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise Unauthorized()
    key = signing_keys().for_kid(header["kid"])
    if key is None:
        raise Unauthorized()
    try:
        # exp/iat are checked below against our clock (movable in development).
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "require": ["iss", "aud", "sub", "sid", "gen", "iat", "exp", "jti"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        raise Unauthorized() from None
    now = clock.now_ts()
    if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int):
        raise Unauthorized()
    if claims["exp"] <= now or claims["iat"] > now + MAX_CLOCK_SKEW:
        raise Unauthorized()
    return claims


def session_key(session_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SESSION#{session_id}"}, "sk": {"S": "SESSION"}}


def session_is_live(session_id: str) -> bool:
    with aws.unavailable_on_failure():
        item = (
            aws.dynamodb()
            .get_item(TableName=get_settings().tokens_table, Key=session_key(session_id), ConsistentRead=True)
            .get("Item")
        )
    return _session_live(dynamo.from_item(item) if item else None)


def bearer_token(event: Mapping[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _session_live(values: Mapping[str, Any] | None) -> bool:
    return bool(values) and not values.get("revoked") and int(values.get("expires_at", 0)) > clock.now_ts()  # type: ignore[union-attr]


def _account_and_session(account_id: str, session_id: str) -> tuple[Account | None, dict[str, Any] | None]:
    """Both revocation inputs in ONE round trip (BatchGetItem over the two tables)."""
    settings = get_settings()
    request: dict[str, Any] = {
        settings.tenants_table: {"Keys": [account_key(account_id)], "ConsistentRead": True},
        settings.tokens_table: {"Keys": [session_key(session_id)], "ConsistentRead": True},
    }
    found = dynamo.batch_get(request)
    account_items = found.get(settings.tenants_table) or []
    session_items = found.get(settings.tokens_table) or []
    account = Account.from_item(account_items[0]) if account_items else None
    session = dynamo.from_item(session_items[0]) if session_items else None
    return account, session


def authenticate(event: Mapping[str, Any]) -> Principal:
    token = bearer_token(event)
    if not token or len(token) > 4096:
        raise Unauthorized()
    claims = decode_access_token(token)
    account, session = _account_and_session(str(claims["sub"]), str(claims["sid"]))
    if account is None or account.status != "active":
        raise Unauthorized()
    if account.disabled:
        raise AccountDisabled()
    if claims["gen"] != account.session_generation or not _session_live(session):
        raise Unauthorized()
    return Principal(account.account_id, account.tenant_number, str(claims["sid"]), account)
