"""IBAN validation (ISO 13616) and masking, contract section 8."""

from __future__ import annotations

import pytest

from oph.payments.iban import compact, grouped, is_valid_iban, masked

VALID = [
    "FR76 3000 6000 0112 3456 7890 189",  # the contract's example
    "fr7630006000011234567890189",
    "DE89 3704 0044 0532 0130 00",
    "GB82 WEST 1234 5698 7654 32",
    "BE68 5390 0754 7034",
    "NL91 ABNA 0417 1643 00",
    "CH93 0076 2011 6238 5295 7",
    "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
]


@pytest.mark.parametrize("iban", VALID)
def test_valid_sepa_ibans(iban):
    assert is_valid_iban(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "FR76 3000 6000 0112 3456 7890 188",  # wrong key
        "FR76 3000 6000 0112 3456 7890 18",  # wrong length for France
        "US64 SVBK US6S 3300 9673 8637",  # not a SEPA country
        "BR15 0000 0000 0000 1093 2840 814 P2",  # not SEPA either
        "FR76-3000-6000-0112-3456-7890-189",  # punctuation is not a space
        "FR7É3000600001123456789018",  # not ASCII
        "",
        "FR",
        "XX00",
    ],
)
def test_invalid_ibans(iban):
    assert not is_valid_iban(iban)


def test_every_single_digit_error_is_caught():
    # mod-97 catches every single substitution of a digit
    iban = compact(VALID[0])
    for position in range(4, len(iban)):
        if iban[position].isdigit():
            for digit in "0123456789":
                if digit != iban[position]:
                    assert not is_valid_iban(iban[:position] + digit + iban[position + 1 :])


def test_masked_shows_only_the_country_key_and_last_four():
    assert masked("FR7630006000011234567890189") == "FR76 **** **** **** **** ***0 189"
    assert masked("DE89370400440532013000") == "DE89 **** **** **** **30 00"
    assert grouped("fr76 3000 6000 0112 3456 7890 189") == "FR76 3000 6000 0112 3456 7890 189"
