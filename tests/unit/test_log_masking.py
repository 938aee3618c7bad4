"""The logger masks personal data whatever a call passes in; the scanner finds leaks."""

from __future__ import annotations

import io
import json
import logging

from oph.platform.observability import get_logger, mask, mask_text
from tests.log_scan import scan_text


def test_mask_text_hides_emails_jwts_bearer_and_dates():
    text = "jean.dupond@exemple.com Bearer abc.def eyJhbGciOi.eyJzdWIiOiJ4In0.sig 1975-09-10"
    masked = mask_text(text)
    assert "jean.dupond@" not in masked and "j***@exemple.com" in masked
    assert "eyJ" not in masked and "1975-09-10" not in masked and "abc.def" not in masked


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
    logging.getLogger("unrelated").info("ignored")
