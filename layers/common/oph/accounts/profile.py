"""Account ("Mon compte") use cases: "Mes infos", preferences, password change, deletion.

The e-mail change lives in :mod:`oph.email_change`, the GDPR export in :mod:`oph.data_export`.
Every function takes the caller's :class:`~oph.accounts.Account` as the verifier loaded it
and raises typed errors from :mod:`oph.errors`; none knows about HTTP.
"""

from __future__ import annotations

from typing import Any

from oph.accounts import login_lock as login_throttle
from oph.accounts import model as accounts
from oph.accounts import sessions
from oph.accounts import token_store as tokens
from oph.accounts.model import Account, AccountRepository
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import CurrentPasswordInvalid, FieldErrors, Unauthorized
from oph.platform.mail import Email, compose, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder, Tenancy
from oph.tenancy.store import TenancyStore, tenancy_pk

PREFERENCE_NAMES = tuple(accounts.DEFAULT_PREFERENCES)
# Token kinds whose outstanding links die with the account.
_ACCOUNT_TOKEN_KINDS = (tokens.VERIFY_EMAIL, tokens.RESET_PASSWORD, tokens.CHANGE_EMAIL)


# -- shared helpers ------------------------------------------------------------------------


def get_holder(account: Account) -> Holder | None:
    """The caller's own holder record (never the co-holders of the tenancy)."""
    with aws.unavailable_on_failure():
        item = (
            aws.dynamodb()
            .get_item(
                TableName=get_settings().tenants_table,
                Key={"pk": {"S": tenancy_pk(account.tenant_number)}, "sk": {"S": f"HOLDER#{account.holder_id}"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
    if not item:
        return None
    values = dynamo.from_item(item)
    return Holder(
        str(values.get("tenant_number", account.tenant_number)),
        str(values.get("last_name", "")),
        str(values.get("first_name", "")),
        str(values.get("birth_date", "")),
    )


def live_pending_email(account: Account) -> str | None:
    """The requested new address while its request is alive (24 hours), else None."""
    if account.pending_email and (account.pending_email_expires_at or 0) > clock.now_ts():
        return account.pending_email
    return None


def account_view(account: Account) -> dict[str, Any]:
    """The body of ``GET /v1/account`` (contract section 4), from the office's records and the account."""
    found, holder = TenancyStore().get_tenancy_and_holder(account.tenant_number, account.holder_id)
    tenancy = found or Tenancy(account.tenant_number)
    return {
        "tenant_number": account.tenant_number,
        # The office's records are authoritative for names (a re-import may correct them).
        "first_name": (holder.first_name if holder and holder.first_name else account.first_name),
        "last_name": (holder.last_name if holder and holder.last_name else account.last_name),
        "email": account.email,
        "pending_email": live_pending_email(account),
        "email_status": account.email_status if account.email_status in ("ok", "undeliverable") else "ok",
        "contract_number": tenancy.contract_number,
        "third_party_number": tenancy.third_party_number,
        "address": tenancy.address(),
        "created_at": account.created_at,
        "terms_accepted_at": account.terms_accepted_at,
    }


def verify_current_password(account: Account, current_password: str) -> None:
    """403 ``current_password_invalid`` on a wrong password, counted toward login throttling."""
    from oph.accounts.passwords import verify_password

    if verify_password(current_password, account.password_hash):
        return
    login_throttle.record_failure(account.email)
    count("CurrentPasswordRefused")
    raise CurrentPasswordInvalid()


def send_best_effort(email: Email, what: str) -> None:
    """A notice about a change already committed: its failure must not fail the request."""
    try:
        get_mailer().send(email)
    except Exception:
        get_logger().warning("notice e-mail not sent", extra={"notice": what})


def greeting(account: Account) -> str:
    return f"Bonjour {account.first_name}," if account.first_name else "Bonjour,"


# -- "Mes infos" ---------------------------------------------------------------------------


def get_account(account: Account) -> dict[str, Any]:
    return account_view(account)


# -- preferences ---------------------------------------------------------------------------


def get_preferences(account: Account) -> dict[str, bool]:
    return {name: bool(account.preferences.get(name, accounts.DEFAULT_PREFERENCES[name])) for name in PREFERENCE_NAMES}


def update_preferences(account: Account, changes: dict[str, bool]) -> dict[str, bool]:
    """Apply any subset; each preference whose value changes gets its change time recorded.

    ``receipts_by_email`` is the tenant's consent to electronic quittances: the time it was
    given or withdrawn is kept in ``preferences_changed_at`` (shown by the export).
    """
    current = get_preferences(account)
    changed = {k: bool(v) for k, v in changes.items() if k in PREFERENCE_NAMES and current[k] != bool(v)}
    if not changed:
        return current
    now = clock.iso_instant()
    table = get_settings().tenants_table
    names = {"#p": "preferences", "#c": "preferences_changed_at"}
    values: dict[str, Any] = {":now": {"S": now}, ":m": {"S": "M"}}
    sets = []
    for i, (name, value) in enumerate(sorted(changed.items())):
        names[f"#k{i}"] = name
        values[f":v{i}"] = {"BOOL": value}
        sets += [f"#p.#k{i} = :v{i}", f"#c.#k{i} = :now"]
    db = aws.dynamodb()
    try:
        # Nested paths: two concurrent changes of different preferences both stick.
        with aws.unavailable_on_failure():
            result = db.update_item(
                TableName=table,
                Key=accounts.account_key(account.account_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(pk) AND attribute_type(#p, :m) AND attribute_type(#c, :m)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
    except Exception as exc:
        if not aws.is_conditional_failure(exc):
            raise
        # An item written without the maps (or the account deleted meanwhile): set them whole.
        preferences = {**current, **changed}
        changed_at = {**account.preferences_changed_at, **dict.fromkeys(changed, now)}
        try:
            with aws.unavailable_on_failure():
                result = db.update_item(
                    TableName=table,
                    Key=accounts.account_key(account.account_id),
                    UpdateExpression="SET #p = :p, #c = :c",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#p": "preferences", "#c": "preferences_changed_at"},
                    ExpressionAttributeValues=dynamo.to_item({":p": preferences, ":c": changed_at}),
                    ReturnValues="ALL_NEW",
                )
        except Exception as again:
            if aws.is_conditional_failure(again):
                raise Unauthorized() from None
            raise
    count("PreferencesChanged")
    return get_preferences(Account.from_item(result["Attributes"]))


# -- password change -----------------------------------------------------------------------


def personal_words(account: Account) -> list[str]:
    """What a password may not contain: names, numéro d'intitulé, the e-mail's local part."""
    words = [account.first_name, account.last_name, account.tenant_number, account.email.split("@")[0]]
    return [w for w in words if w]


def change_password(account: Account, current_password: str, new_password: str, confirmation: str) -> dict[str, Any]:
    """Check, store, revoke every earlier token, and open a fresh session (the login body)."""
    from oph.accounts.password_policy import check_password
    from oph.accounts.passwords import hash_password

    problems = FieldErrors()
    explanation = check_password(new_password, personal_words=personal_words(account))
    if explanation:
        problems.add("new_password", "password_policy", explanation)
    if confirmation != new_password:
        problems.add("new_password_confirmation", "mismatch")
    problems.raise_if_any()  # validation (422) comes before the current password (403)
    verify_current_password(account, current_password)

    new_hash = hash_password(new_password)
    generation = account.session_generation
    # One transaction: the new hash, the generation bump (what ``sessions.revoke_all_sessions``
    # does) and the caller's fresh session. No instant exists where the new password is set
    # while an earlier token still works, and a failure (503) leaves nothing written, so the
    # retry with the same current password succeeds. The new tokens are signed before it.
    session_items, body = sessions.new_session_items(account.account_id, generation + 1)
    same_generation = "session_generation = :g"
    if generation == 0:
        same_generation = f"(attribute_not_exists(session_generation) OR {same_generation})"
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": get_settings().tenants_table,
                "Key": accounts.account_key(account.account_id),
                "UpdateExpression": "SET password_hash = :h, password_changed_at = :now ADD session_generation :one",
                "ConditionExpression": (
                    f"attribute_exists(pk) AND password_hash = :old AND {same_generation} "
                    "AND (attribute_not_exists(disabled) OR disabled = :false)"
                ),
                "ExpressionAttributeValues": {
                    ":h": {"S": new_hash},
                    ":now": {"S": clock.iso_instant()},
                    ":one": {"N": "1"},
                    ":old": {"S": account.password_hash},
                    ":g": {"N": str(generation)},
                    ":false": {"BOOL": False},
                },
            }
        },
        *session_items,
    ]
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) != "TransactionCanceledException":
            raise
        # Changed by a concurrent request: another password change answers 403 as before; a
        # revocation (disabling, deletion, a reset) means this token is dead.
        fresh = AccountRepository().get(account.account_id)
        if fresh is not None and fresh.password_hash != account.password_hash:
            raise CurrentPasswordInvalid() from None
        raise Unauthorized() from None
    fresh = Account(**{**account.__dict__, "password_hash": new_hash, "session_generation": generation + 1})
    count("PasswordChanged")
    send_best_effort(password_changed_email(fresh), "password_changed")
    return body


def password_changed_email(account: Account) -> Email:
    when = clock.now().strftime("%d/%m/%Y à %H:%M (UTC)")
    return compose(
        "Votre mot de passe a été modifié",
        [
            greeting(account),
            f"Le mot de passe de votre espace locataire de l'Office Public de l'Habitat d'Aubervilliers "
            f"a été modifié le {when}.",
            "Par sécurité, toutes vos sessions ouvertes ont été fermées : reconnectez-vous sur vos "
            "autres appareils avec votre nouveau mot de passe.",
            "Si vous n'êtes pas à l'origine de cette modification, utilisez immédiatement « Mot de passe "
            "oublié » dans l'application pour en choisir un nouveau, puis contactez l'Office.",
        ],
        to=account.email,
    )


# -- deletion ------------------------------------------------------------------------------


def delete_account(account: Account, current_password: str) -> None:
    """Remove the online account in one transaction; the office's records stay.

    Deleted: the account item (credentials), its e-mail and holder uniqueness items (so the
    holder can register again, with the same address or another), and every outstanding
    e-mailed link. Sessions die with it: the verifier refuses a token whose account is gone.
    Kept (legal retention): tenancy, holders, notices, receipts and payments.
    """
    verify_current_password(account, current_password)
    settings = get_settings()
    me = {":me": {"S": account.account_id}}
    mine_or_gone = "attribute_not_exists(pk) OR account_id = :me"
    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": settings.tenants_table,
                "Key": accounts.account_key(account.account_id),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {
            "Delete": {
                "TableName": settings.tenants_table,
                "Key": accounts.email_key(account.email),
                "ConditionExpression": mine_or_gone,
                "ExpressionAttributeValues": me,
            }
        },
        {
            "Delete": {
                "TableName": settings.tenants_table,
                "Key": accounts.holder_key(account.holder_id),
                "ConditionExpression": mine_or_gone,
                "ExpressionAttributeValues": me,
            }
        },
    ]
    store = tokens.TokenStore()
    for kind in _ACCOUNT_TOKEN_KINDS:
        for subject in dict.fromkeys((account.account_id, account.email)):
            items += store.revoke_items(kind, subject)
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            # Deleted (or changed) by a concurrent request: this token's account is gone.
            raise Unauthorized() from None
        raise
    count("AccountDeleted")
    send_best_effort(account_deleted_email(account), "account_deleted")


def account_deleted_email(account: Account) -> Email:
    return compose(
        "Votre compte a été supprimé",
        [
            greeting(account),
            "Votre compte de l'espace locataire de l'Office Public de l'Habitat d'Aubervilliers a été "
            "supprimé à votre demande : vos identifiants, votre adresse e-mail et vos sessions ont été effacés.",
            "Votre dossier de locataire, vos avis d'échéance, vos quittances et vos paiements restent "
            "conservés par l'Office, comme la loi l'exige.",
            "Vous pouvez créer un nouveau compte à tout moment avec votre numéro d'intitulé.",
            "Si vous n'êtes pas à l'origine de cette suppression, contactez l'Office.",
        ],
        to=account.email,
    )
