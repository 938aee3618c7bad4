"""Access tokens (JWT) and the one verifier used by every authenticated route.

Access token: HS256 only (the algorithm is pinned: ``alg=none`` or RS/HS confusion cannot
pass), header ``kid``, claims ``iss``, ``aud``, ``sub`` (account id), ``sid`` (session id),
``iat``, ``exp`` (15 minutes), ``jti``. The key lives in Secrets Manager as JSON
``{"kid", "key"}`` plus, during a rotation, ``{"previous_kid", "previous_key"}``: verification
accepts both by ``kid``, signing uses the current one. The secret is cached for 5 minutes per
container (:mod:`oph.accounts.signing_key_store`), so a rotation is picked up within 5 minutes.

Revocation bound: zero. Every authenticated request reads the account (disabled flag,
``session_generation``, carried by the token as ``gen``) and its session item
(``SESSION#<sid>`` in TokensTable): a logout, password change or reset, deletion or
disabling refuses the token from its next use on. Both are read with strong consistency in
one BatchGetItem (one round trip), the price of the contract's revocation rule.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oph.accounts.account_store import account_store
from oph.accounts.model import ACTIVE, Account
from oph.accounts.session_store import session_store
from oph.accounts.signing_key_store import SigningKeys, signing_key_store
from oph.platform import clock
from oph.platform.errors import AccountDisabled, Unauthorized

ISSUER = "https://api.oph-aubervilliers.fr"
AUDIENCE = "mon-espace-locataire"
ALGORITHM = "HS256"
ACCESS_TTL = 900
MAX_CLOCK_SKEW = 30


@dataclass(frozen=True)
class Principal:
    account_id: str
    tenant_number: str
    session_id: str
    account: Account


def signing_keys() -> SigningKeys:
    """The current key and, during a rotation, the previous one (cached for 5 minutes)."""
    return signing_key_store().keys()


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
    if key is None:  # rotated elsewhere already? re-read (at most once a minute)
        key = signing_key_store().refreshed_keys().for_kid(header["kid"])
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


def bearer_token(event: Mapping[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def authenticate(event: Mapping[str, Any]) -> Principal:
    token = bearer_token(event)
    if not token or len(token) > 4096:
        raise Unauthorized()
    claims = decode_access_token(token)
    account, session = session_store().account_and_session(str(claims["sub"]), str(claims["sid"]))
    if account is None or account.status != ACTIVE:
        raise Unauthorized()
    if account.disabled:
        if claims["gen"] == account.session_generation:  # disabled by hand, sessions not yet revoked
            account_store().revoke_all_sessions(account.account_id)
        raise AccountDisabled()
    if claims["gen"] != account.session_generation or session is None or not session.is_live(clock.now_ts()):
        raise Unauthorized()
    return Principal(account.account_id, account.tenant_number, str(claims["sid"]), account)
