"""French renderings shared by documents, PDFs and e-mails: months, dates, times, amounts in euros.

Every date and time a person reads is Paris time, written the French way (contract section 1:
"24/05/2019", "le 24 mai 2019 à 14 h 05"); the API's instants stay UTC, so an instant
(``YYYY-MM-DDTHH:MM:SSZ``) only becomes Paris time here, through :func:`oph.platform.clock.paris_moment`.

Amounts are integer cents everywhere; they only become text here. The thousands separator is
a plain space ("1 234,56 €"): the PDFs use the standard Helvetica font (WinAnsi encoding), which
has no narrow no-break space, and a plain space survives text extraction unchanged.
"""

from __future__ import annotations

from oph.platform.clock import paris_moment

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def period_label(period: str, *, capitalize: bool = False) -> str:
    """``2019-05`` -> ``mai 2019`` (``Mai 2019`` with ``capitalize``)."""
    year, month = period.split("-")
    name = MONTHS[int(month) - 1]
    if capitalize:
        name = name[0].upper() + name[1:]
    return f"{name} {year}"


def date_fr(iso_date: str) -> str:
    """``2019-06-10`` -> ``10/06/2019``."""
    year, month, day = iso_date[:10].split("-")
    return f"{day}/{month}/{year}"


def date_long_fr(iso_date: str) -> str:
    """``2019-06-01`` -> ``1er juin 2019``."""
    year, month, day = iso_date[:10].split("-")
    day_text = "1er" if int(day) == 1 else str(int(day))
    return f"{day_text} {MONTHS[int(month) - 1]} {year}"


def time_fr(instant: str) -> str:
    """``2019-05-24T12:05:00Z`` -> ``14 h 05`` (Paris time; hours unpadded, minutes padded)."""
    moment = paris_moment(instant)
    return f"{moment.hour} h {moment.minute:02d}"


def datetime_long_fr(instant: str) -> str:
    """``2019-05-24T12:05:00Z`` -> ``le 24 mai 2019 à 14 h 05`` (Paris time, summer or winter)."""
    return f"le {date_long_fr(paris_moment(instant).date().isoformat())} à {time_fr(instant)}"


def euros(cents: int, *, symbol: bool = True) -> str:
    """``123456`` -> ``1 234,56 €``; negative amounts keep their sign: ``-12,30 €``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    digits = f"{whole:,}".replace(",", " ")
    text = f"{sign}{digits},{rest:02d}"
    return f"{text} €" if symbol else text
