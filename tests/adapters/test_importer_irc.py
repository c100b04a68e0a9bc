from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers import irc
from qunzhu.adapters.importers.common import Rejected, numbered_lines

LOG = """\
=== alice [~a@host.example]  has joined #chan
[23:50] <alice> anyone here know grub?
[23:51] <bob> alice: yes, what is the problem
[23:51]  * carol waves
=== bob [~b@host]  has left #chan []
this line is garbage
=== ..[topic/#chan:op] : Welcome | be nice
[23:59] <alice> bob, thanks
=== alice is now known as alice_away
[00:02] <alice_away> back after midnight
=== dave [~d@x]  has quit [Ping timeout]
=== carol smiles
"""


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "#chan-2024-05-01.log"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_irc_lines_become_messages_joins_leaves_and_a_rename(log, parsed, messages_of):
    items = parsed(log, "irc")
    msgs = messages_of(items)
    assert [m.text for m in msgs] == [
        "anyone here know grub?",
        "alice: yes, what is the problem",
        "waves",
        "bob, thanks",
        "back after midnight",
        "smiles",
    ]
    joins = [i for i in items if isinstance(i, ev.MemberJoined)]
    leaves = [i for i in items if isinstance(i, ev.MemberLeft)]
    assert [j.member for j in joins] == ["alice"]
    assert [x.member for x in leaves] == ["bob", "dave"]
    rejects = [i for i in items if isinstance(i, Rejected)]
    assert [(r.line, r.reason) for r in rejects] == [(6, "not an IRC log line")]


def test_irc_a_kick_off_the_channel_is_a_removal_and_a_look_alike_is_said(
    tmp_path, parsed, messages_of
):
    path = tmp_path / "#chan-2024-05-01.log"
    path.write_text(
        "[10:00] <op> enough\n"
        "=== spammer was kicked off #chan by op (ads)\n"
        "=== bob was kicked off irc by his ISP again\n",  # a /me: no channel was named
        encoding="utf-8",
    )
    items = parsed(path, "irc")
    assert [m.text for m in messages_of(items)] == ["enough", "was kicked off irc by his ISP again"]
    [left] = [i for i in items if isinstance(i, ev.MemberLeft)]
    assert left.member == "spammer"


def test_irc_nick_change_keeps_the_member_and_midnight_moves_the_date(log, parsed, messages_of):
    msgs = messages_of(parsed(log, "irc"))
    after = msgs[4]
    assert after.member == "alice" and after.member_name == "alice_away"
    assert after.occurred_at == datetime(2024, 5, 2, 0, 2, tzinfo=UTC)
    assert msgs[0].occurred_at == datetime(2024, 5, 1, 23, 50, tzinfo=UTC)
    joined = parsed(log, "irc")[0]
    assert joined.occurred_at == datetime(2024, 5, 1, 23, 50, tzinfo=UTC)  # takes the next time


def test_irc_addressing_is_an_inferred_reply_to_the_latest_message(log, parsed, messages_of):
    msgs = messages_of(parsed(log, "irc"))
    first, answer, _, thanks = msgs[:4]
    assert answer.reply_to == first.message_id and answer.reply_inferred
    assert answer.mentions == ("alice",)
    assert thanks.reply_to == answer.message_id and thanks.reply_inferred
    assert first.reply_to is None and not first.reply_inferred


def test_irc_ids_are_stable_and_repeated_lines_stay_distinct(tmp_path, parsed, messages_of):
    path = tmp_path / "2024-05-01.txt"
    path.write_text("[10:00] <a> +1\n[10:00] <a> +1\n[10:01] <a> +1\n", encoding="utf-8")
    once = [m.key for m in messages_of(parsed(path, "irc"))]
    again = [m.key for m in messages_of(parsed(path, "irc"))]
    assert once == again and len(set(once)) == 3


def test_irc_ids_and_keys_are_the_ones_earlier_versions_stored(log, parsed, messages_of):
    # a re-import of a file an earlier version imported must find its messages again: ids
    # and keys may be computed faster, never differently (values pinned from that version)
    msgs = messages_of(parsed(log, "irc"))[:3]
    assert [(m.message_id, m.key) for m in msgs] == [
        ("72feff0b9efd164071150316", "c6e2a1b01559cb4b233523a790715ea9"),
        ("4c1c2f9595e6d9dbf052c9fa", "bef7ced7fe46f1b98efe0959ed9fc857"),
        ("d8d39441dd5a1fafb029f7c4", "775e67afa5be8e85054fc9b9c045b7aa"),
    ]


def test_irc_date_from_an_irssi_header(tmp_path, parsed, messages_of):
    path = tmp_path / "chan.log"
    path.write_text(
        "--- Log opened Wed May 01 09:00:00 2024\n[09:01] <a> hi\n"
        "--- Day changed Thu May 02 2024\n[00:01] <a> late\n",
        encoding="utf-8",
    )
    msgs = messages_of(parsed(path, "irc"))
    assert [m.occurred_at.date().isoformat() for m in msgs] == ["2024-05-01", "2024-05-02"]


def test_irc_without_any_date_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / "chan.log"
    path.write_text("[09:01] <a> hi\n", encoding="utf-8")
    with pytest.raises(importers.ImportFormatError, match=r"chan\.log:1: no date"):
        list(importers.parse(path, "irc", community="c", group="g", tz=UTC))


def test_irc_latin1_lines_are_read_not_lost(tmp_path, parsed, messages_of):
    path = tmp_path / "2024-05-01.log"
    path.write_bytes("[10:00] <a> caf\xe9 ol\xe9\n".encode("latin-1"))
    assert messages_of(parsed(path, "irc"))[0].text == "café olé"


# --- the real #ubuntu logs -------------------------------------------------------------


def _grep_counts(path: Path) -> dict[str, int]:
    """An independent count of each kind, the way `grep -c` would find them."""
    text = path.read_bytes().decode("utf-8", "replace").splitlines()
    system = [x for x in text if x.startswith("=== ")]
    joins = sum(1 for x in system if " has joined " in x)
    leaves = sum(1 for x in system if " has left " in x or " has quit" in x)
    leaves += sum(1 for x in system if re.match(r"=== \S+ was kicked off \S+ by ", x))
    renames = sum(1 for x in system if " is now known as " in x)
    skipped = sum(1 for x in system if re.match(r"=== (\.\.\[topic|mode/|\S+\.\S+ -> )", x))
    emotes = len(system) - joins - leaves - renames - skipped
    stamped = sum(1 for x in text if re.match(r"\[\d\d:\d\d\] ", x))
    return {"messages": stamped + emotes, "joins": joins, "leaves": leaves}


@pytest.mark.shared_data
def test_every_ubuntu_log_imports_with_the_counts_grep_finds(shared_data):
    files = sorted((shared_data / "irc" / "ubuntu").glob("*.raw.txt"))
    assert len(files) >= 80
    for path in files:
        assert importers.detect(path) == "irc", path
        items = list(importers.parse(path, "irc", community="c", group="g", tz=UTC))
        got = {
            "messages": sum(isinstance(i, ev.MessagePosted) for i in items),
            "joins": sum(isinstance(i, ev.MemberJoined) for i in items),
            "leaves": sum(isinstance(i, ev.MemberLeft) for i in items),
        }
        assert got == _grep_counts(path), path.name
        assert not [i for i in items if isinstance(i, Rejected)], path.name


def inferred_reply_precision(paths: list[Path]) -> tuple[int, int]:
    """(right, judged) inferred replies on lines the human annotation covers.

    Annotation lines ``i j -`` (0-based raw lines) link message j to its antecedent i."""
    right = judged = 0
    for raw in paths:
        notes = raw.with_name(raw.name.replace(".raw.txt", ".annotation.txt"))
        parents: dict[int, set[int]] = {}
        for line in notes.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2:
                parents.setdefault(int(fields[1]), set()).add(int(fields[0]))
        line_of: dict[str, int] = {}
        for number, item in irc.parse_lines(
            raw, numbered_lines(raw, None), community="c", group="g", tz=UTC
        ):
            if not isinstance(item, ev.MessagePosted):
                continue
            line_of[item.message_id] = number - 1
            if item.reply_inferred and item.reply_to and number - 1 in parents:
                judged += 1
                right += line_of[item.reply_to] in parents[number - 1]
    return right, judged


@pytest.mark.shared_data
def test_inferred_replies_mostly_agree_with_the_human_annotation(shared_data):
    paths = sorted((shared_data / "irc" / "ubuntu").glob("*.raw.txt"))[:20]
    right, judged = inferred_reply_precision(paths)
    assert judged > 500
    assert right / judged > 0.5  # a sane floor; the benchmark reports the figure itself


def test_irc_a_speaker_going_on_to_the_same_person_continues_their_own_thread(
    tmp_path, parsed, messages_of
):
    path = tmp_path / "2024-05-01.log"
    path.write_text(
        "[10:00] <ann> how do I mount it?\n[10:01] <bo> ann: use mount\n"
        "[10:01] <bo> ann: and check dmesg\n[10:02] <ann> bo: thanks\n",
        encoding="utf-8",
    )
    question, answer, more, thanks = messages_of(parsed(path, "irc"))
    assert answer.reply_to == question.message_id
    assert more.reply_to == answer.message_id  # ann has not spoken since: bo goes on
    assert thanks.reply_to == more.message_id
