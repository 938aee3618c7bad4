"""Account deletion (``DELETE /v1/account``, contract section 4) across contexts.

The accounts context deletes the online account (:func:`oph.accounts.profile.delete_account`);
what higher contexts hold of it changes in the SAME transaction, so a failure leaves the
account and everything naming it as they were, and the retry deletes all:

- direct-debit mandates (:mod:`oph.payments.mandate_store`): a mandate belongs to the tenancy
  and is legally retained (the office and the bank keep the authorisation it gave), so it
  stays, with its status, masked IBAN and document; only its link to the deleted account
  (``signed_by``) is removed. Co-holders keep seeing it; the export and the office's report
  go on as before; its e-mails then have nobody to go to.

The accounts context cannot import these (it is below them); this module, above both, composes.
"""

from __future__ import annotations

from oph.accounts.model import Account
from oph.accounts.profile import delete_account as delete_online_account
from oph.payments.mandate_store import mandate_store


def delete_account(account: Account, current_password: str) -> None:
    delete_online_account(
        account,
        current_password,
        also=lambda: mandate_store().unlink_signer_items(account.tenant_number, account.account_id),
    )
