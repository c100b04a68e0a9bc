from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected

HEADER = ["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "StrTime",
          "StrContent", "NickName", "Sender"]  # fmt: skip
T0 = int(datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp())
QUOTE = (
    "<msg><appmsg><title>对，就是这个</title><type>57</type><refermsg><type>1</type>"
    "<svrid>1</svrid><fromusr>room@chatroom</fromusr><chatusr>wxid_li</chatusr>"
    "<displayname>李四</displayname><content>今晚几点直播？</content>"
    f"<createtime>{T0 + 60}</createtime></refermsg></appmsg></msg>"
)


def _row(i: int, type_: int, content: str, nick: str = "", sender: str = "", sub: int = 0,
         t: int = 0, is_sender: int = 0) -> list[object]:  # fmt: skip
    when = T0 + t
    text = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return [i, 1, type_, sub, is_sender, when, text, content, nick, sender]


ROWS = [
    _row(1, 10000, '"张三"邀请"李四、王五"加入了群聊', t=0),
    _row(2, 1, "大家好", "张三", "wxid_zhang", t=30),
    _row(3, 1, "今晚几点直播？", "李四", "wxid_li", t=60),
    _row(4, 49, QUOTE, "张三", "wxid_zhang", sub=57, t=90),
    _row(5, 3, "<img/>", "王五", "wxid_wang", t=120),
    _row(6, 10000, '"赵六"通过扫描"张三"分享的二维码加入群聊', t=150),
    _row(7, 47, "<emoji/>", "赵六", "wxid_zhao", t=160),
    _row(8, 10000, '"李四" 撤回了一条消息', t=170),
    _row(9, 10000, '你将"王五"移出了群聊', t=180),
    _row(10, 1, "收到", "我", "wxid_me", t=190, is_sender=1),
    ["11", "1", "abc", "0", "0", str(T0 + 200), "", "坏行", "x", "wxid_x"],
    ["12", "1"],
]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "群聊_学习群.csv", ROWS)


def test_wechat_messages_with_kinds_and_a_quote_reply(export, parsed, messages_of):
    items = parsed(export, "wechat-csv")
    msgs = messages_of(items)
    assert [(m.member, m.kind) for m in msgs] == [
        ("wxid_zhang", "text"),
        ("wxid_li", "text"),
        ("wxid_zhang", "quote"),
        ("wxid_wang", "image"),
        ("wxid_zhao", "sticker"),
        ("wxid_me", "text"),
    ]
    question, quote = msgs[1], msgs[2]
    assert quote.text == "对，就是这个"
    assert quote.reply_to == question.message_id and not quote.reply_inferred


def test_wechat_ids_and_keys_are_the_ones_earlier_versions_stored(export, parsed, messages_of):
    # a re-import of an export an earlier version imported must find its messages again:
    # ids, keys and quote links may be computed faster, never differently (values pinned)
    msgs = messages_of(parsed(export, "wechat-csv"))[:3]
    assert [(m.message_id, m.key, m.reply_to) for m in msgs] == [
        ("38698ab7f3833c29dcd47d06", "e209b4a33771ac11fb6070a0789ca9d7", None),
        ("4975b12563a4f198ecab30fe", "66b9939d4c3bacccae63e9327af5248e", None),
        (
            "6e6eddbc99dab43f120025c0",
            "0f22f2cf9140c2aaabcb9b62aa28602c",
            "4975b12563a4f198ecab30fe",
        ),
    ]


def test_wechat_system_lines_become_joins_with_inviter_removal_and_recall(export, parsed):
    items = parsed(export, "wechat-csv")
    joins = [i for i in items if isinstance(i, ev.MemberJoined)]
    assert [(j.member, j.inviter, j.via) for j in joins] == [
        ("wxid_li", "wxid_zhang", "invite"),  # names resolved to ids through the messages
        ("wxid_wang", "wxid_zhang", "invite"),
        ("wxid_zhao", "wxid_zhang", "qr"),
    ]
    (removed,) = [i for i in items if isinstance(i, ev.MemberLeft)]
    assert (removed.member, removed.reason, removed.by) == ("wxid_wang", "removed", "wxid_me")
    (recall,) = [i for i in items if isinstance(i, ev.MessageRecalled)]
    assert recall.member == "wxid_li"


def test_wechat_bad_rows_are_quarantined_with_their_line(export, parsed):
    rejects = [i for i in parsed(export, "wechat-csv") if isinstance(i, Rejected)]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [
        (12, "Type/SubType not a number"),
        (13, "2 fields where the header has 10"),
    ]


def test_wechat_gbk_export_reads_the_same(tmp_path, export, parsed, messages_of):
    gbk = write_csv(tmp_path / "gbk.csv", ROWS, encoding="gbk")
    assert [m.text for m in messages_of(parsed(gbk, "wechat-csv"))] == [
        m.text for m in messages_of(parsed(export, "wechat-csv"))
    ]


def test_wechat_without_the_needed_columns_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Type,StrContent,NickName\n1,hi,a\n", encoding="utf-8")
    with pytest.raises(importers.ImportFormatError, match="CreateTime or StrTime"):
        list(importers.parse(path, "wechat-csv", community="c", group="g", tz=UTC))


def test_wechat_local_times_use_the_zone_given(tmp_path, parsed, messages_of):
    from zoneinfo import ZoneInfo

    path = tmp_path / "local.csv"
    path.write_text(
        "localId,Type,SubType,IsSender,StrTime,StrContent,NickName,Sender\n"
        "1,1,0,0,2024-03-01 20:00:00,晚上好,张三,wxid_zhang\n",
        encoding="utf-8",
    )
    (msg,) = messages_of(parsed(path, "wechat-csv", tz=ZoneInfo("Asia/Shanghai")))
    assert msg.occurred_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
