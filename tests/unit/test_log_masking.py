"""The logger masks personal data whatever a call passes in; the scanner finds leaks."""

from __future__ import annotations

import io
import json
import logging

import pytest

from oph.platform.observability import get_logger, mask, mask_text
from tests.log_scan import scan_text


def test_mask_text_hides_emails_jwts_bearer_and_dates():
    text = "jean.dupond@exemple.com Bearer abc.def eyJhbGciOi.eyJzdWIiOiJ4In0.sig 1975-09-10"
    masked = mask_text(text)
    assert "jean.dupond@" not in masked and "j***@exemple.com" in masked
    assert "eyJ" not in masked and "1975-09-10" not in masked and "abc.def" not in masked


@pytest.mark.parametrize(
    "iban", ["FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 189", "DE89 3704 0044 0532 0130 00"]
)
def test_mask_text_hides_ibans_compact_or_grouped(iban):
    # Issue 17: the full IBAN never appears in a log line, whatever a careless call logs.
    masked = mask_text(f"mandat signé, iban {iban}, jour 5")
    assert iban not in masked and iban.replace(" ", "") not in masked.replace(" ", "")
    assert masked.startswith("mandat signé, iban ") and iban[:4] + " ****" in masked
    assert mask_text("OPH-123456-0001 contrat C123456-01") == "OPH-123456-0001 contrat C123456-01"


def test_mask_hides_sensitive_keys_recursively():
    data = {"password": "Secret-123", "nested": {"refresh_token": "x" * 43, "city": "Aubervilliers"}}
    assert mask(data) == {"password": "[masqué]", "nested": {"refresh_token": "[masqué]", "city": "Aubervilliers"}}


def test_logger_output_is_masked():
    logger = get_logger()
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        logger.info("login for jean.dupond@exemple.com", extra={"password": "Secret-123", "birth": "1975-09-10"})
    finally:
        logger.registered_handler.setStream(previous)
    out = buffer.getvalue()
    line = next(x for x in out.splitlines() if x.startswith("{"))
    record = json.loads(line)
    assert "jean.dupond@" not in line and "Secret-123" not in line and "1975-09-10" not in line
    assert record["password"] == "[masqué]"
    assert scan_text(line, "t") == []


def test_scanner_flags_leaks():
    leaks = scan_text('{"level":"INFO","message":"mail to jean.dupond@exemple.com"}', "t")
    assert leaks and "email" in leaks[0]
    assert scan_text('{"level":"INFO","message":"born 1975-09-10"}', "t")
    assert scan_text("plain pytest output jean.dupond@exemple.com", "t") == []


@pytest.mark.parametrize(
    "text",
    [
        "FR14 2004 1010 0505 0001 3M02 606",
        "fr1420041010050500013m02606",
        "iban=DE89370400440532013000;",
        '"iban": "FR76 3000 6000 0112 3456 7890 189"',
    ],
)
def test_scanner_flags_a_full_iban(text):
    [leak] = scan_text('{"level":"INFO","message":' + json.dumps(text) + "}", "t")
    assert "full IBAN" in leak and "2004" not in leak and "3704" not in leak and "3000" not in leak


@pytest.mark.parametrize(
    "text",
    [
        "FR14 **** **** **** **** ***2 606",  # masked
        "FR14 2004 1010 0505 0001 3M02 607",  # wrong key
        "DE89370400440532013000123",  # not an IBAN's length
        "payment 0f3a9c2e7d1b4a6f8e5c3b2a1d0e9f8c",
        "OPH-123456-0001",
    ],
)
def test_scanner_leaves_what_is_not_a_full_iban(text):
    assert scan_text('{"level":"INFO","message":' + json.dumps(text) + "}", "t") == []
    logging.getLogger("unrelated").info("ignored")
