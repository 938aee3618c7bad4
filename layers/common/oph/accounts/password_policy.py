"""The office's password policy, shared by registration, password reset and password change.

The rule (CONTRACT.md section 2; CNIL deliberation 2022-100 together with login throttling):
8 to 128 characters with at least three of the four classes (upper case, lower case, digits,
special characters); not a common password, nor a common password with only digits or special
characters added before or after it ("Azerty123!" is refused); not containing the holder's
first name, last name (each part of a compound name with at least 3 letters counts on its own),
numéro d'intitulé (tenant number) or the e-mail's local part, compared without case or accents.

The common-password list (``data/common_passwords.txt``, shipped inside the layer) is read
once per container, lazily, into a set.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_WORD_LENGTH = 3  # shorter personal words ("Li", "Ba") would refuse too many passwords
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"

LENGTH_MESSAGE = "Le mot de passe doit contenir entre 8 et 128 caractères."
CLASSES_MESSAGE = (
    "Le mot de passe doit contenir au moins trois types de caractères parmi : "
    "majuscules, minuscules, chiffres et caractères spéciaux."
)
CONTROL_MESSAGE = "Le mot de passe ne doit pas contenir de caractères de contrôle (tabulation, retour à la ligne…)."
COMMON_MESSAGE = "Ce mot de passe est trop courant et facile à deviner : choisissez-en un autre."
PERSONAL_MESSAGE = (
    "Le mot de passe ne doit contenir ni votre nom, ni votre prénom, ni votre numéro d'intitulé, "
    "ni votre adresse e-mail."
)


def fold(value: str) -> str:
    """Case and accents ignored: "Hélène" -> "helene"."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _alnum(value: str) -> str:
    return "".join(c for c in value if c.isalnum())


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per container (first use, never at import: cold start)."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as handle:
        return frozenset(entry for line in handle if (entry := fold(line.strip())) and not entry.startswith("#"))


def _cores(folded: str) -> Iterable[str]:
    """Every slice left once a prefix and a suffix made only of non-letters are removed."""
    letters = [i for i, c in enumerate(folded) if c.isalpha()]
    if not letters:
        starts, ends = range(len(folded) + 1), range(len(folded) + 1)
    else:
        starts, ends = range(letters[0] + 1), range(letters[-1] + 1, len(folded) + 1)
    for start in starts:
        for end in ends:
            if end > start:
                yield folded[start:end]


def is_common(password: str) -> bool:
    words = common_passwords()
    folded = fold(password)
    # Also without inner separators: "Mot-de-passe1" is "motdepasse" with a digit added.
    return any(core in words for variant in {folded, _alnum(folded)} for core in _cores(variant))


def _personal_words(personal_words: Sequence[str]) -> set[str]:
    """Folded, letters and digits only; whole words and the parts of compound ones."""
    found: set[str] = set()
    for raw in personal_words:
        if not raw:
            continue
        word = raw.rsplit("@", 1)[0] if "@" in raw else raw  # an e-mail counts by its local part
        folded = fold(word)
        candidates = [_alnum(folded)]
        candidates += _split(folded)
        if candidates[0].isdigit():  # a tenant number counts with or without leading zeros
            candidates.append(candidates[0].lstrip("0"))
        found.update(c for c in candidates if len(c) >= MIN_WORD_LENGTH)
    return found


def _split(folded: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for c in folded:
        if c.isalnum():
            current += c
        elif current:
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    return parts


def contains_personal_word(password: str, personal_words: Sequence[str]) -> bool:
    folded = _alnum(fold(password))
    return any(word in folded for word in _personal_words(personal_words))


def check_password(password: str, *, personal_words: Sequence[str] = ()) -> str | None:
    """None when the password is acceptable, else a French explanation for the tenant.

    ``personal_words``: the holder's first name, last name, tenant number and e-mail (or its
    local part); compound names are split here, so callers pass the names as recorded.
    """
    password = unicodedata.normalize("NFKC", password)  # as it is hashed (passwords.normalize_password)
    if any(unicodedata.category(c) == "Cc" for c in password):
        return CONTROL_MESSAGE
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return LENGTH_MESSAGE
    classes = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() and not c.isspace() for c in password),  # a space is not "special"
        )
    )
    if classes < 3:
        return CLASSES_MESSAGE
    if is_common(password):
        return COMMON_MESSAGE
    if contains_personal_word(password, personal_words):
        return PERSONAL_MESSAGE
    return None
