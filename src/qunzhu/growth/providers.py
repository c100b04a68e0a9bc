"""Payment providers (支付渠道). A provider makes the checkout an order shows the buyer and
turns its webhook into a verified :class:`PaymentNotice`; the rest (paying an order once,
starting the membership) is the same for every provider (payments.py).

``manual``  offline transfer, cash, a QR code on a poster: an operator confirms the payment
            with ``qunzhu orders mark-paid``; it has no webhook.
``test``    a provider for tests and staging that signs its webhooks like real ones do:
            header ``X-Qunzhu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
            "<t>.<body>" under the shared secret>``; a signature older than
            ``tolerance_seconds`` is refused, and a notice told twice pays once (the
            payment id is an idempotency key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

SIGNATURE_HEADER = "x-qunzhu-signature"


class SignatureRejected(Exception):
    """The webhook is not from the provider: nothing from it may be stored."""


class BadNotice(ValueError):
    """Signed by the provider, but not a payment notice we can read."""


@dataclass(frozen=True)
class PaymentNotice:
    community: str
    order_no: str
    payment_id: str
    amount_cents: int
    currency: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Checkout:
    provider: str
    order_no: str
    instructions: str
    url: str | None = None


class PaymentProvider(Protocol):
    name: str

    def checkout(self, order_no: str, amount_cents: int, currency: str) -> Checkout: ...

    def verify(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice: ...


class ManualProvider:
    name = "manual"

    def checkout(self, order_no: str, amount_cents: int, currency: str) -> Checkout:
        return Checkout(
            self.name,
            order_no,
            f"pay {amount_cents / 100:.2f} {currency} offline "
            f"and quote {order_no}; an operator confirms it (线下付款，管理员确认)",
        )

    def verify(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        raise SignatureRejected(
            "the manual provider has no webhook: confirm with `qunzhu orders mark-paid`"
        )


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


class TestProvider:
    name = "test"
    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, secret: str, tolerance_seconds: int = 300) -> None:
        if len(secret) < 16:
            raise ValueError("the webhook secret must be at least 16 characters")
        self.secret = secret
        self.tolerance = tolerance_seconds

    def checkout(self, order_no: str, amount_cents: int, currency: str) -> Checkout:
        return Checkout(
            self.name, order_no, "test payment: POST a signed webhook", url=f"test://pay/{order_no}"
        )

    def verify(self, headers: Mapping[str, str], body: bytes) -> PaymentNotice:
        header = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            at = int(parts.get("t", ""))
        except ValueError:
            raise SignatureRejected("missing or malformed signature header") from None
        expected = sign(self.secret, body, at).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise SignatureRejected("signature does not match")
        if abs(time.time() - at) > self.tolerance:
            raise SignatureRejected("signature too old (replayed?)")
        try:
            data = json.loads(body)
            return PaymentNotice(
                community=str(data["community"]),
                order_no=str(data["order_no"]),
                payment_id=str(data["payment_id"]),
                amount_cents=int(data["amount_cents"]),
                currency=str(data.get("currency", "CNY")),
                raw=data,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadNotice(f"signed body is not a payment notice: {exc!r}") from None
