"""Step 1: POST /v1/registrations/identity — matching, one mismatch answer, throttling."""

from __future__ import annotations

import pytest

from oph.platform import aws
from oph.platform.office import get_office
from oph.tenancy.model import Holder
from oph.tenancy.store import TenancyStore
from tests.factories import make_account, make_tenant
from tests.handlers.test_register_support import identity, new_email, problem, register

PATH = "/v1/registrations/identity"


def test_demo_tenant_gets_a_registration_token(client, demo_tenant):
    reply = client.post(PATH, json=demo_tenant)
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type").startswith("application/json")
    body = reply.json()
    assert set(body) == {"registration_token", "expires_in", "first_name", "last_name"}
    assert body["expires_in"] == 1800
    assert (body["first_name"], body["last_name"]) == ("Jean", "DUPOND")
    assert len(body["registration_token"]) >= 22  # >= 128 random bits


@pytest.mark.parametrize(
    ("recorded", "typed"),
    [
        (("JEAN-PIERRE", "N'DIAYE"), ("Jean Pierre", "ndiaye")),
        (("Jean-Pierre", "N’Diaye"), ("JEAN PIERRE", "N DIAYE")),
        (("HÉLÈNE", "LE BRIS"), ("Helene", "le-bris")),
        (("Hélène", "Lebris"), ("HELENE", "LE BRIS")),
        (("Élodie", "D'Aubigné"), ("elodie", "  d aubigne ")),
    ],
)
def test_names_compare_on_letters_only(client, runtime, recorded, typed):
    tenant = make_tenant(first_name=recorded[0], last_name=recorded[1])
    body = {**identity(tenant), "first_name": typed[0], "last_name": typed[1]}
    reply = client.post(PATH, json=body)
    assert reply.status == 200, reply.text
    assert (reply.json()["first_name"], reply.json()["last_name"]) == recorded  # as the records write them


@pytest.mark.parametrize("typed", ["00{n}", " {n} ", "{a} {b}", "0 0{a}  {b}"])
def test_spaces_and_leading_zeros_in_the_tenant_number_are_ignored(client, runtime, typed):
    tenant = make_tenant()
    number = tenant.holder.tenant_number
    body = {**identity(tenant), "tenant_number": typed.format(n=number, a=number[:3], b=number[3:])}
    assert client.post(PATH, json=body).status == 200


def _mismatch_causes(tenant):
    good = identity(tenant)
    return {
        "unknown tenant number": {**good, "tenant_number": "999999999"},
        "wrong last name": {**good, "last_name": "DURAND"},
        "wrong first name": {**good, "first_name": "Paul"},
        "birth date one day off": {**good, "birth_date": "1980-03-01"},
        "birth date of a co-holder": {**good, "birth_date": "1975-09-10"},
        "garbage tenant number": {**good, "tenant_number": "ABC-\u00e9" + "9" * 80},
    }


def test_mismatch_answer_is_byte_identical_whatever_the_cause(client, runtime):
    tenant = make_tenant(birth_date="1980-02-29")
    replies = {
        cause: client.post(PATH, json=body, ip=f"198.51.100.{i}")
        for i, (cause, body) in enumerate(_mismatch_causes(tenant).items())
    }
    normalised = set()
    for cause, reply in replies.items():
        body = problem(reply, 400, "identity_mismatch")
        assert body["title"] == (
            "Les informations saisies ne correspondent pas à celles de l'Office. Votre numéro d'intitulé est à "
            f"retrouver sur vos avis d'échéance. En cas de difficulté, contactez l'Office au {get_office().phone}."
        ), cause
        headers = {k: v for k, v in reply.headers.items() if k != "X-Request-Id"}
        normalised.add(
            (reply.status, reply.body.replace(body["request_id"].encode(), b""), tuple(sorted(headers.items())))
        )
    assert len(normalised) == 1, normalised


def test_mismatch_does_the_same_database_work_whatever_the_cause(client, runtime):
    """No timing difference worth measuring: the same DynamoDB calls for every cause."""
    causes = list(_mismatch_causes(make_tenant()))
    calls: list[str] = []
    db = aws.dynamodb()

    def record(model, params, **_):
        calls.append(model.name)

    db.meta.events.register("before-call.dynamodb", record)
    try:
        sequences = set()
        for i, cause in enumerate(causes):
            body = _mismatch_causes(make_tenant())[cause]  # fresh tenant and address: first failure for both
            calls.clear()
            assert client.post(PATH, json=body, ip=f"198.51.100.{50 + i}").status == 400
            sequences.add(tuple(calls))
    finally:
        db.meta.events.unregister("before-call.dynamodb", record)
    assert len(sequences) == 1, sequences
    assert "Query" in next(iter(sequences))


def test_missing_and_malformed_fields_are_422_listing_every_field(client, runtime):
    body = problem(
        client.post(
            PATH, json={"tenant_number": " ", "last_name": "", "first_name": "Jean", "birth_date": "10/09/1975"}
        ),
        422,
        "validation_error",
    )
    codes = {e["field"]: e["code"] for e in body["errors"]}
    assert codes == {"tenant_number": "required", "last_name": "required", "birth_date": "invalid_format"}
    body = problem(client.post(PATH, json={"tenant_number": "123456"}), 422, "validation_error")
    assert {e["field"] for e in body["errors"]} == {"last_name", "first_name", "birth_date"}
    body = problem(
        client.post(PATH, json={"tenant_number": "1", "last_name": "A", "first_name": "B", "birth_date": "1975-02-30"}),
        422,
        "validation_error",
    )
    assert body["errors"][0]["field"] == "birth_date"


def test_lone_surrogates_and_huge_values_never_cause_a_500(client, runtime):
    for body in (
        {"tenant_number": "\ud800", "last_name": "A", "first_name": "B", "birth_date": "1975-09-10"},
        {"tenant_number": "1" * 4000, "last_name": "É" * 4000, "first_name": "B", "birth_date": "1975-09-10"},
        {"tenant_number": 123456, "last_name": None, "first_name": ["x"], "birth_date": 19750910},
    ):
        reply = client.post(PATH, json=body)
        assert reply.status in (400, 422), reply.text


def test_active_account_is_409_and_not_counted_as_a_failure(client, runtime):
    tenant = make_tenant()
    make_account(tenant)
    for _ in range(12):
        body = problem(client.post(PATH, json=identity(tenant)), 409, "account_exists")
        assert body["title"].startswith("Un compte existe déjà")


def test_pending_account_may_redo_step_1(client, runtime, outbox):
    tenant = make_tenant()
    register(client, tenant, new_email())
    assert client.post(PATH, json=identity(tenant)).status == 200


def test_ten_failures_for_a_tenant_number_block_it_for_the_hour(client, runtime, clock_offset):
    tenant = make_tenant()
    wrong = {**identity(tenant), "first_name": "Intrus"}
    for i in range(10):
        problem(client.post(PATH, json=wrong, ip=f"192.0.2.{i}"), 400, "identity_mismatch")
    # Every attempt for that number is now refused, the correct one included, from any address.
    for body in (wrong, identity(tenant), {**identity(tenant), "tenant_number": "00" + tenant.holder.tenant_number}):
        reply = client.post(PATH, json=body, ip="192.0.2.200")
        problem(reply, 429, "too_many_requests")
        assert 1 <= int(reply.header("Retry-After")) <= 3600
    # Another tenant number is not affected.
    assert client.post(PATH, json=identity(make_tenant()), ip="192.0.2.200").status == 200
    clock_offset(3601)
    assert client.post(PATH, json=identity(tenant), ip="192.0.2.201").status == 200


def test_twenty_failures_in_a_day_lock_the_number_for_24_hours_after_the_20th(client, runtime, clock_offset, capsys):
    # Security revision 4: at 10 guesses an hour, a birth date fell in 41 guesses; now the
    # 20th failure within 24 hours locks step 1 for that number until 24 hours after it.
    tenant = make_tenant()
    wrong = {**identity(tenant), "birth_date": "1999-12-31"}
    for i in range(10):
        problem(client.post(PATH, json=wrong, ip=f"192.0.2.{i}"), 400, "identity_mismatch")
    clock_offset(3601)
    for i in range(10):
        problem(client.post(PATH, json=wrong, ip=f"192.0.2.{i}"), 400, "identity_mismatch")
    assert "RegistrationIdentityLocked" in capsys.readouterr().out  # the metric behind the alarm
    twentieth = 3601
    for later in (3601 + 3601, twentieth + 12 * 3600, twentieth + 24 * 3600 - 5):
        clock_offset(later)
        reply = client.post(PATH, json=identity(tenant), ip="192.0.2.250")  # the correct answer, too
        problem(reply, 429, "too_many_requests")
        assert int(reply.header("Retry-After")) > 3600 or later > twentieth + 23 * 3600
    clock_offset(twentieth + 24 * 3600 + 1)
    assert client.post(PATH, json=identity(tenant), ip="192.0.2.250").status == 200


def test_correct_attempts_and_refused_attempts_are_not_counted_as_failures(client, runtime, clock_offset):
    tenant = make_tenant()
    wrong = {**identity(tenant), "first_name": "Intrus"}
    for _ in range(9):
        problem(client.post(PATH, json=wrong, ip="192.0.2.90"), 400, "identity_mismatch")
    for _ in range(5):  # correct ones are given back
        assert client.post(PATH, json=identity(tenant), ip="192.0.2.91").status == 200
    problem(client.post(PATH, json=wrong, ip="192.0.2.90"), 400, "identity_mismatch")  # the 10th
    for _ in range(5):  # refused (429) ones count nothing, so they never extend the lock
        problem(client.post(PATH, json=wrong, ip="192.0.2.90"), 429, "too_many_requests")
    clock_offset(3601)
    assert client.post(PATH, json=identity(tenant), ip="192.0.2.91").status == 200


def test_nine_failures_do_not_block(client, runtime):
    tenant = make_tenant()
    wrong = {**identity(tenant), "birth_date": "2001-01-01"}
    for _ in range(9):
        assert client.post(PATH, json=wrong).status == 400
    assert client.post(PATH, json=identity(tenant)).status == 200


def test_fifty_failures_from_one_address_block_it(client, runtime, clock_offset):
    tenant = make_tenant()
    for i in range(50):
        reply = client.post(PATH, json={**identity(tenant), "tenant_number": f"9{i:05d}"}, ip="192.0.2.77")
        problem(reply, 400, "identity_mismatch")
    reply = client.post(PATH, json=identity(tenant), ip="192.0.2.77")
    problem(reply, 429, "too_many_requests")
    retry_after = reply.header("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and 1 <= int(retry_after) <= 3600
    # Mobile networks share addresses, but another address is not affected.
    assert client.post(PATH, json=identity(tenant), ip="192.0.2.78").status == 200
    clock_offset(3601)
    assert client.post(PATH, json=identity(tenant), ip="192.0.2.77").status == 200


def test_co_holders_each_register_their_own_account(client, runtime, outbox):
    tenant = make_tenant(last_name="MARTIN", first_name="Sophie", birth_date="1980-02-29")
    number = tenant.holder.tenant_number
    TenancyStore().put_holder(Holder(number, "MARTIN-DIALLO", "Paul", "1978-06-15"))
    paul = {"tenant_number": number, "last_name": "martin diallo", "first_name": "paul", "birth_date": "1978-06-15"}

    reply = client.post(PATH, json=paul)
    assert reply.status == 200
    assert reply.json()["first_name"] == "Paul"
    # Sophie's birth date with Paul's name is no match: each holder is checked as a whole.
    assert client.post(PATH, json={**paul, "birth_date": "1980-02-29"}).status == 400

    from tests.handlers.test_register_support import links_to, verify

    sophie_email, paul_email = new_email(), new_email()
    register(client, tenant, sophie_email)
    assert verify(client, links_to(outbox, sophie_email)[-1]).status == 200
    # Sophie's active account does not block Paul.
    token = client.post(PATH, json=paul).json()["registration_token"]
    from tests.handlers.test_register_support import step2_body

    assert client.post("/v1/registrations", json=step2_body(token, paul_email)).status == 201
    assert verify(client, links_to(outbox, paul_email)[-1]).status == 200
    problem(client.post(PATH, json=identity(tenant)), 409, "account_exists")
    problem(client.post(PATH, json=paul), 409, "account_exists")
