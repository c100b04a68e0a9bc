"""Which earlier message a message answers, when the platform did not say (IRC logs, QQ and
WhatsApp text exports, WeChat messages without a quote).

The :class:`Linker` keeps the recent messages of one group and, for each new message,
scores every earlier message of another member in the window with the learned
:mod:`qunzhu.engines.replymodel` (time gap, who names whom, shared words, questions, who
spoke last, who has been talking with whom). The most likely candidate becomes the reply
target when its probability reaches the model's threshold; such links are stored as
*inferred*, never as the platform's own.

The scorer infers in batches (:mod:`qunzhu.engines.replybatch`, the same links as this
class message by message); training replays through this class, which defines the
features one message at a time.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from qunzhu.engines.features import normalize
from qunzhu.engines.replymodel import ReplyModel, default_model

# the window the model was trained with; kept here for callers that load context
WINDOW_MINUTES = 15
MAX_CANDIDATES = 12
TALK_MINUTES = 30  # naming each other this recently: still a conversation
ASK_MINUTES = 30
SHORT_TOKENS = 6
NAME_ANYWHERE = 4  # letters a name needs to count anywhere in a text, not only first
STOP = frozenset(
    """
    the a an and or but to of in on for is it i you he she we they this that be are was
    do does did have has with at as not no yes so if my your me can just what how why
    there then than from by ok its it's im i'm dont don't
    """.split()  # noqa: SIM905  (a word list reads best as words)
)
_WORD = re.compile(r"[a-z0-9][a-z0-9_.\-]{2,}|[\u3400-\u9fff]{2}")
_TOKEN = re.compile(r"\w+")
_AT = re.compile(r"@\S+")


def content_words(text: str, normal: str | None = None) -> frozenset[str]:
    """The words two messages on one subject share; ``normal``: ``text`` normalized
    already (:func:`~qunzhu.engines.features.features_and_normal`)."""
    return frozenset(_WORD.findall(normalize(text) if normal is None else normal)).difference(STOP)


def addressed(text: str, ids: Mapping[str, int], recent: Iterable[str]) -> frozenset[str]:
    """The lower-cased names ``text`` addresses: its first word or an @name that is a known
    name (``ids``), or the name of a recent speaker anywhere in it (``recent``: their
    lower-cased names of :data:`NAME_ANYWHERE` letters or more; shorter ones only count
    at the start)."""
    low = text.lower()
    first = low.split(None, 1)  # nothing but spaces: no first word
    hits = {head} if first and (head := first[0].rstrip(":,，")) in ids else set()
    if "@" in low:
        hits.update(f for m in _AT.findall(low) if (f := m[1:].rstrip(":,，")) in ids)
    hits.update(filter(low.__contains__, recent))
    return frozenset(hits)


@dataclass(slots=True)
class Said:
    """A message as the linker sees it."""

    id: int
    member_id: int
    at: datetime
    text: str
    question: bool
    names: frozenset[str] = frozenset()  # lower-cased names this message addresses
    words: frozenset[str] = frozenset()
    tokens: int = 0
    probability: float = 0.0  # of the inferred link this message got, if any


@dataclass
class Linker:
    """Keeps the recent messages of one group; :meth:`link` returns the inferred target."""

    names: dict[int, str] = field(default_factory=dict)  # member id -> display name
    recent: list[Said] = field(default_factory=list)
    questions: dict[int, datetime] = field(default_factory=dict)  # member -> last asked
    model: ReplyModel = field(default_factory=default_model)
    named: dict[tuple[int, int], datetime] = field(default_factory=dict)  # a named b, when
    last_names: dict[int, frozenset[str]] = field(default_factory=dict)  # member -> names
    _ids: dict[str, int] = field(default_factory=dict, repr=False)
    _known: int = -1

    def _refresh(self) -> None:
        if self._known != len(self.names):  # names were added: rebuild the lookup
            self._ids = {n.lower(): i for i, n in self.names.items() if n}
            self._known = len(self.names)

    def addressed(self, text: str) -> frozenset[str]:
        self._refresh()
        recent = {
            self.names.get(s.member_id, "").lower() for s in self.recent[-2 * MAX_CANDIDATES :]
        }
        return addressed(text, self._ids, {n for n in recent if len(n) >= NAME_ANYWHERE})

    def prepare(self, id: int, member_id: int, at: datetime, text: str, question: bool) -> Said:
        return Said(
            id,
            member_id,
            at,
            text,
            question,
            self.addressed(text),
            content_words(text),
            len(_TOKEN.findall(text)),
        )

    def candidates(self, msg: Said) -> Sequence[tuple[int, Said]]:
        """Earlier messages of other members in the window, the latest first, with the
        number of other members' messages between."""
        out: list[tuple[int, Said]] = []
        window = self.model.window_minutes * 60
        for cand in reversed(self.recent):
            if (msg.at - cand.at).total_seconds() > window:
                break
            if cand.member_id != msg.member_id:
                out.append((len(out), cand))
            if len(out) >= self.model.max_candidates:
                break
        return out

    def _within(self, seen: datetime | None, at: datetime, minutes: float) -> bool:
        return seen is not None and (at - seen).total_seconds() <= minutes * 60

    def features(
        self, msg: Said, cand: Said, position: int, busy: int, adjacent: dict[int, int]
    ) -> tuple[float, ...]:
        self._refresh()
        author = self.names.get(cand.member_id, "").lower()
        me = self.names.get(msg.member_id, "").lower()
        latest = next((c for c in reversed(self.recent) if c.member_id == cand.member_id), None)
        window = self.model.window_minutes * 60
        first = not any(
            c.member_id == cand.member_id
            and c.at < cand.at
            and (cand.at - c.at).total_seconds() <= window
            for c in self.recent
        )
        a, b = msg.member_id, cand.member_id
        talked = self._within(self.named.get((a, b)), msg.at, TALK_MINUTES) or self._within(
            self.named.get((b, a)), msg.at, TALK_MINUTES
        )
        mine_before = self.last_names.get(a)
        spoke = any(
            c.member_id == a and (msg.at - c.at).total_seconds() <= window for c in self.recent
        )
        shared = msg.words & cand.words
        union = msg.words | cand.words
        gap = max(0.0, (msg.at - cand.at).total_seconds() / 60)
        return (
            float(bool(author) and author in msg.names),
            float(bool(me) and me in cand.names),
            float(bool(msg.names) and author not in msg.names),
            float(bool(cand.names) and me not in cand.names),
            math.log1p(gap),
            math.log1p(position),
            float(position == 0),
            float(latest is cand),
            float(cand.question),
            float(self._within(self.questions.get(b), msg.at, ASK_MINUTES)),
            float(msg.question and not msg.names),
            len(shared) / len(union) if union else 0.0,
            float(bool(shared)),
            float(talked),
            float(mine_before is not None and bool(author) and author in mine_before),
            math.log1p(adjacent.get(b, 0)),
            float(not spoke),
            float(first),
            float(msg.tokens <= SHORT_TOKENS),
            math.log1p(busy),
        )

    def _adjacent(self, member_id: int) -> dict[int, int]:
        """How often each member spoke right before or after ``member_id`` lately."""
        out: dict[int, int] = {}
        tail = self.recent[-2 * MAX_CANDIDATES :]
        for prev, nxt in itertools.pairwise(tail):
            if prev.member_id == member_id and nxt.member_id != member_id:
                out[nxt.member_id] = out.get(nxt.member_id, 0) + 1
            elif nxt.member_id == member_id and prev.member_id != member_id:
                out[prev.member_id] = out.get(prev.member_id, 0) + 1
        return out

    def scored(self, msg: Said) -> list[tuple[Said, tuple[float, ...]]]:
        """Every candidate with its features (what training and inference both see)."""
        cands = self.candidates(msg)
        adjacent = self._adjacent(msg.member_id)
        return [(c, self.features(msg, c, p, len(cands), adjacent)) for p, c in cands]

    def asked_recently(self, member_id: int, at: datetime, minutes: float = ASK_MINUTES) -> bool:
        """The member asked something in the last minutes: a reply to any of their lines
        then answers that question (askers split a question over several lines)."""
        return self._within(self.questions.get(member_id), at, minutes)

    def infer(self, msg: Said) -> tuple[Said | None, float]:
        """The most likely target and its probability (None below the threshold)."""
        best, best_p = None, 0.0
        scored = self.scored(msg)
        for cand, feats in scored:
            p = self.model.probability(feats)
            if p > best_p:
                best, best_p = cand, p
        if best is not None and best_p >= self.model.threshold:
            return best, best_p
        return self._quiet_answer(msg, [c for c, _ in scored]), best_p

    def _quiet_answer(self, msg: Said, candidates: list[Said]) -> Said | None:
        """In a quiet group (one or two others spoke lately) a statement right after
        another member's question answers it. The model learned a busy channel, where
        the next line is as likely to belong to another conversation; it has never seen
        a group this quiet."""
        if len(candidates) > 2 or msg.question or msg.names or not candidates:
            return None
        latest = self.recent[-1] if self.recent else None
        first = candidates[0]
        return first if first is latest and first.question else None

    def link(self, msg: Said, explicit: int | None = None, infer: bool = True) -> Said | None:
        """Remember ``msg``; return the message it replies to (explicit, else inferred)."""
        target: Said | None = None
        if explicit is not None:
            target = next((c for c in self.recent if c.id == explicit), None)
        elif infer:
            target, msg.probability = self.infer(msg)
        self.remember(msg)
        return target

    def remember(self, msg: Said) -> None:
        self._refresh()
        for n in msg.names:
            other = self._ids.get(n)
            if other is not None and other != msg.member_id:
                self.named[(msg.member_id, other)] = msg.at
        if len(self.named) > 4096:  # forget conversations long over
            self.named = {
                k: v for k, v in self.named.items() if self._within(v, msg.at, TALK_MINUTES)
            }
        self.last_names[msg.member_id] = msg.names
        self.recent.append(msg)
        if msg.question:
            self.questions[msg.member_id] = msg.at
        if len(self.recent) > 4 * MAX_CANDIDATES:
            del self.recent[: len(self.recent) - 2 * MAX_CANDIDATES]
