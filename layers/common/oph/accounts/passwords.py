"""Password hashing: bcrypt over a SHA-256 pre-hash.

bcrypt reads at most 72 bytes; a long or multi-byte password would be silently truncated
(or refused by bcrypt >= 5). Hashing first with SHA-256 and encoding in base64 gives 44
ASCII bytes whatever the input, so every character counts and nothing can fail on length.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from oph.platform.settings import get_settings


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=get_settings().bcrypt_cost)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    import bcrypt

    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode())
    except ValueError:
        return False


@cache
def _dummy_hash() -> str:
    return hash_password("dummy password used to spend the same time")


def burn_equal_time(password: str) -> None:
    """Spend one bcrypt check on a dummy hash: an unknown e-mail costs what a known one does."""
    verify_password(password, _dummy_hash())
