"""POST /v1/account/email and /email/confirm, and the /links/confirm-email page, in-process."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from oph.accounts.account_store import account_key, account_store, email_key, holder_key
from oph.accounts.token_store import hash_token
from oph.platform import aws, clock
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, make_account, make_tenant, tenant_with_login

DAY = 24 * 3600


def _problem(reply, status, code):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    assert body["request_id"] == reply.header("X-Request-Id")
    return body


def _fresh_email() -> str:
    return f"nouvelle.{uuid.uuid4().hex[:8]}@exemple.com"


def _request(client, login, new_email, password=PASSWORD):
    return client.post(
        "/v1/account/email", {"new_email": new_email, "current_password": password}, token=login.access_token
    )


def _mails_to(outbox, address):
    return [m for m in outbox() if address in m["to"]]


def _link_token(message) -> str:
    found = re.search(r"/links/confirm-email\?token=([A-Za-z0-9_-]+)", message["text"])
    assert found, message["text"]
    return found.group(1)


def _confirm(client, login, token):
    return client.post("/v1/account/email/confirm", {"token": token}, token=login.access_token)


def _item(key):
    return aws.dynamodb().get_item(TableName=get_settings().tenants_table, Key=key, ConsistentRead=True).get("Item")


def _email_owner(address):
    item = _item(email_key(address))
    return item["account_id"]["S"] if item else None


def _emails_of(account_id):
    """Every EMAIL# item that points to the account (there must be exactly one)."""
    items = aws.dynamodb().scan(TableName=get_settings().tenants_table)["Items"]
    return sorted(
        i["pk"]["S"].removeprefix("EMAIL#")
        for i in items
        if i["pk"]["S"].startswith("EMAIL#") and i["account_id"]["S"] == account_id
    )


@pytest.fixture
def me(runtime):
    return tenant_with_login()[1]


# -- the request


def test_request_sends_the_link_to_the_new_address_from_the_office(client, me, outbox):
    new = _fresh_email()
    reply = _request(client, me, new.upper())
    assert reply.status == 202, reply.text
    body = reply.json()
    assert body["pending_email"] == new  # normalised
    assert body["email"] == me.account.email

    [link_mail] = _mails_to(outbox, new)
    assert link_mail["from"] == "informatique@oph-aubervilliers.fr"
    assert link_mail["subject"] == "Confirmez votre nouvelle adresse e-mail"
    assert link_mail["html"] and link_mail["text"]
    assert "https://app.test/links/confirm-email?token=" in link_mail["text"]
    assert "24 heures" in link_mail["text"]
    assert "téléphone" in link_mail["text"]

    [notice] = _mails_to(outbox, me.account.email)
    assert notice["subject"] == "Demande de changement de votre adresse e-mail"
    assert "Si vous n'êtes pas à l'origine de cette demande" in notice["text"]
    assert "Mot de passe oublié" in notice["text"]
    assert "token=" not in notice["text"]  # the link only ever goes to the new address


def test_office_sender_is_configurable(client, me, outbox, monkeypatch):
    from oph.platform.settings import reset_caches

    monkeypatch.setenv("OFFICE_MAIL_FROM", "service.informatique@oph-aubervilliers.fr")
    reset_caches()
    new = _fresh_email()
    assert _request(client, me, new).status == 202
    assert _mails_to(outbox, new)[0]["from"] == "service.informatique@oph-aubervilliers.fr"


def test_old_email_keeps_working_until_confirmation(client, me, outbox):
    new = _fresh_email()
    _request(client, me, new)
    account = client.get("/v1/account", token=me.access_token).json()
    assert (account["email"], account["pending_email"]) == (me.account.email, new)
    assert _email_owner(me.account.email) == me.account.account_id
    assert _email_owner(new) is None  # a requested address is not reserved
    login = client.post("/v1/auth/login", {"email": me.account.email, "password": PASSWORD})
    assert login.status == 200
    assert client.post("/v1/auth/login", {"email": new, "password": PASSWORD}).status == 401


def test_pending_email_goes_back_to_null_after_24_hours(client, me, outbox, clock_offset):
    new = _fresh_email()
    _request(client, me, new)
    clock_offset(DAY - 60)
    fresh = log_in(me.account)
    assert client.get("/v1/account", token=fresh.access_token).json()["pending_email"] == new
    clock_offset(DAY + 1)
    fresh = log_in(me.account)
    assert client.get("/v1/account", token=fresh.access_token).json()["pending_email"] is None


def test_wrong_current_password_is_403_and_counts_toward_login_throttling(client, me, outbox, clock_offset):
    for _ in range(5):
        body = _problem(_request(client, me, _fresh_email(), "Mauvais-Mot-2-Passe"), 403, "current_password_invalid")
        assert body["title"] == "Le mot de passe actuel est incorrect."
    assert outbox() == []
    assert client.get("/v1/account", token=me.access_token).json()["pending_email"] is None
    # The 5th failure locks the login for a second, even with the right password.
    locked = client.post("/v1/auth/login", {"email": me.account.email, "password": PASSWORD})
    _problem(locked, 429, "too_many_requests")
    assert locked.header("Retry-After") == "1"
    # Routes that check a current password obey the same lock (contract section 3): 429
    # before the password is looked at, then the request goes through once the lock ends.
    _problem(_request(client, me, _fresh_email()), 429, "too_many_requests")
    clock_offset(2)
    assert _request(client, me, _fresh_email()).status == 202


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"new_email": "pas-une-adresse", "current_password": PASSWORD}, "new_email", "invalid_format"),
        ({"new_email": "a@b", "current_password": PASSWORD}, "new_email", "invalid_format"),
        ({"new_email": "a b@exemple.com", "current_password": PASSWORD}, "new_email", "invalid_format"),
        ({"new_email": "x" * 300 + "@exemple.com", "current_password": PASSWORD}, "new_email", "invalid_format"),
        ({"new_email": 42, "current_password": PASSWORD}, "new_email", "invalid_format"),
        ({"current_password": PASSWORD}, "new_email", "required"),
        ({"new_email": "ok@exemple.com"}, "current_password", "required"),
        ({"new_email": "ok@exemple.com", "current_password": ""}, "current_password", "required"),
        ({"new_email": "ok@exemple.com", "current_password": PASSWORD, "email": "x"}, "email", "unknown_field"),
    ],
)
def test_request_validation(client, me, outbox, body, field, code):
    reply = client.post("/v1/account/email", body, token=me.access_token)
    problem = _problem(reply, 422, "validation_error")
    assert (field, code) in [(e["field"], e["code"]) for e in problem["errors"]]
    assert all(e["message"] for e in problem["errors"])
    assert outbox() == []


def test_validation_comes_before_the_current_password(client, me, outbox):
    _problem(_request(client, me, "pas-une-adresse", "Mauvais-Mot-2-Passe"), 422, "validation_error")


def test_same_address_as_now_is_refused(client, me, outbox):
    body = _problem(_request(client, me, "  " + me.account.email.upper()), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("new_email", "invalid_format")]
    assert outbox() == []


def test_address_of_another_account_gets_the_same_answer_but_no_link(client, me, outbox):
    other = make_account(make_tenant())
    reply = _request(client, me, other.email)
    assert reply.status == 202
    assert reply.json()["pending_email"] == other.email
    assert client.get("/v1/account", token=me.access_token).json()["pending_email"] == other.email

    [to_owner] = _mails_to(outbox, other.email)
    assert to_owner["subject"] == "Tentative d'utilisation de votre adresse e-mail"
    assert "token=" not in to_owner["text"] and "token=" not in to_owner["html"]
    assert "Mot de passe oublié" in to_owner["text"]
    [notice] = _mails_to(outbox, me.account.email)
    assert notice["subject"] == "Demande de changement de votre adresse e-mail"
    assert _email_owner(other.email) == other.account_id


def test_old_address_notice_is_the_same_whether_the_new_one_is_taken_or_not(client, runtime, outbox):
    first, second = tenant_with_login()[1], tenant_with_login()[1]
    taken = make_account(make_tenant()).email
    free = _fresh_email()
    _request(client, first, taken)
    _request(client, second, free)

    def shape(message, login, new):
        return message["subject"], message["from"], message["text"].replace(login.account.email, "X").replace(new, "N")

    [a] = _mails_to(outbox, first.account.email)
    [b] = _mails_to(outbox, second.account.email)
    # Same words apart from the addresses and the minute the request was made.
    strip = lambda t: re.sub(r"\d\d/\d\d/\d{4} à \d\d:\d\d", "D", t)  # noqa: E731
    sa, sb = shape(a, first, taken), shape(b, second, free)
    assert (sa[0], sa[1], strip(sa[2])) == (sb[0], sb[1], strip(sb[2]))


def test_a_new_request_voids_the_earlier_link(client, me, outbox):
    first, second = _fresh_email(), _fresh_email()
    _request(client, me, first)
    old_token = _link_token(_mails_to(outbox, first)[0])
    _request(client, me, second)
    new_token = _link_token(_mails_to(outbox, second)[0])
    assert client.get("/v1/account", token=me.access_token).json()["pending_email"] == second
    _problem(_confirm(client, me, old_token), 400, "token_invalid")
    assert _confirm(client, me, new_token).json()["email"] == second


def test_requests_are_throttled_per_account(client, me, outbox):
    for _ in range(10):
        assert _request(client, me, _fresh_email()).status == 202
    reply = _request(client, me, _fresh_email())
    _problem(reply, 429, "too_many_requests")
    assert int(reply.header("Retry-After")) >= 1


# -- the confirmation


def test_confirm_swaps_the_address(client, me, outbox):
    old = me.account.email
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])

    reply = _confirm(client, me, token)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["email"] == new
    assert body["pending_email"] is None
    assert body["email_status"] == "ok"
    assert body["tenant_number"] == me.account.tenant_number

    assert _emails_of(me.account.account_id) == [new]
    assert _item(email_key(old)) is None
    assert client.post("/v1/auth/login", {"email": new, "password": PASSWORD}).status == 200
    assert client.post("/v1/auth/login", {"email": old, "password": PASSWORD}).status == 401
    # The old address is told the change happened.
    notices = [m for m in _mails_to(outbox, old) if m["subject"] == "Votre adresse e-mail a été modifiée"]
    assert len(notices) == 1
    # Single use.
    _problem(_confirm(client, me, token), 400, "token_invalid")


def test_confirm_resets_an_undeliverable_status(client, me, outbox):
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(me.account.account_id),
        UpdateExpression="SET email_status = :u",
        ExpressionAttributeValues={":u": {"S": "undeliverable"}},
    )
    new = _fresh_email()
    fresh = log_in(account_store().get(me.account.account_id))
    _request(client, fresh, new)
    assert _confirm(client, fresh, _link_token(_mails_to(outbox, new)[0])).json()["email_status"] == "ok"


def test_another_accounts_token_is_invalid(client, me, outbox):
    intruder = tenant_with_login()[1]
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    body = _problem(_confirm(client, intruder, token), 400, "token_invalid")
    assert body["title"] == "Ce lien n'est pas valide ou a déjà été utilisé."
    assert client.get("/v1/account", token=intruder.access_token).json()["email"] == intruder.account.email
    # The rightful holder can still use it.
    assert _confirm(client, me, token).status == 200


def test_expired_token_is_token_expired(client, me, outbox, clock_offset):
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    clock_offset(DAY + 1)
    fresh = log_in(me.account)
    body = _problem(_confirm(client, fresh, token), 400, "token_expired")
    assert body["title"] == "Ce lien a expiré."
    assert client.get("/v1/account", token=fresh.access_token).json()["email"] == me.account.email


@pytest.mark.parametrize("token", ["inconnu", "x" * 600, ""])
def test_unknown_token_is_token_invalid(client, me, token):
    _problem(_confirm(client, me, token), 400, "token_invalid")


def test_confirm_requires_authentication(client, me, outbox):
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    _problem(client.post("/v1/account/email/confirm", {"token": token}), 401, "unauthorized")
    assert _confirm(client, me, token).status == 200


def test_address_taken_before_confirmation_is_409_and_old_email_stays(client, me, outbox):
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    someone = make_account(make_tenant(), new)  # registers the address meanwhile

    body = _problem(_confirm(client, me, token), 409, "email_taken")
    assert body["title"] == "Cette adresse e-mail est déjà utilisée par un autre compte."
    assert client.get("/v1/account", token=me.access_token).json()["email"] == me.account.email
    assert _emails_of(me.account.account_id) == [me.account.email]
    assert _emails_of(someone.account_id) == [new]


def test_two_accounts_claiming_one_address_exactly_one_wins(client, runtime, outbox):
    a, b = tenant_with_login()[1], tenant_with_login()[1]
    new = _fresh_email()
    _request(client, a, new)
    _request(client, b, new)
    token_a, token_b = (_link_token(m) for m in _mails_to(outbox, new))

    assert _confirm(client, b, token_b).status == 200
    _problem(_confirm(client, a, token_a), 409, "email_taken")
    assert _email_owner(new) == b.account.account_id
    assert _emails_of(a.account.account_id) == [a.account.email]
    assert _emails_of(b.account.account_id) == [new]


def test_the_transaction_itself_refuses_a_claim_lost_after_the_check(client, runtime, outbox, monkeypatch):
    """Deterministic race: A passes the "is it free?" read, then B commits, then A's transaction."""
    from oph.accounts import email_change

    a, b = tenant_with_login()[1], tenant_with_login()[1]
    new = _fresh_email()
    _request(client, a, new)
    _request(client, b, new)
    token_a, token_b = (_link_token(m) for m in _mails_to(outbox, new))

    real_owner = email_change.email_owner

    def b_commits_between_check_and_write(address):
        seen = real_owner(address)  # A reads: nobody holds it yet...
        monkeypatch.setattr(email_change, "email_owner", real_owner)
        assert _confirm(client, b, token_b).status == 200  # ...then B wins meanwhile
        return seen

    monkeypatch.setattr(email_change, "email_owner", b_commits_between_check_and_write)
    _problem(_confirm(client, a, token_a), 409, "email_taken")

    assert _email_owner(new) == b.account.account_id
    stored_a = account_store().get(a.account.account_id)
    assert stored_a.email == a.account.email
    assert _emails_of(a.account.account_id) == [a.account.email]
    assert _emails_of(b.account.account_id) == [new]
    # Nothing of A's transaction was written: its token is still unused.
    token_item = aws.dynamodb().get_item(
        TableName=get_settings().tokens_table,
        Key={"pk": {"S": f"TOKEN#{hash_token(token_a)}"}, "sk": {"S": "TOKEN"}},
    )["Item"]
    assert "used_at" not in token_item


def test_address_of_an_expired_pending_account_can_be_taken(client, me, outbox):
    tenant = make_tenant()
    new = _fresh_email()
    pending = make_account(tenant, new)
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(pending.account_id),
        UpdateExpression="SET #s = :p, pending_expires_at = :x",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "pending"}, ":x": {"N": str(int(clock.now_ts()) - 1)}},
    )
    reply = _request(client, me, new)
    assert reply.status == 202
    [link] = [m for m in _mails_to(outbox, new) if m["subject"] == "Confirmez votre nouvelle adresse e-mail"]
    assert _confirm(client, me, _link_token(link)).status == 200
    assert _email_owner(new) == me.account.account_id
    # The expired pending account is gone with its holder item: its holder can register again.
    assert _item(account_key(pending.account_id)) is None
    assert _item(holder_key(pending.holder_id)) is None


def test_address_of_a_live_pending_account_is_taken(client, me, outbox):
    new = _fresh_email()
    pending = make_account(make_tenant(), new)
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(pending.account_id),
        UpdateExpression="SET #s = :p, pending_expires_at = :x",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "pending"}, ":x": {"N": str(int(clock.now_ts()) + 3600)}},
    )
    assert _request(client, me, new).status == 202
    assert [m["subject"] for m in _mails_to(outbox, new)] == ["Tentative d'utilisation de votre adresse e-mail"]


# -- the /links/confirm-email page


def test_page_tells_to_open_the_link_on_the_phone_and_never_consumes(client, me, outbox):
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    for _ in range(2):  # a mail scanner, then the person
        reply = client.get("/links/confirm-email", query=f"token={token}")
        assert reply.status == 200
        assert reply.header("Content-Type") == "text/html; charset=utf-8"
        assert reply.header("X-Request-Id")
        assert reply.header("Referrer-Policy") == "no-referrer"
        assert "default-src 'none'" in reply.header("Content-Security-Policy")
        assert '<html lang="fr">' in reply.text
        assert "téléphone où l'application Mon espace locataire est installée" in reply.text
        assert "Ouvrir dans l'application" in reply.text
        assert "<script" not in reply.text
    assert _confirm(client, me, token).status == 200


@pytest.mark.parametrize("query", ["token=inconnu", "", "token="])
def test_page_with_a_dead_link_is_a_french_error_page(client, runtime, query):
    reply = client.get("/links/confirm-email", query=query)
    assert reply.status == 400
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    text = html.unescape(reply.text)
    assert "Ce lien n'est pas valide ou a déjà été utilisé." in text
    assert "refaites la demande depuis l'application" in text


def test_page_with_an_expired_link_says_so(client, me, outbox, clock_offset):
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    clock_offset(DAY + 1)
    reply = client.get("/links/confirm-email", query=f"token={token}")
    assert reply.status == 400
    assert "Ce lien a expiré." in reply.text


def test_page_escapes_what_it_echoes(client, me, outbox):
    new = _fresh_email()
    _request(client, me, new)
    token = _link_token(_mails_to(outbox, new)[0])
    reply = client.get("/links/confirm-email", query=f"token={token}&x=<script>")
    assert reply.status == 200
    assert "<script>" not in reply.text
