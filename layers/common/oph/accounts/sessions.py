"""Login sessions: refresh tokens, rotation with reuse detection, logout, global revocation.

A session is one login on one device (a refresh-token *family*, see
:mod:`oph.accounts.session_store` for its items). Access tokens carry the session id
(``sid``): the shared verifier (:func:`oph.accounts.access_tokens.authenticate`) refuses them
as soon as the session is revoked. Every refresh token ever issued is kept after rotation,
so that presenting an already rotated token is recognised as reuse and revokes the whole
family.

Refresh tokens are 256 random bits (``secrets.token_urlsafe(32)``), returned once and stored
only as their hash. Rotation is a conditional transaction on the session's current refresh
hash: two concurrent uses of one token cannot both produce a valid successor.

Revoking every session of an account (password change or reset, disabling, deletion)
increments ``Account.session_generation``: every access token (claim ``gen``) and every
session (its ``generation``) issued under an older generation is refused from its next use
on.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from oph.accounts import login_lock
from oph.accounts.access_tokens import ACCESS_TTL, issue_access_token
from oph.accounts.account_store import account_store
from oph.accounts.model import ACTIVE, PENDING, Account, Session, pending_expired
from oph.accounts.passwords import burn_equal_time, verify_password
from oph.accounts.session_store import session_store
from oph.platform import clock
from oph.platform.errors import (
    AccountDisabled,
    EmailNotVerified,
    InvalidCredentials,
    ServiceUnavailable,
    Unauthorized,
)
from oph.platform.observability import count, get_logger
from oph.platform.transaction import RaceLost, Transaction, Write
from oph.platform.validation import require_email_length

REFRESH_TTL = 30 * 24 * 3600
MAX_REFRESH_TOKEN_LENGTH = 512


def hash_refresh_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _token_body(access_token: str, refresh_token: str) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL,
        "refresh_token": refresh_token,
        "refresh_expires_in": REFRESH_TTL,
    }


def new_session_items(account_id: str, generation: int) -> tuple[list[Write], dict[str, Any]]:
    """The items creating a session under ``generation`` (put them in your own transaction)
    and its login body.

    The access token is signed here, before anything is written: if the signing key cannot
    be read (Secrets Manager down) the caller gets 503 with nothing committed, rather than a
    committed change whose tokens were never handed out.
    """
    refresh = secrets.token_urlsafe(32)
    now = int(clock.now_ts())
    session = Session(str(uuid.uuid4()), account_id, generation, now + REFRESH_TTL, hash_refresh_token(refresh))
    access = issue_access_token(account_id, session.session_id, generation)
    return session_store().create_items(session, now, fails_with=Unauthorized), _token_body(access, refresh)


def _commit_session_change(*writes: Write | list[Write]) -> None:
    """A failed condition (each write declares 401) means the session must not be created or
    rotated; a concurrent transaction on the same items, a 503 the client retries."""
    try:
        Transaction(*writes).commit()
    except RaceLost:
        raise ServiceUnavailable() from None


def start_session(account: Account) -> dict[str, Any]:
    """A new session for ``account`` and its login body (token pair).

    ``account.session_generation`` must be the account's current generation: a caller that
    just revoked every session (``revoke_all_sessions``) passes the account with the
    incremented generation. If the generation changed meanwhile, or the account was disabled,
    the session is not created (401): a login racing a password reset cannot survive it.
    """
    items, body = new_session_items(account.account_id, account.session_generation)
    _commit_session_change(items, account_store().generation_check_item(account, fails_with=Unauthorized))
    return body


def revoke_session(session_id: str, reason: str) -> None:
    """Mark one session (a whole refresh family) revoked: its refresh and access tokens die."""
    session_store().revoke(session_id, reason, int(clock.now_ts()))


def _may_refresh(account: Account, session: Session) -> bool:
    """The session's account is still active, enabled, and of the session's generation."""
    return account.in_service and session.generation == account.session_generation


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
    sessions = session_store()
    token = sessions.get_refresh(old_hash)
    if token is None or token.expires_at <= now:
        raise Unauthorized()
    session = sessions.get(token.session_id)
    if session is None or not session.is_live(now):
        raise Unauthorized()
    if session.refresh_hash != old_hash:
        revoke_session(session.session_id, "refresh_reuse")
        count("RefreshReuseDetected")
        get_logger().warning(
            "rotated refresh token reused: session family revoked", extra={"session": token.session_id}
        )
        raise Unauthorized()
    account = account_store().get(session.account_id)
    if account is None or not _may_refresh(account, session):
        raise Unauthorized()
    new_refresh = secrets.token_urlsafe(32)
    rotated = Session(
        session.session_id, account.account_id, session.generation, now + REFRESH_TTL, hash_refresh_token(new_refresh)
    )
    # Signed before the rotation is committed: a rotation whose access token could not be
    # signed would make the client's retry with the same refresh token look like a reuse.
    access = issue_access_token(account.account_id, session.session_id, account.session_generation)
    _commit_session_change(
        sessions.rotate_items(rotated, old_hash, now, fails_with=Unauthorized),
        account_store().generation_check_item(account, fails_with=Unauthorized),
    )
    return _token_body(access, new_refresh)


def logout(raw: str) -> None:
    """End the session of this refresh token (any token of the family); unknown: nothing."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_REFRESH_TOKEN_LENGTH:
        return
    token = session_store().get_refresh(hash_refresh_token(raw))
    if token is None:
        return
    revoke_session(token.session_id, "logout")


def revoke_all_sessions(account_id: str) -> None:
    """Every access and refresh token of the account is refused from its next use on
    (nothing to do when there is no such account)."""
    account_store().revoke_all_sessions(account_id)


def login(email: str, password: str) -> dict[str, Any]:
    """ "Se connecter": the login body, or 401 ``invalid_credentials`` / 403 / 429.

    Every path spends exactly one bcrypt check (a dummy one for an unknown e-mail) and the
    same reads, so neither the answer nor its timing tells whether the e-mail has an account.
    """
    key = require_email_length(email)
    login_lock.begin_attempt(key)
    accounts = account_store()
    account = accounts.get_by_email(key) if key else None
    if account is None:
        accounts.get("-")  # the read a known e-mail costs, so both take the same time
        burn_equal_time(password)
        count("LoginsFailed")
        raise InvalidCredentials()
    if not verify_password(password, account.password_hash):
        count("LoginsFailed")
        raise InvalidCredentials()
    if account.status == PENDING:
        if pending_expired(account, clock.now_ts()):  # expired: the e-mail is free again
            count("LoginsFailed")
            raise InvalidCredentials()
        login_lock.reset(key)
        raise EmailNotVerified()
    if account.status != ACTIVE:
        count("LoginsFailed")
        raise InvalidCredentials()
    login_lock.reset(key)
    if account.disabled:
        raise AccountDisabled()
    body = start_session(account)
    count("LoginsSucceeded")
    return body
