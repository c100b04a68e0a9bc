"""Reply links inferred where the platform gives none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunzhu.engines.replylink import Linker

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _said(linker: Linker, i: int, member: int, minutes: float, text: str, question: bool = False):
    return linker.prepare(i, member, T0 + timedelta(minutes=minutes), text, question)


def test_naming_the_author_links_to_their_last_message():
    linker = Linker(names={1: "alice", 2: "bob", 3: "carol"})
    linker.link(_said(linker, 1, 1, 0, "how do I mount an ntfs disk?", True))
    linker.link(_said(linker, 2, 3, 1, "anyone tried the new kernel"))
    target = linker.link(_said(linker, 3, 2, 2, "alice: use ntfs-3g and add it to fstab"))
    assert target is not None and target.id == 1


def test_a_question_gets_its_answer_without_any_name():
    linker = Linker(names={1: "alice", 2: "bob"})
    linker.link(_said(linker, 1, 1, 0, "how do I mount an ntfs disk?", True))
    target = linker.link(_said(linker, 2, 2, 1, "install ntfs-3g then mount the disk"))
    assert target is not None and target.id == 1


def test_nothing_links_across_a_long_silence_or_to_oneself():
    linker = Linker(names={1: "alice", 2: "bob"})
    linker.link(_said(linker, 1, 1, 0, "how do I mount an ntfs disk?", True))
    assert linker.link(_said(linker, 2, 2, 60, "install ntfs-3g")) is None
    assert linker.link(_said(linker, 3, 2, 61, "and then reboot")) is None


def test_an_explicit_reply_is_kept():
    linker = Linker(names={1: "alice", 2: "bob"})
    linker.link(_said(linker, 1, 1, 0, "first"))
    linker.link(_said(linker, 2, 1, 1, "second"))
    target = linker.link(_said(linker, 3, 2, 2, "about the first one"), explicit=1)
    assert target is not None and target.id == 1
