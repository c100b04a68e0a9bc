"""Batched reply links give the links of the one-message-at-a-time Linker (training replays
through the Linker, so inference must see the same features)."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from qunzhu.engines.features import FILLER_KINDS, text_features
from qunzhu.engines.replybatch import link_group
from qunzhu.engines.replylink import Linker
from qunzhu.engines.replymodel import default_model
from qunzhu.engines.replystream import DEPTH, Entry, Lexicon, held
from qunzhu.engines.scoring import link_replies
from qunzhu.engines.scoring_reads import LinkSnapshot, MsgRow

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "irc" / "ubuntu"
NAMES = {
    1: "alice",
    2: "bob",
    3: "Carol",
    4: "dave",
    5: "Eve",
    6: "eve",  # two members, one name
    7: "",  # a member without a name
    8: "xenophon",
    9: "ed",
}
WORDS = [
    "mount",
    "ntfs",
    "disk",
    "kernel",
    "grub",
    "boot",
    "install",
    "apt",
    "driver",
    "wifi",
    "sound",
    "update",
    "reboot",
]


def _replay(entries, first, infer, given, names, askers):
    """What link_replies did before batching: every message through one Linker."""
    linker = Linker(names=names)
    for e in entries[:first]:
        linker.remember(linker.prepare(*e))
    out = []
    for e, inf, gv, who in zip(entries[first:], infer, given, askers, strict=True):
        said = linker.prepare(*e)
        found = linker.link(said, gv, infer=inf)
        asked = found is not None and (
            found.question or linker.asked_recently(found.member_id, said.at)
        )
        by = who is not None and linker.asked_recently(who, said.at)
        out.append((found.id if found else None, asked, said.probability, by))
    return out


def _assert_same(entries, first, infer, given, names, askers=None):
    askers = askers or [None] * len(infer)
    expected = _replay(entries, first, infer, given, names, askers)
    got = link_group(entries, first, infer, given, Lexicon(names), default_model(), askers)
    assert len(got) == len(expected)
    for (target, asked, p, by), f in zip(expected, got, strict=True):
        assert (entries[f.target][0] if f.target >= 0 else None) == target
        assert f.asked == asked
        assert abs(f.probability - p) <= 1e-9
        assert f.asker_asked == by
    return expected


def _text(rng: random.Random, names: dict[int, str]) -> tuple[str, bool]:
    words = rng.sample(WORDS, rng.randint(0, 5))
    shape = rng.random()
    who = rng.choice([n for n in names.values() if n] + ["nobody", "ED"])
    if shape < 0.25:
        text = f"{who}: " + " ".join(words)
    elif shape < 0.35:
        text = f"@{who.lower()}, " + " ".join(words)
    elif shape < 0.45:
        text = " ".join(words) + f" ask {who.lower()} about it"
    elif shape < 0.5:
        text = ""
    else:
        text = " ".join(words) + (" thanks" if rng.random() < 0.2 else "")
    question = rng.random() < 0.3
    return (text + "?" if question else text), question


def _entries(seed: int, n: int) -> list[Entry]:
    rng = random.Random(seed)
    at = T0
    out: list[Entry] = []
    for i in range(n):
        # same minute often, long silences sometimes: the window's edge gets crossed
        at += timedelta(seconds=rng.choice([0, 0, 5, 30, 61, 240, 600, 899, 900, 901, 1800]))
        member = rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])  # 10: not in the names
        text, question = _text(rng, NAMES)
        out.append((1000 + i, member, at, text, question))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_batched_links_are_the_linkers_links(seed: int) -> None:
    entries = _entries(seed, 400)
    first = 20  # the group's context before the batch
    rng = random.Random(seed + 100)
    given: list[int | None] = []
    infer: list[bool] = []
    askers: list[int | None] = []
    for k in range(first, len(entries)):
        explicit = rng.random() < 0.08
        back = rng.choice([1, 3, 30, 60])  # some still held by the linker, some long gone
        given.append(entries[k - back][0] if explicit and k >= back else None)
        infer.append(given[-1] is None and rng.random() < 0.9)  # stickers, flagged: not
        # the author of a linked message, whether it is held or not; 11 never speaks
        askers.append(entries[k - back][1] if k >= back and rng.random() < 0.3 else None)
        askers[-1] = 11 if rng.random() < 0.02 else askers[-1]
    expected = _assert_same(entries, first, infer, given, NAMES, askers)
    assert sum(t is not None for t, _, _, _ in expected) > 50  # the sample links something
    assert sum(by for _, _, _, by in expected) > 10  # and some askers asked lately
    assert sum(not by for *_, by in expected) > 10


def test_one_message_after_its_context_is_linked_as_in_a_batch() -> None:
    entries = _entries(7, 30)
    _assert_same(entries, 29, [True], [None], NAMES)


def test_a_batch_without_context_or_candidates() -> None:
    entries = _entries(8, 1)
    found = link_group(entries, 0, [True], [None], Lexicon(NAMES), default_model())
    assert found[0].target == -1 and found[0].probability == 0.0


def test_the_linker_holds_what_held_says() -> None:
    linker = Linker(names=NAMES)
    for k in range(4 * DEPTH):
        assert len(linker.recent) == held(np.array([k]))[0]
        linker.remember(linker.prepare(k, 1 + k % 3, T0 + timedelta(seconds=k), "x", False))


_LINE = re.compile(r"\[(\d{1,2}):(\d{2})\] <([^>]+)> ?(.*)$")


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared #ubuntu logs are not here")
def test_batched_links_on_real_irc_logs() -> None:
    names: dict[str, int] = {}
    entries: list[Entry] = []
    for path in sorted(SHARED.glob("*.raw.txt"))[:4]:
        day = date.fromisoformat(path.name[:10])
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _LINE.match(line)
            if m:
                member = names.setdefault(m[3], len(names) + 1)
                at = datetime(day.year, day.month, day.day, int(m[1]), int(m[2]), tzinfo=UTC)
                q = text_features(m[4]).question
                entries.append((len(entries) + 1, member, at, m[4], q))
    entries.sort(key=lambda e: e[2])
    n = len(entries) - 24
    expected = _assert_same(
        entries, 24, [True] * n, [None] * n, {i: nick for nick, i in names.items()}
    )
    assert sum(t is not None for t, _, _, _ in expected) > n // 4


def _reference_link_replies(rows, feats, snap):
    """link_replies message by message through the Linker, as before batching, with the
    answers of a platform's link or an importer's guess the linker does not hold."""
    targets = snap.targets
    linkers = {}
    for g, seed in snap.context.items():
        linker = linkers[g] = Linker(names=snap.names)
        for mid, author, at, text, question, _name in seed:
            linker.remember(linker.prepare(mid, author, at, text or "", question is not None))
    out = {}
    upgraded = 0  # targets a link the linker does not hold made answered
    for r in rows:
        linker = linkers[r.group_id]
        said = linker.prepare(r.id, r.member_id, r.occurred_at, r.text, feats[r.id].question)
        given = r.reply_to_id if not r.reply_inferred else None
        infer = given is None and r.kind not in FILLER_KINDS and not r.flagged
        found = linker.link(said, given, infer=infer)
        if found is not None:
            asked = found.question or linker.asked_recently(found.member_id, said.at)
            targets[found.id] = (found.member_id, asked)
        elif r.reply_to_id is not None and r.reply_to_id in targets:
            author, asked = targets[r.reply_to_id]
            if not asked and author != r.member_id:
                targets[r.reply_to_id] = (author, linker.asked_recently(author, said.at))
                upgraded += targets[r.reply_to_id][1]
        if given is not None:
            out[r.id] = (given, False, 1.0)
        elif found is not None:
            out[r.id] = (found.id, True, round(said.probability, 3))
        elif r.reply_to_id is not None:
            out[r.id] = (r.reply_to_id, True, 0.0)
    return out, targets, upgraded


def _snapshot(rows, feats, context, stored):
    targets = {r.id: (r.member_id, feats[r.id].question) for r in rows}
    targets.update(stored)
    return LinkSnapshot(targets, context, dict(NAMES))


@pytest.mark.parametrize("seed", range(4))
def test_link_replies_answers_as_the_linker_did(seed: int) -> None:
    """Two groups, platform links and importer guesses to lines near and far (beyond what
    the linker holds, or only in the store): the same links and the same answered
    targets as the message-by-message loop."""
    rng = random.Random(seed)
    entries = _entries(seed, 300)
    context = {1: [(*e[:4], 1 if e[4] else None, "") for e in entries[:20]], 2: []}
    stored = {77: (2, False), 78: (3, True)}  # targets only the store knows
    rows: list[MsgRow] = []
    feats = {}
    for k, (mid, member, at, text, question) in enumerate(entries[20:], start=20):
        roll = rng.random()
        to = None
        if roll < 0.4:
            to = entries[k - rng.choice([1, 2, 5, 30, 60])][0] if k >= 80 else 77
        elif roll < 0.45:
            to = rng.choice([77, 78])
        rows.append(
            MsgRow(
                mid,
                1,
                1 + (k % 5 == 0),
                member,
                at.date(),
                at,
                text,
                "sticker" if rng.random() < 0.05 else "text",
                rng.random() < 0.03,
                to,
                reply_inferred=to is not None and rng.random() < 0.6,
            )
        )
        feats[mid] = text_features(text)._replace(question=question)
    want, want_targets, upgraded = _reference_link_replies(
        rows, feats, _snapshot(rows, feats, context, stored)
    )
    snap = _snapshot(rows, feats, context, stored)
    assert link_replies(rows, feats, snap) == want
    assert snap.targets == want_targets
    assert upgraded > 0, upgraded  # the sample has such links
