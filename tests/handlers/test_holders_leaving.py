"""Security revision 4, finding 2: a co-holder removed from the office's records loses access.

A tenants file is complete for every tenancy it lists (contract section 5): a holder an
earlier file listed and this one does not has left the tenancy. Their online account is
disabled from the next request on (403 ``account_disabled``, sessions revoked, no more
e-mails, data kept), they cannot register again, and a later file that lists them again gives
it back: they log in again as before. On the code before the fix the leaver kept full access.
"""

from __future__ import annotations

import uuid

import pytest

from oph.accounts.account_store import account_store
from oph.tenancy.model import Holder
from tests.factories import PASSWORD, Tenant, log_in, make_account
from tests.handlers.test_import_support import NOTICE_HEADER, TENANT_HEADER, csv_bytes, run_import

NUMBER = "424242"


def _row(last: str, first: str, born: str) -> str:
    return f"{NUMBER};{last};{first};{born};C-{NUMBER};T-{NUMBER};3 Rue du Port;93300;AUBERVILLIERS;100,00;23/05/2019"


ALICE = ("MOREAU", "Alice", "1970-01-01")
BRUNO = ("MOREAU", "Bruno", "1971-02-02")


def _tenants(runtime, aws, *holders) -> dict:
    report = run_import(
        runtime, aws, "tenants", f"t-{uuid.uuid4().hex[:6]}.csv", csv_bytes(TENANT_HEADER, [_row(*h) for h in holders])
    )
    assert report["rows_rejected"] == 0, report
    return report


@pytest.fixture
def couple(runtime, aws):
    _tenants(runtime, aws, ALICE, BRUNO)
    from oph.tenancy.store import TenancyStore

    tenancy = TenancyStore().get_tenancy(NUMBER)
    alice = make_account(Tenant(Holder(NUMBER, *ALICE), tenancy), f"alice.{uuid.uuid4().hex[:6]}@exemple.com")
    bruno = make_account(Tenant(Holder(NUMBER, *BRUNO), tenancy), f"bruno.{uuid.uuid4().hex[:6]}@exemple.com")
    return alice, bruno


def test_a_holder_missing_from_a_later_file_loses_access_at_once(client, runtime, aws, couple, outbox):
    alice, bruno = couple
    bruno_session = log_in(bruno)
    assert client.get("/v1/account", token=bruno_session.access_token).status == 200
    _tenants(runtime, aws, ALICE)  # the office's new file no longer lists Bruno
    reply = client.get("/v1/account", token=bruno_session.access_token)
    assert reply.status == 403 and reply.json()["code"] == "account_disabled"
    login = client.post("/v1/auth/login", {"email": bruno.email, "password": PASSWORD})
    assert login.status == 403 and login.json()["code"] == "account_disabled"
    identity = {"tenant_number": NUMBER, "last_name": BRUNO[0], "first_name": BRUNO[1], "birth_date": BRUNO[2]}
    assert client.post("/v1/registrations/identity", identity).json()["code"] == "identity_mismatch"
    assert account_store().get(bruno.account_id) is not None  # data kept
    # No more e-mails about the tenancy: a new notice reaches Alice only.
    outbox_before = len(outbox())
    notice = f"{NUMBER};2019-06;24/06/2019;10/07/2019;Loyer Foyer;rent;175,03;;"
    run_import(runtime, aws, "notices", f"n-{uuid.uuid4().hex[:6]}.csv", csv_bytes(NOTICE_HEADER, [notice]))
    recipients = {address for m in outbox()[outbox_before:] for address in m["to"]}
    assert bruno.email not in recipients
    assert client.get("/v1/account", token=log_in(alice).access_token).status == 200  # the other holder keeps access


def test_a_holder_listed_again_logs_in_again_as_before(client, runtime, aws, couple):
    _, bruno = couple
    old = log_in(bruno)
    _tenants(runtime, aws, ALICE)
    _tenants(runtime, aws, ALICE, BRUNO)  # listed again
    assert client.get("/v1/account", token=old.access_token).status == 401  # sessions were revoked
    assert client.post("/v1/auth/login", {"email": bruno.email, "password": PASSWORD}).status == 200
    identity = {"tenant_number": NUMBER, "last_name": BRUNO[0], "first_name": BRUNO[1], "birth_date": BRUNO[2]}
    assert client.post("/v1/registrations/identity", identity).json()["code"] == "account_exists"


def test_an_account_an_admin_disabled_stays_disabled_when_the_holder_is_listed_again(client, runtime, aws, couple):
    from oph.accounts.admin import set_disabled

    _, bruno = couple
    _tenants(runtime, aws, ALICE)
    assert set_disabled(bruno.email, True)  # the office also disables it, for its own reason
    _tenants(runtime, aws, ALICE, BRUNO)
    login = client.post("/v1/auth/login", {"email": bruno.email, "password": PASSWORD})
    assert login.status == 403 and login.json()["code"] == "account_disabled"
