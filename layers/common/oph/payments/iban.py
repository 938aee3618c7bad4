"""IBAN checks (ISO 13616) for SEPA direct debit mandates: pure, no I/O.

A small function rather than a library: the rule is short and stable, and the payments
function's cold start does not pay for a package (see README "Behaviour and decisions").
An IBAN is valid when, spaces and case ignored, its country is in the SEPA scheme, its length
is that country's, it is made of letters and digits only, and its mod-97 key is right
(the four first characters moved to the end, letters as 10-35, the number mod 97 == 1).
"""

from __future__ import annotations

# Countries of the SEPA scheme and their IBAN lengths (EPC list of SEPA countries and
# territories; SWIFT IBAN registry lengths).
SEPA_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "VA": 22,
    # French overseas departments and territories use FR IBANs; the codes below appear too.
    "GF": 27, "GP": 27, "MQ": 27, "RE": 27, "YT": 27, "PM": 27, "BL": 27, "MF": 27,
}  # fmt: skip


def compact(value: str) -> str:
    """Spaces (any kind) removed, upper case: "fr76 3000 6000…" -> "FR763000600…"."""
    return "".join(value.split()).upper()


def is_valid_iban(value: str) -> bool:
    iban = compact(value)
    if len(iban) < 5 or not iban.isascii() or not iban.isalnum():
        return False
    if SEPA_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def grouped(value: str) -> str:
    """ "FR7630006000011234567890189" -> "FR76 3000 6000 0112 3456 7890 189"."""
    iban = compact(value)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def masked(value: str) -> str:
    """What a person may see of an IBAN: the country and key, and the last 4 characters.

    "FR76 3000 6000 0112 3456 7890 189" -> "FR76 **** **** **** **** ***0 189" (contract §8):
    every character but the first 4 and the last 4 is a star, in groups of 4.
    """
    iban = compact(value)
    hidden = iban[:4] + "*" * (len(iban) - 8) + iban[-4:]
    return grouped(hidden)
