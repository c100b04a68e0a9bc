"""The WeCom callback crypto (``msg_signature`` = SHA1 over token, timestamp, nonce and the
ciphertext; AES-256-CBC with the EncodingAESKey; corp id check), done by wechatpy's
``WeChatCrypto`` rather than by hand."""

from __future__ import annotations

from typing import Any

import xmltodict  # type: ignore[import-untyped]
from wechatpy.enterprise.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.enterprise.exceptions import (  # type: ignore[import-untyped]
    InvalidCorpIdException,
)
from wechatpy.exceptions import InvalidSignatureException  # type: ignore[import-untyped]


class CallbackRefused(ValueError):
    """A callback whose signature, key or corp id does not match."""


class CallbackUnreadable(ValueError):
    """A callback signed by WeCom whose content cannot be read: quarantined, answered 200
    (a retry would carry the same content)."""

    def __init__(self, reason: str, plain: str) -> None:
        super().__init__(reason)
        self.plain = plain


class CallbackCrypto:
    def __init__(self, token: str, aes_key: str, corp_id: str) -> None:
        if len(aes_key) != 43:
            raise ValueError("the EncodingAESKey must be the 43 characters WeCom shows")
        self._crypto = WeChatCrypto(token, aes_key, corp_id)

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL check when the callback is saved in the admin console: the decrypted
        ``echostr`` goes back as the answer."""
        try:
            return str(self._crypto.check_signature(signature, timestamp, nonce, echostr))
        except (InvalidSignatureException, InvalidCorpIdException, ValueError) as exc:
            raise CallbackRefused(f"URL verification failed: {type(exc).__name__}") from None

    def decrypt(self, body: bytes, signature: str, timestamp: str, nonce: str) -> dict[str, Any]:
        try:
            plain = self._crypto.decrypt_message(body.decode("utf-8"), signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException) as exc:
            raise CallbackRefused(f"callback refused: {type(exc).__name__}") from None
        except Exception as exc:  # broken envelope, bad padding: not from WeCom
            raise CallbackRefused(f"callback unreadable: {type(exc).__name__}") from None
        # signed by WeCom from here on: what cannot be read is kept, not refused
        try:
            parsed = xmltodict.parse(plain)
        except Exception as exc:
            raise CallbackUnreadable(f"the decrypted XML does not parse: {exc}", plain) from None
        xml = parsed.get("xml") if isinstance(parsed, dict) else None
        if not isinstance(xml, dict):
            raise CallbackUnreadable("the decrypted XML has no <xml> root with fields", plain)
        return dict(xml)

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """What WeCom sends (used by the fake platform in the tests)."""
        return str(self._crypto.encrypt_message(xml, nonce, timestamp))
