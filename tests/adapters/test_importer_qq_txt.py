from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Rejected

EXPORT = """\
消息记录（此消息记录为文本格式，不支持重新导入）

================================================================
消息分组:我的QQ群
================================================================
消息对象:Python学习群
================================================================

2019-03-01 20:15:02 系统消息(10000)
小明(123456)邀请小红(234567)加入了本群

2019-03-01 20:15:40 小明(123456)
欢迎小红
第二行

2019-03-01 20:16:00 小红(234567)
@小明 谢谢！

2019-03-01 20:16:30 Alice<alice@example.com>
[图片]

2019/3/1 20:17:00 小红(234567)
日期换了写法

2019-03-01 20:18:00 系统消息(10000)
小明(123456)退出了本群
"""


@pytest.fixture(params=["utf-8", "gb18030"])
def export(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "Python学习群.txt"
    path.write_bytes(EXPORT.encode(request.param))
    return path


def test_qq_messages_in_either_encoding(export, parsed, messages_of):
    msgs = messages_of(parsed(export, "qq-txt"))
    assert [(m.member, m.text, m.kind) for m in msgs] == [
        ("123456", "欢迎小红\n第二行", "text"),
        ("234567", "@小明 谢谢！", "text"),
        ("alice@example.com", "[图片]", "image"),
        ("234567", "日期换了写法", "text"),
    ]
    assert msgs[0].occurred_at == datetime(2019, 3, 1, 20, 15, 40, tzinfo=UTC)
    assert msgs[3].occurred_at == datetime(2019, 3, 1, 20, 17, tzinfo=UTC)


def test_qq_at_mention_is_an_inferred_reply(export, parsed, messages_of):
    msgs = messages_of(parsed(export, "qq-txt"))
    assert msgs[1].reply_to == msgs[0].message_id and msgs[1].reply_inferred


def test_qq_system_messages_are_invites_and_leaves(export, parsed):
    items = parsed(export, "qq-txt")
    (join,) = [i for i in items if isinstance(i, ev.MemberJoined)]
    assert (join.member, join.inviter, join.via) == ("234567", "123456", "invite")
    (left,) = [i for i in items if isinstance(i, ev.MemberLeft)]
    assert (left.member, left.reason) == ("123456", "left")


def test_qq_bad_bytes_quarantine_only_their_message(tmp_path, parsed, messages_of):
    data = EXPORT.encode("utf-8").replace("欢迎小红".encode(), b"\xff\xfe broken")
    path = tmp_path / "mixed.txt"
    path.write_bytes(data)
    items = parsed(path, "qq-txt")
    rejects = [i for i in items if isinstance(i, Rejected)]
    assert [(r.line, r.reason) for r in rejects] == [
        (12, "a line of this message is not valid text")
    ]
    assert len(messages_of(items)) == 3


def test_qq_text_before_the_first_header_is_quarantined(tmp_path, parsed):
    path = tmp_path / "qq.txt"
    path.write_text("stray line\n" + EXPORT, encoding="utf-8")
    rejects = [i for i in parsed(path, "qq-txt") if isinstance(i, Rejected)]
    assert [(r.line, r.reason) for r in rejects] == [(1, "text before the first message header")]
