"""QR codes in images (decoded with zxing-cpp and Pillow), where the adapter delivers one.

``attachment`` on a message is a local file path or a ``data:image/...;base64,`` URI; an
http(s) URL is not fetched (moderation never waits on the network). Anything that is not
an image, or is too big, is skipped with a reason, never raised.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from pathlib import Path

from qunzhu.moderation.findings import Finding, safe_text
from qunzhu.spec.rules import Rules

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 25_000_000
_GROUP_QR = ("weixin.qq.com/g/", "u.wechat.com", "jq.qq.com", "qm.qq.com", "t.me/", "discord.gg/")


@dataclass(frozen=True, slots=True)
class Decoded:
    texts: list[str]
    skipped: str | None = None


def image_bytes(attachment: str) -> tuple[bytes | None, str | None]:
    if attachment.startswith("data:"):
        head, _, body = attachment.partition(",")
        if ";base64" not in head:
            return None, "data URI is not base64"
        try:
            data = base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError):
            return None, "data URI is not valid base64"
        return (data, None) if len(data) <= MAX_IMAGE_BYTES else (None, "image too big")
    if attachment.startswith(("http://", "https://")):
        return None, "remote image not fetched"
    path = Path(attachment)
    try:
        if not path.is_file():
            return None, "attachment is not a local file"
        if path.stat().st_size > MAX_IMAGE_BYTES:
            return None, "image too big"
        return path.read_bytes(), None
    except (OSError, ValueError):
        return None, "attachment cannot be read"


def decode_qr(data: bytes) -> Decoded:
    try:
        import zxingcpp
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return Decoded([], "QR decoding needs zxing-cpp and Pillow")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return Decoded([], "image too large to decode")
            image.load()
            results = zxingcpp.read_barcodes(image.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return Decoded([], "not an image")
    return Decoded([r.text for r in results if r.valid and r.text])


def scan_image(attachment: str | None, rules: Rules) -> tuple[list[Finding], str | None]:
    """Findings for the QR codes in an attachment, and why it was skipped if it was."""
    if not attachment:
        return [], None
    data, why = image_bytes(attachment)
    if data is None:
        return [], why
    decoded = decode_qr(data)
    out: list[Finding] = []
    for text in decoded.texts:
        lowered = text.lower()
        if any(marker in lowered for marker in _GROUP_QR):
            out.append(
                Finding(
                    rule="group_invites",
                    detector="qr_group_invite",
                    severity=rules.group_invites.severity,
                    score=0.95,
                    evidence=safe_text(text, 300),
                )
            )
        else:
            out.append(
                Finding(
                    rule="qr_codes",
                    detector="qr_code",
                    severity=rules.qr_codes.severity,
                    score=0.9,
                    evidence=safe_text(text, 300),
                )
            )
    return out, decoded.skipped
