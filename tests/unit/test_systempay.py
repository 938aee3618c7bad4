"""The Systempay/PayZen form protocol, checked against vectors computed here, in the test,
from the recipe of the public Lyra documentation ("Calculer la signature"):

1. take the fields whose name starts with ``vads_``; 2. sort them by name; 3. join their
values with ``+``; 4. append ``+`` and the key; 5. HMAC-SHA-256 of that UTF-8 string with
the key, Base64-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from oph.payments import systempay

KEY = "1122334455667788"

# A notification as the gateway posts it (fields in no particular order, plus non-vads ones).
FIELDS = {
    "vads_trans_status": "AUTHORISED",
    "vads_amount": "22000",
    "vads_site_id": "12345678",
    "vads_currency": "978",
    "vads_ctx_mode": "TEST",
    "vads_order_id": "f00dcafe",
    "vads_trans_id": "000042",
    "vads_trans_date": "20240612120304",
    "vads_page_action": "PAYMENT",
    "vads_version": "V2",
    "vads_cust_last_name": "Hélène N'Diaye",  # UTF-8 and punctuation travel as they are
    "signature": "ignored-by-the-recipe",
    "other_field": "not signed",
}

# Written out by hand: the vads_ names in alphabetical order and their values.
HAND_SORTED_STRING = (
    "22000"  # vads_amount
    "+TEST"  # vads_ctx_mode
    "+978"  # vads_currency
    "+Hélène N'Diaye"  # vads_cust_last_name
    "+f00dcafe"  # vads_order_id
    "+PAYMENT"  # vads_page_action
    "+12345678"  # vads_site_id
    "+20240612120304"  # vads_trans_date
    "+000042"  # vads_trans_id
    "+AUTHORISED"  # vads_trans_status
    "+V2"  # vads_version
    "+" + KEY
)


def hand_signature(message: str, key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def test_signed_string_follows_the_documented_recipe():
    assert systempay.signature_string(FIELDS, KEY) == HAND_SORTED_STRING


def test_signature_matches_the_hand_computed_vector():
    expected = hand_signature(HAND_SORTED_STRING, KEY)
    assert systempay.sign(FIELDS, KEY) == expected
    assert len(base64.b64decode(expected)) == 32  # a SHA-256 HMAC


def test_fixed_vector_of_a_payment_form():
    # Input form of an immediate payment; vector string written by hand, then signed here.
    form = systempay.payment_form(
        site_id="12345678",
        ctx_mode="TEST",
        trans_id="000001",
        trans_date="20240101120000",
        amount_cents=4525,
        order_id="abc123",
        return_url="https://app.example/links/payment-return?payment_id=abc123",
    )
    hand = (
        "INTERACTIVE+4525+0+TEST+978+fr+abc123+PAYMENT+SINGLE+NONE+12345678+20240101120000+000001"
        "+https://app.example/links/payment-return?payment_id=abc123+0+V2+" + KEY
    )
    assert systempay.signature_string(form, KEY) == hand
    assert systempay.signed(form, KEY)["signature"] == hand_signature(hand, KEY)


def test_verify_accepts_the_genuine_signature_only():
    genuine = {**FIELDS, "signature": hand_signature(HAND_SORTED_STRING, KEY)}
    assert systempay.verify(genuine, KEY)
    assert not systempay.verify(genuine, "another-key")
    assert not systempay.verify(genuine, "")  # an unset key never verifies
    assert not systempay.verify({**genuine, "signature": ""}, KEY)
    assert not systempay.verify({k: v for k, v in genuine.items() if k != "signature"}, KEY)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vads_amount", "22001"),
        ("vads_currency", "840"),
        ("vads_order_id", "f00dcaff"),
        ("vads_trans_status", "REFUSED"),
        ("vads_site_id", "12345679"),
        ("vads_ctx_mode", "PRODUCTION"),
        ("vads_extra", "added"),
    ],
)
def test_any_tampered_vads_field_breaks_the_signature(field, value):
    genuine = {**FIELDS, "signature": hand_signature(HAND_SORTED_STRING, KEY)}
    assert not systempay.verify({**genuine, field: value}, KEY)


def test_non_vads_fields_are_not_signed():
    genuine = {**FIELDS, "signature": hand_signature(HAND_SORTED_STRING, KEY)}
    assert systempay.verify({**genuine, "other_field": "changed"}, KEY)


def test_signature_is_checked_on_fields_as_received_not_normalised():
    genuine = {**FIELDS, "signature": hand_signature(HAND_SORTED_STRING, KEY)}
    assert not systempay.verify({**genuine, "vads_cust_last_name": "HELENE NDIAYE"}, KEY)
    assert not systempay.verify({**genuine, "vads_amount": " 22000"}, KEY)


def test_trans_date_is_utc_yyyymmddhhmmss():
    paris_evening = datetime(2024, 6, 12, 23, 30, 5, tzinfo=UTC)
    assert systempay.format_trans_date(paris_evening) == "20240612233005"


def test_trans_id_is_six_digits_below_the_gateway_range():
    assert systempay.format_trans_id(0) == "000000"
    assert systempay.format_trans_id(41) == "000041"
    assert systempay.format_trans_id(899_999) == "899999"
    assert systempay.format_trans_id(900_000) == "000000"  # never 900000-999999
    assert all(len(systempay.format_trans_id(n)) == 6 for n in (0, 5, 123_456, 2_000_000))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("AUTHORISED", "succeeded"),
        ("CAPTURED", "succeeded"),
        ("ACCEPTED", "succeeded"),
        ("REFUSED", "refused"),
        ("NOT_CREATED", "refused"),
        ("ABANDONED", "abandoned"),
        ("CANCELLED", "abandoned"),
        ("EXPIRED", "expired"),
        ("UNDER_VERIFICATION", None),
        ("WAITING_AUTHORISATION", None),
        ("AUTHORISED_TO_VALIDATE", None),
        ("SOMETHING_NEW", None),
        ("", None),
    ],
)
def test_trans_status_mapping(status, expected):
    assert systempay.map_status(status) == expected


def test_parse_form_keeps_values_as_received():
    body = b"vads_amount=22000&vads_cust_last_name=H%C3%A9l%C3%A8ne+N%27Diaye&signature=ab%2Bc%2F%3D"
    assert systempay.parse_form(body) == {
        "vads_amount": "22000",
        "vads_cust_last_name": "Hélène N'Diaye",
        "signature": "ab+c/=",
    }


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff\xfe", b"vads_amount=1&vads_amount=2", b"novalue", b'{"vads_amount": "1"}'],
)
def test_parse_form_refuses_ambiguous_or_malformed_bodies(body):
    with pytest.raises(systempay.MalformedNotification):
        systempay.parse_form(body)


def test_notification_shape_requires_the_checked_fields():
    complete = {**FIELDS, "signature": "x"}
    systempay.check_notification_shape(complete)
    for name in systempay.REQUIRED_NOTIFICATION_FIELDS:
        with pytest.raises(systempay.MalformedNotification):
            systempay.check_notification_shape({k: v for k, v in complete.items() if k != name})
    with pytest.raises(systempay.MalformedNotification):
        systempay.check_notification_shape({**complete, "vads_ctx_mode": "DEMO"})
    with pytest.raises(systempay.MalformedNotification):
        systempay.check_notification_shape({**complete, "vads_amount": "12.5"})


def test_payment_form_fields():
    form = systempay.payment_form(
        site_id="12345678",
        ctx_mode="PRODUCTION",
        trans_id="000001",
        trans_date="20240101120000",
        amount_cents=22000,
        order_id="abc",
        return_url="https://x/r",
    )
    assert form["vads_currency"] == "978"
    assert form["vads_amount"] == "22000"
    assert form["vads_page_action"] == "PAYMENT"
    assert form["vads_action_mode"] == "INTERACTIVE"
    assert form["vads_payment_config"] == "SINGLE"
    assert form["vads_version"] == "V2"
    assert all(name.startswith("vads_") for name in form)
    with pytest.raises(ValueError):
        systempay.payment_form(
            site_id="1",
            ctx_mode="DEMO",
            trans_id="000001",
            trans_date="20240101120000",
            amount_cents=1,
            order_id="a",
            return_url="https://x",
        )
