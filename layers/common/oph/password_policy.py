"""The office's password policy (placeholder: length and character classes only).

The registration issue completes it: common-password list, personal words.
"""

from __future__ import annotations

from collections.abc import Sequence


def check_password(password: str, *, personal_words: Sequence[str] = ()) -> str | None:
    """None when the password is acceptable, else a French explanation for the tenant."""
    if not 8 <= len(password) <= 128:
        return "Le mot de passe doit contenir entre 8 et 128 caractères."
    classes = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 3:
        return (
            "Le mot de passe doit contenir au moins trois types de caractères parmi : "
            "majuscules, minuscules, chiffres et caractères spéciaux."
        )
    return None
