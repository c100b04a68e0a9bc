"""The encoding of a text export, found from its head (charset-normalizer beyond UTF-8)."""

from __future__ import annotations

import pytest

from qunzhu.adapters.importers.common import detect_encoding

ZH = "[12:01] <小王> 你好，今晚的直播几点开始？我们在群里讨论一下这个问题吧\n" * 300


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (ZH.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + ZH.encode("utf-8"), "utf-8-sig"),
        (ZH.encode("gb18030"), "gb18030"),
        (ZH.encode("gb18030")[:65536], "gb18030"),  # a character cut by the head's end
        ("时间,内容\n你好\n".encode("gbk"), "gb18030"),  # short GBK is not taken for Korean
        (("[12:01] <bob> Привет, как дела у всех сегодня\n" * 100).encode("cp1251"), "cp1251"),
        (("[12:01] <bob> café résumé naïve\n" * 100).encode("latin-1"), "latin-1"),
    ],
)
def test_the_encoding_is_found_from_the_head(head, encoding):
    assert detect_encoding(head) == encoding


def test_a_few_bad_bytes_in_utf8_leave_it_utf8():
    data = ZH.encode("utf-8")
    spoilt = data[:100] + b"\xff" + data[100:2000] + b"\x80\xc3" + data[2000:]
    assert detect_encoding(spoilt) == "utf-8"
