"""Which earlier message a message answers, when the platform did not say (IRC logs, WeChat
exports without quotes): a linear score over the few messages just before it.

Features (weights in :data:`WEIGHTS`, learned on the annotated #ubuntu sessions — see
bench/bench_intelligence.py, which prints the link precision and recall):

- the message names the candidate's author (``nick: …``, ``@name``) — the strongest sign;
- the candidate named this message's author (the answer to "you: …");
- the two authors spoke to each other just before (a conversation going on);
- the candidate is a question; the two share content words;
- the candidate is its author's latest message;
- minus the minutes and the messages between them; minus when this message names someone
  else, or the candidate named someone else; minus when this message is a question of its
  own that names nobody (it starts a thread rather than answering one).

A link is made when the best candidate scores at least :data:`THRESHOLD`; in a quiet
group a statement right after another member's question is taken as its answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from qunzhu.engines.features import normalize

# Logistic regression on the #ubuntu annotations (sessions with an even index in name
# order; evaluated on the odd ones: precision 0.52, recall 0.65 at THRESHOLD).
WEIGHTS = {
    "addressed": 2.04,
    "addressed_back": 0.75,
    "talking": 2.11,
    "question": 0.45,
    "shared_words": 5.49,
    "per_minute": -0.245,
    "per_position": -0.197,
    "own_question": -0.38,
    "names_another": -2.06,
    "cand_names_another": -1.13,
    "author_latest": 1.54,
    "bias": -4.69,
}
THRESHOLD = -1.5  # log-odds: a link when the best candidate is at least this likely
WINDOW_MINUTES = 15
MAX_CANDIDATES = 12
STOP = frozenset(
    """
    the a an and or but to of in on for is it i you he she we they this that be are was
    do does did have has with at as not no yes so if my your me can just what how why
    there then than from by ok its it's im i'm dont don't
    """.split()  # noqa: SIM905  (a word list reads best as words)
)
_WORD = re.compile(r"[a-z0-9][a-z0-9_.\-]{2,}|[\u3400-\u9fff]{2}")


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(normalize(text)) if w not in STOP)


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


@dataclass
class Linker:
    """Keeps the recent messages of one group; :meth:`link` returns the inferred target."""

    names: dict[int, str] = field(default_factory=dict)  # member id -> display name
    recent: list[Said] = field(default_factory=list)
    pairs: dict[tuple[int, int], datetime] = field(default_factory=dict)
    questions: dict[int, datetime] = field(default_factory=dict)  # member -> last asked
    _known: set[str] = field(default_factory=set, repr=False)

    def addressed(self, text: str) -> frozenset[str]:
        low = text.lower()
        head = low.split(None, 1)[0].rstrip(":,") if low.strip() else ""
        found = {head} if head else set()
        found.update(m[1:].rstrip(":,，") for m in re.findall(r"@\S+", low))
        if len(self._known) != len(self.names):  # names were added: refresh the lookup
            self._known = {n.lower() for n in self.names.values() if n}
        hits = {f for f in found if f in self._known}
        # a recent speaker's name anywhere in the text (short names only count at the start)
        for said in self.recent[-2 * MAX_CANDIDATES :]:
            n = self.names.get(said.member_id, "").lower()
            if len(n) >= 4 and n in low:
                hits.add(n)
        return frozenset(hits)

    def features(self, msg: Said, cand: Said, position: int) -> dict[str, float]:
        author = self.names.get(cand.member_id, "").lower()
        newest = next((c for c in reversed(self.recent) if c.member_id == cand.member_id), None)
        latest = newest is cand
        me = self.names.get(msg.member_id, "").lower()
        shared = msg.words & cand.words
        union = msg.words | cand.words
        return {
            "addressed": float(bool(author) and author in msg.names),
            "addressed_back": float(bool(me) and me in cand.names),
            "talking": float(self._talking(msg.member_id, cand.member_id, msg.at)),
            "question": float(cand.question),
            "shared_words": len(shared) / len(union) if union else 0.0,
            "per_minute": max(0.0, (msg.at - cand.at).total_seconds() / 60),
            "per_position": float(position),
            "own_question": float(msg.question and not msg.names),
            "names_another": float(bool(msg.names) and author not in msg.names),
            "cand_names_another": float(bool(cand.names) and me not in cand.names),
            "author_latest": float(latest),
            "bias": 1.0,
        }

    def _talking(self, a: int, b: int, at: datetime) -> bool:
        for pair in ((a, b), (b, a)):
            seen = self.pairs.get(pair)
            if seen is not None and (at - seen).total_seconds() <= 2 * WINDOW_MINUTES * 60:
                return True
        return False

    def score(self, feats: dict[str, float]) -> float:
        return sum(WEIGHTS[k] * v for k, v in feats.items())

    def candidates(self, msg: Said) -> Sequence[tuple[int, Said]]:
        out: list[tuple[int, Said]] = []
        for position, cand in enumerate(reversed(self.recent)):
            if (msg.at - cand.at).total_seconds() > WINDOW_MINUTES * 60:
                break
            if cand.member_id != msg.member_id:
                out.append((position, cand))
            if len(out) >= MAX_CANDIDATES:
                break
        return out

    def asked_recently(self, member_id: int, at: datetime, minutes: float = 30) -> bool:
        """The member asked something in the last minutes: a reply to any of their lines
        then answers that question (askers split a question over several lines)."""
        asked = self.questions.get(member_id)
        return asked is not None and (at - asked).total_seconds() <= minutes * 60

    def _quiet_answer(self, msg: Said, candidates: Sequence[tuple[int, Said]]) -> Said | None:
        """In a quiet group (one or two others spoke lately) a statement right after another
        member's question answers it. The model above learned a busy channel, where the
        next line is as likely to belong to another conversation."""
        if len(candidates) > 2 or msg.question or msg.names or not candidates:
            return None
        position, cand = candidates[0]
        return cand if position == 0 and cand.question else None

    def prepare(self, id: int, member_id: int, at: datetime, text: str, question: bool) -> Said:
        return Said(id, member_id, at, text, question, self.addressed(text), content_words(text))

    def link(self, msg: Said, explicit: int | None = None, infer: bool = True) -> Said | None:
        """Remember ``msg``; return the message it replies to (explicit, else inferred)."""
        target: Said | None = None
        if explicit is not None:
            target = next((c for c in self.recent if c.id == explicit), None)
        elif infer:
            best, best_score = None, THRESHOLD
            candidates = self.candidates(msg)
            for position, cand in candidates:
                s = self.score(self.features(msg, cand, position))
                if s >= best_score:
                    best, best_score = cand, s
            target = best or self._quiet_answer(msg, candidates)
        if target is not None:
            self.pairs[(msg.member_id, target.member_id)] = msg.at
            if len(self.pairs) > 4096:  # forget conversations long over
                self.pairs = {
                    k: v
                    for k, v in self.pairs.items()
                    if (msg.at - v).total_seconds() <= 2 * WINDOW_MINUTES * 60
                }
        self.recent.append(msg)
        if msg.question:
            self.questions[msg.member_id] = msg.at
        if len(self.recent) > 4 * MAX_CANDIDATES:
            del self.recent[: len(self.recent) - 2 * MAX_CANDIDATES]
        return target
