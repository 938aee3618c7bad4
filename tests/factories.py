"""Factories for the state most tests start from: a holder in the office's records, an
active account, a logged-in session. They write what the real use cases write, through the
same stores' public methods (the real stores, or their twins inside
``tests.twins.accounts.memory_accounts``), so a test needs no registration round-trip to get
a token. End-to-end tests go through the real API instead.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from oph.accounts import model as accounts
from oph.accounts.account_store import account_store
from oph.accounts.session_store import session_store
from oph.platform import clock
from oph.platform.transaction import Transaction
from oph.platform.validation import normalize_email
from oph.tenancy.model import Holder, Tenancy
from oph.tenancy.store import tenancy_store

PASSWORD = "Correct-Cheval-Pile-42"


@dataclass
class Tenant:
    holder: Holder
    tenancy: Tenancy


@dataclass
class LoggedIn:
    account: accounts.Account
    access_token: str
    session_id: str
    password: str


def make_tenant(
    tenant_number: str | None = None,
    last_name: str = "MARTIN",
    first_name: str = "Sophie",
    birth_date: str = "1980-02-29",
    balance_cents: int = 0,
    balance_date: str = "2019-05-23",
) -> Tenant:
    number = tenant_number or str(secrets.randbelow(900000) + 100000)
    holder = Holder(number, last_name, first_name, birth_date)
    tenancy = Tenancy(
        tenant_number=number,
        contract_number=f"C{number}-01",
        third_party_number=f"T{number}",
        address_line1="12 Rue du Moutier",
        postal_code="93300",
        city="AUBERVILLIERS",
        balance_cents=balance_cents,
        balance_date=balance_date,
    )
    repo = tenancy_store()
    repo.put_holder(holder)
    repo.put_tenancy(tenancy)
    return Tenant(holder, tenancy)


def make_account(tenant: Tenant, email: str | None = None, password: str = PASSWORD) -> accounts.Account:
    from oph.accounts.passwords import hash_password

    account = accounts.Account(
        account_id=str(uuid.uuid4()),
        tenant_number=tenant.holder.tenant_number,
        holder_id=tenant.holder.holder_id,
        email=normalize_email(email or f"{uuid.uuid4().hex[:10]}@exemple.com"),
        status=accounts.ACTIVE,
        password_hash=hash_password(password),
        first_name=tenant.holder.first_name,
        last_name=tenant.holder.last_name,
        created_at=clock.iso_instant(),
        verified_at=clock.iso_instant(),
        terms_version="2024-01",
        terms_accepted_at=clock.iso_instant(),
    )
    store = account_store()
    Transaction(
        store.create_item(account),
        store.put_email_pointer_item(account.email, account.account_id, previous=None),
        store.put_holder_pointer_item(account.holder_id, account.account_id, previous=None),
    ).commit()
    return account


def log_in(account: accounts.Account, password: str = PASSWORD) -> LoggedIn:
    """A live session and its access token, as a successful login leaves them."""
    from oph.accounts.access_tokens import issue_access_token
    from oph.accounts.sessions import REFRESH_TTL, hash_refresh_token

    session_id = str(uuid.uuid4())
    now = int(clock.now_ts())
    refresh_hash = hash_refresh_token(secrets.token_urlsafe(32))
    session = accounts.Session(
        session_id, account.account_id, account.session_generation, now + REFRESH_TTL, refresh_hash
    )
    Transaction(session_store().create_items(session, now)).commit()
    token = issue_access_token(account.account_id, session_id, account.session_generation)
    return LoggedIn(account, token, session_id, password)


def tenant_with_login(email: str | None = None, **tenant_kwargs: object) -> tuple[Tenant, LoggedIn]:
    tenant = make_tenant(**tenant_kwargs)  # type: ignore[arg-type]
    return tenant, log_in(make_account(tenant, email))
