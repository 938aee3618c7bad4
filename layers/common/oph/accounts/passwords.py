"""Password hashing: bcrypt over a SHA-256 pre-hash.

bcrypt reads at most 72 bytes; a long or multi-byte password would be silently truncated
(or refused by bcrypt >= 5). Hashing first with SHA-256 and encoding in base64 gives 44
ASCII bytes whatever the input, so every character counts and nothing can fail on length.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from functools import cache

from oph.platform.settings import get_settings


def normalize_password(password: str) -> str:
    """Unicode NFKC (contract section 2): one password however a keyboard composes it ("é"
    typed as one character or as "e" + accent, full-width letters, ligatures)."""
    return unicodedata.normalize("NFKC", password)


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(
        _prehash(normalize_password(password)), bcrypt.gensalt(rounds=get_settings().bcrypt_cost)
    ).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """Checks the NFKC form; a hash made before passwords were normalised was made from the
    raw form, so that one is tried too when it differs (one more bcrypt only for those)."""
    import bcrypt

    normalized = normalize_password(password)
    candidates = [normalized] if normalized == password else [normalized, password]
    try:
        return any(bcrypt.checkpw(_prehash(candidate), password_hash.encode()) for candidate in candidates)
    except ValueError:
        return False


@cache
def _dummy_hash() -> str:
    return hash_password("dummy password used to spend the same time")


def burn_equal_time(password: str) -> None:
    """Spend one bcrypt check on a dummy hash: an unknown e-mail costs what a known one does."""
    verify_password(password, _dummy_hash())
