"""The office's details (contract section 9): one source for the API, every PDF and every e-mail.

Read from the stack's configuration (template parameters ``OfficeAddress``, ``OfficePhone``,
``OfficeEmail``, ``OfficeHours``, ``EmergencyPhone``, ``Website``, ``CreditorIdentifier``,
``OfficeIban``, ``OfficeBic``), never hard-coded in a route or a document. Defaults are the
office's public values where they are public (name, address, website); the others are
placeholders (``PLACEHOLDERS`` below) that ``scripts/check_deploy.py`` refuses in production.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache

from oph.platform.settings import on_reset

NAME = "Office Public de l'Habitat d'Aubervilliers"
DEFAULTS = {
    "OFFICE_ADDRESS": "122 bis, rue André Karman, 93300 Aubervilliers",
    "OFFICE_PHONE": "01 00 00 00 00",
    "OFFICE_EMAIL": "locataires@oph-aubervilliers.fr",
    "OFFICE_HOURS": "Lundi au vendredi : 8 h 30 – 12 h, 13 h 30 – 17 h",
    "EMERGENCY_PHONE": "01 00 00 00 01",
    "OFFICE_WEBSITE": "https://www.oph-aubervilliers.fr",
    "CREDITOR_IDENTIFIER": "FR00ZZZ000000",
    "OFFICE_IBAN": "FR76 3000 6000 0112 3456 7890 189",
    "OFFICE_BIC": "BDFEFRPPCCT",
}
# Not public, or not known to us: to be set by the office before production.
PLACEHOLDERS = ("OFFICE_PHONE", "OFFICE_EMAIL", "EMERGENCY_PHONE", "CREDITOR_IDENTIFIER", "OFFICE_IBAN", "OFFICE_BIC")
_POSTAL = re.compile(r"^(?P<line1>.+?),?\s+(?P<postal_code>\d{5})\s+(?P<city>.+)$")


@dataclass(frozen=True)
class Office:
    name: str
    address_line1: str
    postal_code: str
    city: str
    phone: str
    email: str
    opening_hours: tuple[str, ...]
    emergency_phone: str
    website: str
    creditor_identifier: str
    iban: str
    bic: str

    @property
    def town(self) -> str:
        return f"{self.postal_code} {self.city}".strip()

    @property
    def postal_address(self) -> str:
        """One line: "122 bis, rue André Karman, 93300 Aubervilliers"."""
        return f"{self.address_line1}, {self.town}".strip(", ")

    def as_api(self) -> dict[str, object]:
        """The body of ``GET /v1/office``."""
        return {
            "name": self.name,
            "address": {"line1": self.address_line1, "postal_code": self.postal_code, "city": self.city},
            "phone": self.phone,
            "email": self.email,
            "opening_hours": list(self.opening_hours),
            "emergency_phone": self.emergency_phone,
            "website": self.website,
            "creditor_identifier": self.creditor_identifier,
            "iban": self.iban,
            "bic": self.bic,
        }

    def contact_lines(self) -> list[str]:
        """The closing lines of every e-mail: how to reach the office."""
        return [
            self.name,
            self.postal_address,
            f"Téléphone : {self.phone} — {self.email}",
            *(f"Accueil : {hours}" for hours in self.opening_hours),
            f"Urgences techniques (soirs et week-ends) : {self.emergency_phone}",
            self.website,
        ]


def _env(name: str) -> str:
    return (os.environ.get(name) or DEFAULTS[name]).strip()


@cache
def get_office() -> Office:
    address = _env("OFFICE_ADDRESS")
    found = _POSTAL.match(address)
    line1, postal_code, city = (
        (found["line1"].strip(), found["postal_code"], found["city"].strip()) if found else (address, "", "")
    )
    return Office(
        name=NAME,
        address_line1=line1,
        postal_code=postal_code,
        city=city,
        phone=_env("OFFICE_PHONE"),
        email=_env("OFFICE_EMAIL"),
        opening_hours=tuple(h.strip() for h in _env("OFFICE_HOURS").split(";") if h.strip()),
        emergency_phone=_env("EMERGENCY_PHONE"),
        website=_env("OFFICE_WEBSITE"),
        creditor_identifier=_env("CREDITOR_IDENTIFIER"),
        iban=_env("OFFICE_IBAN"),
        bic=_env("OFFICE_BIC"),
    )


on_reset(get_office.cache_clear)
