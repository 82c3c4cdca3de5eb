"""Bearer tokens: random, shown once, stored as argon2 hashes; verified hashes are cached."""

from __future__ import annotations

import hashlib
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
TOKEN_PREFIX_LEN = 12


def new_token() -> str:
    return "bdj_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> tuple[str, str]:
    """(argon2 hash, lookup prefix). The prefix narrows the search; it is not a secret."""
    return _hasher.hash(token), token[:TOKEN_PREFIX_LEN]


class TokenCache:
    """Argon2 is deliberately slow; remember which (token, hash) pairs already verified."""

    def __init__(self) -> None:
        self._verified: dict[str, str] = {}
        self._lock = threading.Lock()

    def verify(self, token: str, token_hash: str) -> bool:
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            if self._verified.get(key) == token_hash:
                return True
        try:
            _hasher.verify(token_hash, token)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            self._verified[key] = token_hash
        return True
