"""Connector credentials encrypted at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key
derived by HKDF-SHA256 from ``QUNZHU_SECRET_KEY``.

Without ``QUNZHU_SECRET_KEY`` nothing can be stored: a random per-process key would make the
stored tokens unreadable after a restart. Changing the secret key makes stored credentials
unreadable too; ``qunzhu connect ...`` again stores them under the new key.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from qunzhu.settings import Settings

_INFO = b"qunzhu connector credentials v1"


class CredentialsError(ValueError):
    """Credentials that cannot be stored or read; the message says how to fix it."""


def _fernet(settings: Settings) -> Fernet:
    if settings.secret_key is None:
        raise CredentialsError(
            "QUNZHU_SECRET_KEY is not set: connector credentials are encrypted with a key "
            "derived from it (try: export QUNZHU_SECRET_KEY=$(openssl rand -hex 32))"
        )
    secret = settings.secret_key.get_secret_value().encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(settings: Settings, credentials: dict[str, str]) -> str:
    return _fernet(settings).encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def unseal(settings: Settings, token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        data = json.loads(_fernet(settings).decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsError(
            "stored connector credentials cannot be decrypted: QUNZHU_SECRET_KEY changed "
            "since they were stored; run `qunzhu connect ...` again"
        ) from None
    return {str(k): str(v) for k, v in data.items()}


def masked(value: str) -> str:
    """A credential as operators may see it: its last four characters."""
    return "…" + value[-4:] if len(value) > 8 else "****"
