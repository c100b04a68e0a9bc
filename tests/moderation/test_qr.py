"""QR codes in images: group invitations and other codes, and things that are not images."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest

from qunzhu.moderation.qr import decode_qr, scan_image
from qunzhu.spec.rules import Rules

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")


def _qr_png(text: str) -> bytes:
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    buffer = io.BytesIO()
    Image.fromarray(np.array(code.to_image(scale=4))).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_wechat_group_qr_is_an_invitation_and_another_qr_is_a_qr_code(tmp_path: Path) -> None:
    group = tmp_path / "group.png"
    group.write_bytes(_qr_png("https://weixin.qq.com/g/AbCdEf"))
    found, skipped = scan_image(str(group), Rules())
    assert skipped is None and [(f.rule, f.evidence) for f in found] == [
        ("group_invites", "https://weixin.qq.com/g/AbCdEf")
    ]
    uri = "data:image/png;base64," + base64.b64encode(_qr_png("hello shop")).decode()
    found, _ = scan_image(uri, Rules())
    assert [f.rule for f in found] == ["qr_codes"]


@pytest.mark.parametrize(
    ("attachment", "why"),
    [
        ("data:image/png;base64,bm90IGFuIGltYWdl", "not an image"),
        ("https://example.com/a.png", "remote image not fetched"),
        ("/no/such/file.png", "attachment is not a local file"),
    ],
)
def test_what_is_not_an_image_is_skipped_with_a_reason(attachment: str, why: str) -> None:
    assert scan_image(attachment, Rules()) == ([], why)


def test_decoding_garbage_bytes_does_not_raise() -> None:
    assert decode_qr(b"\x89PNG\r\n\x1a\n garbage").skipped == "not an image"
