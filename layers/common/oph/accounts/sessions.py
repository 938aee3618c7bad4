"""Login sessions: refresh tokens, rotation with reuse detection, logout, global revocation.

A session is one login on one device (a refresh-token *family*). TokensTable keys:

- ``SESSION#<session id>`` / ``SESSION``: ``account_id``, ``family`` (= the session id),
  ``generation`` (the account's ``session_generation`` at login), ``created_at``,
  ``expires_at`` (refresh lifetime, slides 30 days at each rotation; also the TTL),
  ``refresh_hash`` (SHA-256 of the one refresh token currently valid), and ``revoked`` once
  logged out or revoked. Access tokens carry the session id (``sid``): the shared verifier
  refuses them as soon as the item is revoked (``oph.auth.session_is_live``).
- ``REFRESH#<sha256 of the token>`` / ``REFRESH``: ``session_id``, ``account_id``,
  ``issued_at``, ``expires_at``. Kept after rotation, so that presenting an already rotated
  token is recognised as reuse and revokes the whole family.

Refresh tokens are 256 random bits (``secrets.token_urlsafe(32)``), returned once and stored
only as their hash. Rotation is a conditional transaction on ``refresh_hash``: two concurrent
uses of one token cannot both produce a valid successor.

Revoking every session of an account (password change or reset, disabling, deletion)
increments ``Account.session_generation``: every access token (claim ``gen``) and every
session (attribute ``generation``) issued under an older generation is refused from its
next use on.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from oph.accounts.access_tokens import ACCESS_TTL, issue_access_token, session_key
from oph.accounts.model import ACTIVE, Account, AccountRepository, account_key
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import Unauthorized
from oph.platform.observability import count, get_logger
from oph.platform.settings import get_settings

REFRESH_TTL = 30 * 24 * 3600
MAX_REFRESH_TOKEN_LENGTH = 512


def hash_refresh_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def refresh_key(token_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"REFRESH#{token_hash}"}, "sk": {"S": "REFRESH"}}


def _table() -> str:
    return get_settings().tokens_table


def _token_body(access_token: str, refresh_token: str) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL,
        "refresh_token": refresh_token,
        "refresh_expires_in": REFRESH_TTL,
    }


def _refresh_put(raw_hash: str, session_id: str, account_id: str, now: int) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": _table(),
            "Item": {
                **refresh_key(raw_hash),
                **dynamo.to_item(
                    {
                        "session_id": session_id,
                        "account_id": account_id,
                        "issued_at": now,
                        "expires_at": now + REFRESH_TTL,
                    }
                ),
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _generation_check(account: Account) -> dict[str, Any]:
    """The account still has this generation and is not disabled (a race with a revocation)."""
    return {
        "ConditionCheck": {
            "TableName": get_settings().tenants_table,
            "Key": account_key(account.account_id),
            "ConditionExpression": (
                "attribute_exists(pk) AND session_generation = :g "
                "AND (attribute_not_exists(disabled) OR disabled = :false)"
            ),
            "ExpressionAttributeValues": {":g": {"N": str(account.session_generation)}, ":false": {"BOOL": False}},
        }
    }


def new_session_items(account_id: str, generation: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The items creating a session under ``generation`` (put them in your own transaction)
    and its login body.

    The access token is signed here, before anything is written: if the signing key cannot
    be read (Secrets Manager down) the caller gets 503 with nothing committed, rather than a
    committed change whose tokens were never handed out.
    """
    session_id = str(uuid.uuid4())
    refresh = secrets.token_urlsafe(32)
    refresh_hash = hash_refresh_token(refresh)
    now = int(clock.now_ts())
    session_item = {
        **session_key(session_id),
        **dynamo.to_item(
            {
                "account_id": account_id,
                "family": session_id,
                "generation": generation,
                "created_at": now,
                "refreshed_at": now,
                "expires_at": now + REFRESH_TTL,
                "refresh_hash": refresh_hash,
            }
        ),
    }
    access = issue_access_token(account_id, session_id, generation)
    items = [
        {"Put": {"TableName": _table(), "Item": session_item, "ConditionExpression": "attribute_not_exists(pk)"}},
        _refresh_put(refresh_hash, session_id, account_id, now),
    ]
    return items, _token_body(access, refresh)


def start_session(account: Account) -> dict[str, Any]:
    """A new session for ``account`` and its login body (token pair).

    ``account.session_generation`` must be the account's current generation: a caller that
    just revoked every session (``revoke_all_sessions``) passes the account with the
    incremented generation. If the generation changed meanwhile, or the account was disabled,
    the session is not created (401): a login racing a password reset cannot survive it.
    """
    items, body = new_session_items(account.account_id, account.session_generation)
    items.append(_generation_check(account))
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            raise Unauthorized() from None
        raise
    return body


def _get(key: dict[str, Any]) -> dict[str, Any] | None:
    with aws.unavailable_on_failure():
        item = aws.dynamodb().get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
    return dynamo.from_item(item) if item else None


def revoke_session(session_id: str, reason: str) -> None:
    """Mark one session (a whole refresh family) revoked: its refresh and access tokens die."""
    now = int(clock.now_ts())
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=_table(),
                Key=session_key(session_id),
                UpdateExpression="SET revoked = :t, revoked_at = :now, revoked_reason = :r",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":t": {"BOOL": True},
                    ":now": {"N": str(now)},
                    ":r": {"S": reason},
                },
            )
    except Exception as exc:
        if not aws.is_conditional_failure(exc):
            raise


def refresh_session(raw: str) -> dict[str, Any]:
    """Rotate a refresh token: the new token pair, or 401 ``unauthorized``.

    A token that was already rotated revokes its whole family (reuse means it leaked). Two
    concurrent uses of the current token: one wins, the loser's conditional write fails
    and it gets 401 (it saw the token current, so this is a race, not a replay).
    """
    if not isinstance(raw, str) or not raw or len(raw) > MAX_REFRESH_TOKEN_LENGTH:
        raise Unauthorized()
    old_hash = hash_refresh_token(raw)
    now = int(clock.now_ts())
    token = _get(refresh_key(old_hash))
    if token is None or int(token.get("expires_at", 0)) <= now:
        raise Unauthorized()
    session_id = str(token["session_id"])
    session = _get(session_key(session_id))
    if session is None or session.get("revoked") or int(session.get("expires_at", 0)) <= now:
        raise Unauthorized()
    if session.get("refresh_hash") != old_hash:
        revoke_session(session_id, "refresh_reuse")
        count("RefreshReuseDetected")
        get_logger().warning("rotated refresh token reused: session family revoked", extra={"session": session_id})
        raise Unauthorized()
    account = AccountRepository().get(str(session["account_id"]))
    if (
        account is None
        or account.status != ACTIVE
        or account.disabled
        or int(session.get("generation", -1)) != account.session_generation
    ):
        raise Unauthorized()
    new_refresh = secrets.token_urlsafe(32)
    new_hash = hash_refresh_token(new_refresh)
    items = [
        {
            "Update": {
                "TableName": _table(),
                "Key": session_key(session_id),
                "UpdateExpression": "SET refresh_hash = :new, refreshed_at = :now, expires_at = :exp",
                "ConditionExpression": "refresh_hash = :old AND attribute_not_exists(revoked)",
                "ExpressionAttributeValues": {
                    ":new": {"S": new_hash},
                    ":old": {"S": old_hash},
                    ":now": {"N": str(now)},
                    ":exp": {"N": str(now + REFRESH_TTL)},
                },
            }
        },
        _refresh_put(new_hash, session_id, account.account_id, now),
        _generation_check(account),
    ]
    # Signed before the rotation is committed: a rotation whose access token could not be
    # signed would make the client's retry with the same refresh token look like a reuse.
    access = issue_access_token(account.account_id, session_id, account.session_generation)
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            raise Unauthorized() from None
        raise
    return _token_body(access, new_refresh)


def logout(raw: str) -> None:
    """End the session of this refresh token (any token of the family); unknown: nothing."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_REFRESH_TOKEN_LENGTH:
        return
    token = _get(refresh_key(hash_refresh_token(raw)))
    if token is None:
        return
    revoke_session(str(token["session_id"]), "logout")


def revoke_all_sessions_item(account_id: str) -> dict[str, Any]:
    """Transaction item incrementing the account's session generation (put it in your own
    transaction, e.g. with a password change)."""
    return {
        "Update": {
            "TableName": get_settings().tenants_table,
            "Key": account_key(account_id),
            "UpdateExpression": "ADD session_generation :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def revoke_all_sessions(account_id: str) -> None:
    """Every access and refresh token of the account is refused from its next use on."""
    item = revoke_all_sessions_item(account_id)["Update"]
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(**item)
    except Exception as exc:
        if not aws.is_conditional_failure(exc):  # no such account: nothing to revoke
            raise


def login(email: str, password: str) -> dict[str, Any]:
    """ "Se connecter": the login body, or 401 ``invalid_credentials`` / 403 / 429.

    Every path spends exactly one bcrypt check (a dummy one for an unknown e-mail) and the
    same reads, so neither the answer nor its timing tells whether the e-mail has an account.
    """
    from oph.accounts import login_lock as login_throttle
    from oph.accounts.model import PENDING, normalize_email
    from oph.accounts.passwords import burn_equal_time, verify_password
    from oph.platform.errors import AccountDisabled, EmailNotVerified, InvalidCredentials

    key = normalize_email(email)
    login_throttle.begin_attempt(key)
    repo = AccountRepository()
    account = repo.get_by_email(key) if key else None
    if account is None:
        repo.get("-")  # the read a known e-mail costs, so both take the same time
        burn_equal_time(password)
        count("LoginsFailed")
        raise InvalidCredentials()
    if not verify_password(password, account.password_hash):
        count("LoginsFailed")
        raise InvalidCredentials()
    if account.status == PENDING:
        expires = account.pending_expires_at
        if expires is not None and expires <= clock.now_ts():  # expired: the e-mail is free again
            count("LoginsFailed")
            raise InvalidCredentials()
        login_throttle.reset(key)
        raise EmailNotVerified()
    if account.status != ACTIVE:
        count("LoginsFailed")
        raise InvalidCredentials()
    login_throttle.reset(key)
    if account.disabled:
        raise AccountDisabled()
    body = start_session(account)
    count("LoginsSucceeded")
    return body
