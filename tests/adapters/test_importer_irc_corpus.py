"""The IRC log corpus: one sample per layout operators meet, each read exactly as its
``expected.json`` says (messages with time, member and name, inferred replies, joins,
leaves, the nick change, the unreadable line quarantined with its number).

The samples are written here, content our own, in the shapes the tools write; where each
shape was learned:

- irclogs: the #ubuntu logs of ../shared/data (irclogs.ubuntu.com), read since the start;
- irssi: the default theme's formats as irssi-style loggers reproduce them (a MoinMoin
  irssi-log parser, the Mohawk bot's irssi formatter: ``-!- nick [u@h] has joined``,
  ``has left #c [reason]``, ``was kicked from #c by op [reason]``, ``mode/#c [+o x] by``),
  irssi's default.theme (``notice``/``pubnotice_channel`` make ``-nick:#chan- text``);
- weechat: weechat's own tests (tests/unit/plugins/irc/test-irc-protocol.cpp: ``-->``
  ``alice (user@host) has joined #test``, ``<--`` ``… has left #test (part message)``,
  ``-- bob is now known as bob_away``, ``-- Mode #test [+nt] by admin``, ``Notice(alice)
  -> #test: …``) and the misterhat/weechat-log parser's fixtures (quit, kick, topic);
- ZNC: the log module's source (modules/log.cpp: ``[%H:%M:%S]``, ``*** Joins: nick
  (ident@host)``, ``*** Parts/Quits: … (msg)``, ``*** x was kicked by op (msg)``, ``*** x
  sets mode:``, ``*** x changes topic to '…'``, ``-nick- notice``; file names
  ``$WINDOW/%Y-%m-%d.log``, older ``$USER_$NETWORK_$WINDOW_%Y%m%d.log``);
- Limnoria: plugins/ChannelLogger/plugin.py (``'<%s> %s'``, ``'* %s %s'``, ``'-%s- %s'``,
  ``'*** %s <%s> has joined %s'`` with the full prefix, ``has left %s (reason)``, ``has
  quit IRC (reason)``, ``was kicked by``, ``sets mode:``, ``changes topic to "…"``; stamps
  from supybot.log.timestampFormat ``%Y-%m-%dT%H:%M:%S`` and two spaces);
- dircproxy: src/irc_log.c and irc_server.c of 1.0 (``@%lu %s %s`` with ``<nick!u@h>``,
  ``-server- nick (u@h) joined the channel``, ``[nick!u@h] ACTION …``) and of 1.2 (user
  log ``[%d %b %H:%M] `` then ``<nick!u@h>``, ``* nick``, ``-->``, ``<--``, ``---``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected
from qunzhu.adapters.importers.irc_grammar import layout_of
from qunzhu.importing import import_file
from qunzhu.store.models import Identity, Member, Message

CORPUS = Path(__file__).parent / "corpus" / "irc"
SAMPLES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
UTC = ZoneInfo("UTC")


def _sample(name: str) -> tuple[Path, dict[str, Any]]:
    folder = CORPUS / name
    log = next(p for p in folder.iterdir() if p.name != "expected.json")
    return log, json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_has_every_layout():
    assert SAMPLES == [
        "dircproxy-1.0", "dircproxy-1.2", "irclogs", "irssi", "limnoria", "weechat", "znc"
    ]  # fmt: skip


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_is_read_as_its_expected_file_says(name):
    log, want = _sample(name)
    assert importers.detect(log) == "irc"
    assert layout_of(log.read_bytes()) == want["layout"]
    items = list(importers.parse(log, "irc", community="c", group="#gardening", tz=UTC))
    msgs = [i for i in items if isinstance(i, ev.MessagePosted)]
    got_messages = [[m.occurred_at.isoformat(), m.member, m.member_name, m.text] for m in msgs]
    assert got_messages == want["messages"]
    position = {m.message_id: n for n, m in enumerate(msgs)}
    replies = [[n, position[m.reply_to]] for n, m in enumerate(msgs) if m.reply_to]
    assert replies == want["replies"]
    assert all(m.reply_inferred for m in msgs if m.reply_to)
    joins = [[j.occurred_at.isoformat(), j.member] for j in items if isinstance(j, ev.MemberJoined)]
    assert joins == want["joins"]
    leaves = [
        [x.occurred_at.isoformat(), x.member, x.reason, x.by]
        for x in items
        if isinstance(x, ev.MemberLeft)
    ]
    assert leaves == want["leaves"]
    renames = [
        [r.occurred_at.isoformat(), r.member, r.old_name, r.new_name]
        for r in items
        if isinstance(r, ev.MemberRenamed)
    ]
    assert renames == want["renames"]
    members = {i.member for i in items if isinstance(i, ev.Event)}
    assert sorted(members) == want["members"]
    rejects = [[r.line, r.reason] for r in items if isinstance(r, Rejected)]
    assert rejects == want["quarantined"]


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_read_twice_gives_the_same_keys(name):
    log, _ = _sample(name)
    once = [i.key for i in importers.parse(log, "irc", community="c", group="g", tz=UTC)
            if isinstance(i, ev.Event)]  # fmt: skip
    again = [i.key for i in importers.parse(log, "irc", community="c", group="g", tz=UTC)
             if isinstance(i, ev.Event)]  # fmt: skip
    assert once == again and len(set(once)) == len(once)


def _count(store, model, *where) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_nick_change_in_one_file_links_the_new_nick_for_the_next_file(store, tmp_path):
    # ZNC writes a file a day: mei became mei_afk yesterday and speaks today under the new
    # nick; that is one person, not a new member
    day_one, _ = _sample("znc")
    summary = import_file(store, day_one, community="c1", group="#gardening", fmt="irc", tz="UTC")
    assert summary["members"] == 5 and summary["renames"] == 1
    day_two = tmp_path / "mei_libera_#gardening_20180614.log"
    day_two.write_text("[08:00:05] <mei_afk> good morning again\n", encoding="utf-8")
    import_file(store, day_two, community="c1", group="#gardening", fmt="irc", tz="UTC")
    assert _count(store, Member) == 5
    with store.reading() as session:
        mei = session.scalar(select(Identity.member_id).where(Identity.platform_user_id == "mei"))
        linked = session.scalar(
            select(Identity.member_id).where(Identity.platform_user_id == "mei_afk")
        )
        said = session.scalars(select(Message.member_id).where(Message.text.like("%again"))).all()
    assert linked == mei and said == [mei]


def test_a_new_nick_someone_already_holds_keeps_its_member(store, tmp_path):
    # nicks are reused: the rename does not take over another person's identity
    first = tmp_path / "2018-06-12.log"
    first.write_text("[10:00:00] <mei_afk> I am someone else\n", encoding="utf-8")
    import_file(store, first, community="c1", group="#gardening", fmt="irc", tz="UTC")
    day_one, _ = _sample("znc")
    import_file(store, day_one, community="c1", group="#gardening", fmt="irc", tz="UTC")
    with store.reading() as session:
        holders = session.scalars(
            select(Identity.member_id).where(Identity.platform_user_id.in_(["mei", "mei_afk"]))
        ).all()
    assert len(set(holders)) == 2


def test_a_file_named_irc_is_read_even_when_no_line_looks_like_irc(tmp_path):
    path = tmp_path / "2018-06-13.log"
    path.write_text("notes from the meeting\n[21:00] <mei> hi\nmore notes\n", encoding="utf-8")
    with pytest.raises(importers.ImportFormatError):
        importers.detect(path)
    items = list(importers.parse(path, "irc", community="c", group="g", tz=UTC))
    assert [(r.line, r.reason) for r in items if isinstance(r, Rejected)] == [
        (1, "not an IRC log line"),
        (3, "not an IRC log line"),
    ]
    assert [m.text for m in items if isinstance(m, ev.MessagePosted)] == ["hi"]


def test_a_log_under_a_long_preamble_is_read_in_its_layout_when_named_irc(tmp_path):
    path = tmp_path / "irc.libera.#c.weechatlog"
    preamble = "".join(f"pasted note {i}\n" for i in range(1, 26))
    path.write_text(preamble + "2018-06-13 09:00:00\tmei\thi\n", encoding="utf-8")
    items = list(importers.parse(path, "irc", community="c", group="g", tz=UTC))
    assert [r.line for r in items if isinstance(r, Rejected)] == list(range(1, 26))
    assert [(m.member, m.text) for m in items if isinstance(m, ev.MessagePosted)] == [("mei", "hi")]


def test_a_named_file_with_no_log_line_at_all_is_quarantined_line_by_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just notes\nnothing else\n", encoding="utf-8")
    items = list(importers.parse(path, "irc", community="c", group="g", tz=UTC))
    assert [(r.line, r.reason) for r in items] == [
        (1, "not an IRC log line"),
        (2, "not an IRC log line"),
    ]


def test_dircproxy_without_a_year_in_the_name_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / "#gardening.log"
    path.write_text("[13 Jun 23:40] <mei!~m@h> hi\n[13 Jun 23:41] <ravi!~r@h> yo\n")
    with pytest.raises(importers.ImportFormatError, match=r"#gardening\.log:1: dircproxy"):
        list(importers.parse(path, "irc", community="c", group="g", tz=UTC))


def test_dircproxy_dates_move_into_the_next_year_after_december(tmp_path):
    path = tmp_path / "#gardening-2018.log"
    path.write_text("[31 Dec 23:59] <mei!~m@h> last\n[01 Jan 00:01] <mei!~m@h> first\n")
    items = list(importers.parse(path, "irc", community="c", group="g", tz=UTC))
    assert [m.occurred_at.date().isoformat() for m in items] == ["2018-12-31", "2019-01-01"]


def test_weechat_times_are_read_in_the_zone_given(tmp_path):
    path = tmp_path / "irc.libera.#c.weechatlog"
    path.write_text("2018-06-13 09:00:00\tmei\thi\n2018-06-13 09:01:00\travi\tyo\n")
    items = list(
        importers.parse(path, "irc", community="c", group="g", tz=ZoneInfo("Asia/Shanghai"))
    )
    assert items[0].occurred_at.isoformat() == "2018-06-13T01:00:00+00:00"
