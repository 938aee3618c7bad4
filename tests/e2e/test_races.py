"""Races with real threads against the local server (its workers run requests concurrently,
as concurrent Lambda invocations do). Complements the races already covered elsewhere:
one registration token submitted 20 times, 20 registrations for one holder and for one
e-mail (test_register_flow), two accounts confirming one address (test_account_flows), ten
uses of one refresh token and concurrent failed logins (test_auth_flow), double-tap payment
creation with one key and ten copies of a success notification (test_payments_e2e).

Here: rotated refresh tokens reused while the successor is used, refresh against logout,
password change and deletion, logins against a password change, one verification or reset
link used concurrently, an address claimed at once by an e-mail change and a registration,
concurrent e-mail change requests, one idempotency key with different bodies, mixed
succeeded/refused/abandoned notifications at once, and one quittance asked for at once.
Every scenario runs several rounds, each released by a barrier.
"""

from __future__ import annotations

import random
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Cheval-Pile-42"
NEW_PASSWORD = "Velo-Rouge-Tulipe-93"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TENANTS_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)
NOTICES_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"
ROUNDS = 3
RACES = {"runs": 0, "requests": 0}


# ---------------------------------------------------------------- helpers
def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run every call in its own thread, all released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    RACES["runs"] += 1
    RACES["requests"] += len(calls)
    for result in results:
        assert not isinstance(result, Exception), repr(result)
        assert result.status < 500, result.text
    return results


def _import(api, kind: str, csv: str) -> None:
    reply = api.request(
        "POST",
        f"/_dev/imports/{kind}",
        query=f"name=race-{uuid.uuid4().hex[:12]}.csv",
        body=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 200, reply.text
    assert reply.json()["rows_rejected"] == 0, reply.text


def new_holder(api, first_name: str = "Sophie", balance: str = "0,00", balance_date: str = "23/05/2019") -> dict:
    number = str(secrets.randbelow(10**8) + 10**8)
    _import(
        api,
        "tenants",
        f"{TENANTS_HEADER}\n{number};MARTIN;{first_name};1980-02-29;C{number};T{number};"
        f"12 Rue du Moutier;93300;AUBERVILLIERS;{balance};{balance_date}\n",
    )
    return {"tenant_number": number, "last_name": "MARTIN", "first_name": first_name, "birth_date": "1980-02-29"}


def new_email(prefix: str = "course") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@exemple.com"


def step2(api, identity: dict, email: str) -> Any:
    first = api.post("/v1/registrations/identity", identity)
    assert first.status == 200, first.text
    return api.post(
        "/v1/registrations",
        {
            "registration_token": first.json()["registration_token"],
            "email": email,
            "email_confirmation": email,
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "accept_terms": True,
        },
    )


def links(api, email: str, page: str) -> list[str]:
    found = []
    for message in api.outbox():
        if email in message["to"]:
            found += re.findall(rf"/links/{page}\?token=([A-Za-z0-9_%-]+)", message["text"])
    return found


def registered(api, identity: dict | None = None) -> tuple[str, dict]:
    """A verified account; (e-mail, its first token pair)."""
    identity = identity or new_holder(api)
    email = new_email()
    assert step2(api, identity, email).status == 201
    [link] = links(api, email, "verify-email")
    assert api.post("/v1/registrations/verify", {"token": link}).status == 200
    return email, login(api, email)


def login(api, email: str, password: str = PASSWORD) -> dict:
    reply = api.post("/v1/auth/login", {"email": email, "password": password})
    assert reply.status == 200, reply.text
    return dict(reply.json())


def refused(api, pair: dict) -> None:
    """Neither token of the pair works any more."""
    reply = api.get("/v1/account", token=pair["access_token"])
    assert reply.status == 401 and reply.json()["code"] == "unauthorized", reply.text
    assert api.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status == 401


def works(api, pair: dict) -> None:
    assert api.get("/v1/account", token=pair["access_token"]).status == 200


def refresh(api, token: str) -> Callable[[], Any]:
    return lambda: api.post("/v1/auth/refresh", {"refresh_token": token})


# ---------------------------------------------------------------- sessions
def test_rotated_token_reused_while_the_successor_is_used_kills_the_family(api):
    """Whatever the order, the reuse of a rotated token revokes the whole family: neither
    the successor's successor nor any access token of it survives."""
    email, first = registered(api)
    for _ in range(ROUNDS):
        pair = login(api, email)
        second = api.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).json()
        reuse, rotate = at_once(refresh(api, pair["refresh_token"]), refresh(api, second["refresh_token"]))
        assert reuse.status == 401
        assert rotate.status in (200, 401)
        for dead in (pair, second, *([rotate.json()] if rotate.status == 200 else [])):
            refused(api, dead)
    works(api, first)  # other sessions of the account are untouched


def test_refresh_racing_logout_leaves_nothing_alive(api):
    email, _ = registered(api)
    for _ in range(ROUNDS):
        pair = login(api, email)
        rotated, out = at_once(
            refresh(api, pair["refresh_token"]),
            lambda pair=pair: api.post("/v1/auth/logout", {"refresh_token": pair["refresh_token"]}),
        )
        assert out.status == 204 and rotated.status in (200, 401)
        refused(api, pair)
        if rotated.status == 200:
            refused(api, rotated.json())


def test_refresh_and_login_racing_a_password_change_cannot_outlive_it(api):
    email, _ = registered(api)
    password = PASSWORD
    for round_ in range(ROUNDS):
        new = f"{NEW_PASSWORD}{round_}"
        pair = login(api, email, password)
        other = login(api, email, password)
        change, rotated, logged = at_once(
            lambda pair=pair, password=password, new=new: api.put(
                "/v1/account/password",
                {"current_password": password, "new_password": new, "new_password_confirmation": new},
                token=pair["access_token"],
            ),
            refresh(api, other["refresh_token"]),
            lambda password=password: api.post("/v1/auth/login", {"email": email, "password": password}),
        )
        assert change.status == 200, change.text
        assert rotated.status in (200, 401) and logged.status in (200, 401)
        for dead in (pair, other, *(r.json() for r in (rotated, logged) if r.status == 200)):
            refused(api, dead)
        works(api, change.json())
        password = new


def test_refresh_racing_deletion_leaves_nothing_alive(api):
    for _ in range(ROUNDS):
        email, pair = registered(api)
        other = login(api, email)
        deleted, rotated = at_once(
            lambda pair=pair: api.delete("/v1/account", {"current_password": PASSWORD}, token=pair["access_token"]),
            refresh(api, other["refresh_token"]),
        )
        assert deleted.status == 204 and rotated.status in (200, 401)
        for dead in (pair, other, *([rotated.json()] if rotated.status == 200 else [])):
            refused(api, dead)
        assert api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).status == 401


def test_ten_concurrent_logins_then_a_password_change_revokes_all_ten(api):
    email, first = registered(api)
    replies = at_once(*[lambda: api.post("/v1/auth/login", {"email": email, "password": PASSWORD})] * 10)
    pairs = [r.json() for r in replies]
    assert all(r.status == 200 for r in replies)
    assert len({p["refresh_token"] for p in pairs}) == 10
    change = api.put(
        "/v1/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD},
        token=first["access_token"],
    )
    assert change.status == 200
    for pair in (first, *pairs):
        refused(api, pair)


# ---------------------------------------------------------------- links
def test_one_verification_link_used_ten_times_at_once_activates_once(api):
    for _ in range(ROUNDS):
        email = new_email()
        assert step2(api, new_holder(api), email).status == 201
        [link] = links(api, email, "verify-email")
        replies = at_once(*[lambda link=link: api.post("/v1/registrations/verify", {"token": link})] * 10)
        assert sorted(r.status for r in replies) == [200] + [400] * 9
        assert {r.json()["code"] for r in replies if r.status == 400} == {"token_invalid"}
        assert api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).status == 200


def test_one_reset_link_used_at_once_with_two_passwords_sets_exactly_one(api):
    for round_ in range(ROUNDS):
        email, pair = registered(api)
        assert api.post("/v1/auth/password/forgot", {"email": email}).status == 202
        [link] = links(api, email, "reset-password")
        candidates = [f"{NEW_PASSWORD}{round_}{i}" for i in range(4)]
        replies = at_once(
            *[
                lambda p=p, link=link: api.post(
                    "/v1/auth/password/reset", {"token": link, "password": p, "password_confirmation": p}
                )
                for p in candidates
            ]
        )
        assert sorted(r.status for r in replies) == [204, 400, 400, 400]
        winner = candidates[[r.status for r in replies].index(204)]
        refused(api, pair)
        assert api.post("/v1/auth/login", {"email": email, "password": winner}).status == 200
        losers = [p for p in candidates if p != winner]
        assert api.post("/v1/auth/login", {"email": email, "password": losers[0]}).status == 401


# ---------------------------------------------------------------- e-mail claims
def test_an_address_claimed_at_once_by_an_email_change_and_a_registration_has_one_owner(api):
    for _ in range(ROUNDS):
        email, pair = registered(api)
        wanted = new_email("convoitee")
        assert (
            api.post(
                "/v1/account/email", {"new_email": wanted, "current_password": PASSWORD}, token=pair["access_token"]
            ).status
            == 202
        )
        [confirm_link] = links(api, wanted, "confirm-email")
        other = new_holder(api, "Paul")
        first = api.post("/v1/registrations/identity", other).json()["registration_token"]
        body = {
            "registration_token": first,
            "email": wanted,
            "email_confirmation": wanted,
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "accept_terms": True,
        }
        confirm, register = at_once(
            lambda pair=pair, link=confirm_link: api.post(
                "/v1/account/email/confirm", {"token": link}, token=pair["access_token"]
            ),
            lambda body=body: api.post("/v1/registrations", body),
        )
        assert register.status == 201, register.text  # same answer whoever won
        verify_links = links(api, wanted, "verify-email")
        if confirm.status == 200:
            assert verify_links == []  # the registration saw the address taken: a notice, no account
            assert api.post("/v1/auth/login", {"email": wanted, "password": PASSWORD}).status == 200
            assert api.post("/v1/registrations/identity", other).status == 200  # Paul has no account
        else:
            assert confirm.status == 409 and confirm.json()["code"] == "email_taken", confirm.text
            assert api.get("/v1/account", token=pair["access_token"]).json()["email"] == email
            [link] = verify_links
            assert api.post("/v1/registrations/verify", {"token": link}).status == 200
            assert api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).status == 200
        assert api.post("/v1/auth/login", {"email": wanted, "password": PASSWORD}).status == 200


def test_concurrent_change_requests_leave_one_working_link(api):
    for _ in range(ROUNDS):
        _email, pair = registered(api)
        targets = [new_email("cible") for _ in range(4)]
        replies = at_once(
            *[
                lambda t=t, pair=pair: api.post(
                    "/v1/account/email", {"new_email": t, "current_password": PASSWORD}, token=pair["access_token"]
                )
                for t in targets
            ]
        )
        assert all(r.status == 202 for r in replies)
        pending = api.get("/v1/account", token=pair["access_token"]).json()["pending_email"]
        assert pending in targets
        results = {
            t: api.post("/v1/account/email/confirm", {"token": link}, token=pair["access_token"]).status
            for t in targets
            for link in links(api, t, "confirm-email")
        }
        assert list(results.values()).count(200) == 1, results
        assert results[pending] == 200  # the request the account shows is the one that works
        assert api.get("/v1/account", token=pair["access_token"]).json()["email"] == pending


# ---------------------------------------------------------------- payments
@pytest.fixture
def payer(api) -> tuple[str, str, str]:
    from tests.e2e.test_payments_e2e import _register_and_log_in

    return _register_and_log_in(api)


def test_one_key_with_different_amounts_at_once_gives_one_payment(api, payer):
    _, _, token = payer
    for _ in range(ROUNDS):
        key = str(uuid.uuid4())
        amounts = [22000, 22000, 15000, 30000, 22000, 15000]
        replies = at_once(
            *[
                lambda a=a, key=key: api.post(
                    "/v1/payments", {"amount_cents": a}, token=token, headers={"Idempotency-Key": key}
                )
                for a in amounts
            ]
        )
        statuses = [r.status for r in replies]
        assert statuses.count(201) == 1, statuses
        winner = replies[statuses.index(201)].json()
        for amount, reply in zip(amounts, replies, strict=True):
            if amount == winner["amount_cents"]:
                assert reply.status in (200, 201) and reply.json() == winner
            else:
                assert reply.status == 409 and reply.json()["code"] == "idempotency_conflict"
    assert len(api.get("/v1/payments", token=token).json()["items"]) == ROUNDS


def test_mixed_notifications_at_once_succeeded_wins_once(api, payer):
    """The sandbox gateway's own signed notifications (paid, refused, cancelled), sent at once
    by concurrent submits of its page: the success wins, once, and nothing moves it after."""
    from tests.e2e.test_payments_e2e import _hidden_fields, _path

    _, email, token = payer
    paid, refused, cancel = {"card_number": "4970 1000 0000 0003"}, {"card_number": "4970100000000014"}, {"cancel": "1"}
    for _ in range(2 * ROUNDS):
        payment = api.post(
            "/v1/payments", {"amount_cents": 12345}, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
        ).json()
        path, query = _path(payment["checkout_url"])
        form = _hidden_fields(api.get(path, query=query).text)
        # At most three at once: each submit holds a worker of the local server while the
        # sandbox delivers its notification to that same server.
        choices = [refused, paid, cancel]
        random.shuffle(choices)
        replies = at_once(
            *[
                lambda c=c, form=form: api.request(
                    "POST", "/sandbox/payment/submit", body=urlencode({**form, **c}), headers=FORM
                )
                for c in choices
            ]
        )
        assert all(r.status == 303 for r in replies), [r.status for r in replies]
        got = api.get(f"/v1/payments/{payment['id']}", token=token).json()
        assert got["status"] == "succeeded" and got["paid_at"], got
        for late in (refused, cancel):  # late copies never move it again
            again = api.request("POST", "/sandbox/payment/submit", body=urlencode({**form, **late}), headers=FORM)
            assert again.status == 303
        assert api.get(f"/v1/payments/{payment['id']}", token=token).json() == got
        mails = [m for m in api.outbox() if email in m["to"] and payment["id"] in m["text"]]
        assert len(mails) == 1, [m["subject"] for m in mails]
        documents = api.get("/v1/documents", query="type=payment_receipt", token=token).json()["items"]
        assert [d["id"] for d in documents].count(f"payment-{payment['id']}") == 1


# ---------------------------------------------------------------- quittance
def test_one_quittance_asked_for_at_once_is_made_once(api):
    identity = new_holder(api, balance="0,00", balance_date="30/06/2019")
    number = identity["tenant_number"]
    _import(
        api,
        "notices",
        f"{NOTICES_HEADER}\n"
        f"{number};2019-05;2019-05-24;2019-06-10;Loyer;rent;175,03;;\n"
        f"{number};2019-05;2019-05-24;2019-06-10;Provisions pour charges;charges;44,97;;\n"
        f"{number};2019-04;2019-04-24;2019-05-10;Loyer;rent;175,03;;\n",
    )
    _, pair = registered(api, identity)
    token = pair["access_token"]
    for period in ("2019-05", "2019-04"):
        replies = at_once(
            *[lambda period=period: api.post("/v1/documents/receipts", {"period": period}, token=token)] * 6
        )
        statuses = sorted(r.status for r in replies)
        assert statuses == [200] * 5 + [201], statuses
        assert len({r.json()["id"] for r in replies}) == 1
    receipts = api.get("/v1/documents", query="type=receipt", token=token).json()["items"]
    assert sorted(r["period"] for r in receipts) == ["2019-04", "2019-05"]


@pytest.fixture(scope="module", autouse=True)
def _report(request) -> Any:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"races: {RACES['runs']} concurrent runs, {RACES['requests']} requests")


def _post_from(server: str, source: str, path: str, body: dict) -> Any:
    """POST from another loopback address (so these failures never throttle the other tests)."""
    import http.client
    import json
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        reply = connection.getresponse()
        text = reply.read().decode()
    finally:
        connection.close()
    return SimpleNamespace(status=reply.status, text=text)


def test_thirty_guesses_at_once_cannot_slip_past_the_step_one_limit(api, server):
    # Security revision 4: the limiter's check and count were two operations, so a burst of
    # guesses could all pass an unlocked counter. Now each attempt is charged in one
    # conditional write: at most 10 failures are ever counted, the rest are 429.
    identity = new_holder(api)
    wrong = {**identity, "birth_date": "1999-12-31"}
    answers = at_once(*[lambda: _post_from(server, "127.0.0.3", "/v1/registrations/identity", wrong)] * 30)
    statuses = sorted(a.status for a in answers)
    assert statuses.count(400) <= 10, statuses
    assert set(statuses) <= {400, 429}
    right = _post_from(server, "127.0.0.4", "/v1/registrations/identity", identity)
    assert right.status == 429, right.text  # the number is locked for the hour, correct answers included
