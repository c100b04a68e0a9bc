"""Passwords (argon2id) and API tokens (``qz_<prefix>_<secret>``, kept as SHA-256 only).

Passwords are slow to hash on purpose (how slow: QUNZHU_PASSWORD_HASH_MEMORY_KIB, which only
the test suite lowers); tokens are long random strings, so a fast hash is enough and lets
every API request look its token up by hash in one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from qunzhu.settings import PREFIX, load_settings

TOKEN_MARK = "qz"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 is happy with any length; this bounds the work a request can ask
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")

_COST_VARIABLE = PREFIX + "PASSWORD_HASH_MEMORY_KIB"


def _hashing() -> tuple[PasswordHasher, str]:
    """The hasher of the configured cost, and a hash it made of a random password."""
    # Read at each use, not at import; keyed by the variable's text so that the settings
    # are validated once per value, not at every hash.
    return _hashing_for(os.environ.get(_COST_VARIABLE))


@cache
def _hashing_for(variable: str | None) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(memory_cost=load_settings().password_hash_memory_kib)
    # The dummy is verified against when the username is unknown, so a miss costs as long
    # as a wrong password and response time does not tell which usernames exist.
    return hasher, hasher.hash(secrets.token_hex(16))


class CredentialError(ValueError):
    """A username, password or token that cannot be used; ``field`` names which."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise CredentialError(
            "a username is 2–64 characters: lowercase letters, digits, '_', '.', '-', "
            "starting with a letter or digit",
            field="username",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise CredentialError(
            f"a password needs at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise CredentialError(f"a password has at most {MAX_PASSWORD} characters", field="password")
    return password


def hash_password(password: str) -> str:
    return _hashing()[0].hash(check_password(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; takes the same time when there is no hash at all."""
    if len(password) > MAX_PASSWORD:
        return False
    hasher, dummy = _hashing()
    try:
        return hasher.verify(stored_hash or dummy, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hashing()[0].check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def random_password() -> str:
    # 20 characters of an unambiguous alphabet: easy to type from a terminal, ~100 bits
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(20))


def password_fingerprint(stored_hash: str | None) -> str:
    """A short digest of the password hash, put in session cookies so that changing the
    password ends every session made with the old one."""
    return hashlib.sha256((stored_hash or "").encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly made token: ``token`` is shown once; only ``token_hash`` is stored."""

    token: str
    prefix: str
    token_hash: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> NewToken:
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(token=token, prefix=prefix, token_hash=hash_token(token))


def parse_token(token: str) -> tuple[str, str]:
    """Split a token into (prefix, its hash); raise CredentialError when it is not ours."""
    mark, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if (
        mark != TOKEN_MARK
        or len(prefix) != 8
        or len(secret) < 32
        or not all(c in "0123456789abcdef" for c in prefix)
    ):
        raise CredentialError(
            "not a qunzhu API token (expected qz_<prefix>_<secret>)", field="token"
        )
    return prefix, hash_token(token)


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison for CSRF tokens and other short secrets."""
    return hmac.compare_digest(a.encode(), b.encode())
