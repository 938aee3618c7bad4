"""What the office's admins do by hand: disable or re-enable an online account.

The runbook (DynamoDB console, TenantsTable) and this function make the same change on the
item ``ACCOUNT#<account id>`` / ``ACCOUNT`` (found through ``EMAIL#<e-mail>`` / ``EMAIL``):
``disabled`` set to true or false and, when disabling, ``session_generation`` incremented so
every token issued before is refused from its next use on (after re-enabling, the holder
logs in again). While ``disabled`` is true, every authenticated request and every login with
the right password answers 403 ``account_disabled``.
"""

from __future__ import annotations

from typing import Any

from oph.accounts.model import AccountRepository, account_key
from oph.platform import aws
from oph.platform.observability import count, get_logger
from oph.platform.settings import get_settings


def set_disabled(email: str, disabled: bool) -> bool:
    """Disable (revoking every session) or re-enable the account of ``email``; False if none."""
    account = AccountRepository().get_by_email(email)
    if account is None:
        return False
    expression = "SET disabled = :d ADD session_generation :one" if disabled else "SET disabled = :d"
    values: dict[str, dict[str, Any]] = {":d": {"BOOL": bool(disabled)}}
    if disabled:
        values[":one"] = {"N": "1"}
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=get_settings().tenants_table,
                Key=account_key(account.account_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
    except Exception as exc:
        if aws.is_conditional_failure(exc):  # deleted meanwhile
            return False
        raise
    count("AccountsDisabled" if disabled else "AccountsEnabled")
    get_logger().info("account status changed by an admin", extra={"account": account.account_id, "disabled": disabled})
    return True
