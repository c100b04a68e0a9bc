"""Detectors that read the text: banned words, links, group invitations, contact offers.

Each works on a :class:`Normalized` message and returns findings with the evidence in the
original text. All patterns are linear-time regular expressions (no nested repetition),
so a hostile 100 kB message costs milliseconds, not minutes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import accumulate

import ahocorasick

from qunzhu.moderation.findings import Finding, found
from qunzhu.moderation.normalize import Normalized, normalize
from qunzhu.moderation.ordinary import IPV4
from qunzhu.spec.rules import Rules

_TLDS = (
    "com|net|org|cn|me|io|top|xyz|life|vip|cc|info|biz|club|site|online|shop|app|ly|gg|tk|"
    "ml|co|us|uk|ru|hk|tw|link|live|pro|fun|win|bet|store|icu|work|asia|tv|in|de|jp"
)
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w@.-])(?:[a-z0-9-]{1,63}\.){1,4}(?:" + _TLDS + r")(?![a-z0-9-])(?:/[^\s<>\"']*)?"
)
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?([^/:?#\s]+)")

_INVITE_TEXT = re.compile(
    r"t\.me/(?:joinchat/|\+)[\w-]+|(?:telegram\.me|t\.me)/[a-z0-9_]{4,}"
    r"|discord(?:\.gg|app\.com/invite|\.com/invite)/[\w-]+"
    r"|(?:jq|qm)\.qq\.com/[^\s]+|weixin\.qq\.com/g/[^\s]+|u\.wechat\.com/[^\s]+"
)
_INVITE_COMPACT = re.compile(
    r"t ?me ?(?:joinchat|\+)|discord ?gg ?[a-z0-9]{4,}"
    r"|(?:qq群|q群|群号|群聊号|进群|加群|入群)[号码:：]{0,2}[^\d]{0,3}?[1-9]\d{5,10}(?!\d)"
)
# Patterns start with a plain character where they can (look-behinds after it): the regex
# engine then jumps to candidates instead of trying every position of a long message.
# A mainland mobile number, "+86" / "86" in front allowed, not inside a longer number:
_PHONE = (
    r"\+(?<!\d\+)861[3-9]\d{9}(?!\d)|8(?<!\d8)61[3-9]\d{9}(?!\d)|1(?<![\da-z]1)[3-9]\d{9}(?!\d)"
)
_BARE_PHONE = re.compile(_PHONE)
_IPV4 = re.compile(IPV4)
"""An IPv4 address as written: the compact view drops its dots, and "193.27.192.165" then
reads as a mobile number (19327192165)."""
_CUE = r"(?:加|\+|家|咖|联系|私聊|咨询|找我|电话|手机|call|text|txt|whatsapp|dm|contact)"
_CONTACT: list[tuple[re.Pattern[str], str, float, str]] = [
    # (pattern, detector, score, gate): a pattern runs only when its gate is in the text
    (
        re.compile(r"微信号?[:：]?\s?(?:[a-z][a-z0-9_-]{5,19}|\d{6,12})(?![a-z0-9_-])"),
        "wechat_id",
        0.95,
        "微信",
    ),
    (re.compile(r"(?:加|家|咖|嘉)\s?(?:v|w)\s?[a-z0-9_-]{5,20}"), "wechat_id", 0.9, "add_v"),
    (
        # "+v abc_123", not "hfs+ without" or "chmod +w notes": a lone v/w, an id with a digit
        re.compile(r"\+\s?(?:v|w)(?![a-z])\s?[:：]?\s?(?=[a-z0-9_-]*[\d_])[a-z0-9_-]{5,20}"),
        "wechat_id",
        0.9,
        "add_v",
    ),
    (re.compile(r"v(?<![a-z0-9]v)\s?\d{7,12}(?!\d)"), "wechat_id", 0.85, "v_digits"),
    (re.compile(r"qq(?<!群qq)号?[:：]?\s?[1-9]\d{4,10}(?!\d)"), "qq_number", 0.95, "qq"),
    (re.compile(r"q(?<![a-z0-9]q)\s?[1-9]\d{6,10}(?!\d)"), "qq_number", 0.8, "q_digits"),
    (re.compile(r"[1-9](?<!\d[1-9])\d{5,10}(?:是|为)?qq"), "qq_number", 0.85, "qq"),
    # "+" after a digit is a sum ("5+6555655", "48900+1000=45000"), not "add"
    (
        re.compile(r"(?:加|\+(?<!\d\+)|家)\s?[1-9]\d{5,10}(?!\d)"),
        "contact_number",
        0.8,
        "add_digits",
    ),
    (
        re.compile(_CUE + r".{0,12}?(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)"),
        "phone_number",
        0.95,
        "mobile",
    ),
    (_BARE_PHONE, "phone_number", 0.8, "mobile"),
    (
        # "call", "text" and "ring" whole words: "entering localhost:62402", "context 12345"
        # are no offer; "txt" and "sms" end no English word ("4uTxt CHAT to 82242" is one)
        re.compile(
            r"(?:(?<![a-z])(?:call|text|ring)|txt|sms)\s(?:[a-z0-9&]+\s){0,3}?(?:0|\+44)?\d{5,11}(?!\d)"
        ),
        "phone_number",
        0.75,
        "digits",
    ),
    (
        re.compile(r"(?:飞机|联系|私聊|咨询|找我|加我|contact|dm)[^@\s]{0,6}@[a-z][a-z0-9_]{3,31}"),
        "telegram_handle",
        0.9,
        "@",
    ),
]
_FIVE_DIGITS = re.compile(r"\d\d{4}")  # not \d{5}: a first character class lets it skip at C speed
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ADD_V = re.compile(r"[加+家咖嘉] ?[vw]")


@dataclass(frozen=True)
class WordList:
    """Banned words after normalization, in one Aho-Corasick automaton."""

    automaton: ahocorasick.Automaton | None
    size: int
    # the words written in ASCII alone, for :func:`screen` (None: not known, it reads all
    # messages with the automaton)
    latin: tuple[str, ...] | None = None

    def matches(self, compact: str) -> Iterable[tuple[int, int, str]]:
        if self.automaton is None or not compact:
            return
        for end, word in self.automaton.iter(compact):
            start = end - len(word) + 1
            if word.isascii() and (_letter_at(compact, start - 1) or _letter_at(compact, end + 1)):
                continue  # Latin words match whole words only ("sex" is not in "sussex")
            yield start, end + 1, word


def _letter_at(text: str, position: int) -> bool:
    return 0 <= position < len(text) and text[position].isascii() and text[position].isalpha()


def build_words(words: Iterable[str]) -> WordList:
    automaton = ahocorasick.Automaton()
    count = 0
    latin: dict[str, None] = {}
    for raw in words:
        word = normalize(raw.strip()).compact.strip()
        if word and not raw.lstrip().startswith("#"):
            automaton.add_word(word, word)
            count += 1
            if word.isascii():
                latin[word] = None
    if not count:
        return WordList(None, 0)
    automaton.make_automaton()
    return WordList(automaton, count, tuple(latin))


@lru_cache(maxsize=1)
def base_words() -> tuple[str, ...]:
    text = (
        resources.files("qunzhu.moderation")
        .joinpath("data", "base_words.txt")
        .read_text(encoding="utf-8")
    )
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def words_for(rules: Rules) -> WordList:
    listed = list(rules.banned_words.words)
    if rules.banned_words.use_base_list:
        listed += base_words()
    return build_words(listed)


def host_of(url: str) -> str:
    match = _HOST.match(url)
    return match.group(1).rstrip(".") if match else ""


def allowed_host(host: str, allow: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in (a.lower().strip(".") for a in allow))


def has_words(norm: Normalized, words: WordList) -> bool:
    """Whether :func:`scan_words` finds anything, without working out the evidence."""
    return any(True for _ in words.matches(norm.compact))


def scan_words(norm: Normalized, rules: Rules, words: WordList) -> list[Finding]:
    rule = rules.banned_words
    return [
        found(
            norm,
            "compact",
            start,
            end,
            rule="banned_words",
            detector="banned_word",
            severity=rule.severity,
            score=1.0,
            word=word,
        )
        for start, end, word in words.matches(norm.compact)
    ]


# Cheap first looks: most messages have none of these, and skip the patterns entirely.
# Each sign of an invitation ("t.me", "telegram", "discord", "qq.com", "wechat", "weixin",
# "群") is found from a rare letter of it and checked backwards: a branch starting with a
# common letter (t, d, w) made the regex engine stop at a tenth of all characters, and
# these only answer whether a message has the sign, not where it starts.
_INVITE_SIGNS = (
    r"me\b(?:(?<=tme)|(?<=t me)|(?<=t\.me)|(?<=t \.me)|(?<=t\. me)|(?<=t \. me))",
    "gram(?<=telegram)",
    "cord(?<=discord)",
    r"qq\.com",
    "chat(?<=wechat)",
    "xin(?<=weixin)",
    "群",
)
_MAY_INVITE = re.compile("|".join(_INVITE_SIGNS))
_SIGNS = re.compile(
    # _MAY_INVITE and the contact gates (_gates) in one, each branch starting with a plain
    # character, which lets the regex engine skip to candidates at C speed (normalized digits
    # are ASCII)
    "|".join(
        [
            *_INVITE_SIGNS,
            *("微信", "qq", "@"),
            *(d + r"\d{4}" for d in "0123456789"),
            *(re.escape(c) + " ?[vw]" for c in "加+家咖嘉"),
        ]
    )
)


def screen(norms: Sequence[Normalized], words: WordList) -> list[bool]:
    """For each message, whether the word list, the invitation or the contact detectors
    could find anything in it: one pass over the whole batch instead of three calls per
    message. False is sure; True only means those detectors must look."""
    hit = [False] * len(norms)
    # both views of every message end to end; no sign or banned word spans a newline
    starts, joined = _joined([f"{norm.compact}\n{norm.text}\n" for norm in norms])
    search = _SIGNS.search
    match = search(joined)
    while match is not None:
        # one sign is enough: go on from the next message (a message with a number or an
        # "@" often has many, and each would cost a bisection)
        at = bisect_right(starts, match.start()) - 1
        hit[at] = True
        match = search(joined, starts[at + 1])
    if words.automaton is not None:
        # banned words are looked for in the compact view only (half the text to read), and
        # only in the messages without a sign yet: most of the batch, not all of it
        rest = [i for i, sign in enumerate(hit) if not sign]
        if words.latin is not None and len(words.latin) <= _FIND_LATIN_UP_TO:
            # in an ASCII message only the Latin words can occur: a few str.find over those
            # messages (most chat) cost less than the automaton reading every character
            ascii_ = [i for i in rest if norms[i].compact.isascii()]
            rest = [i for i in rest if not norms[i].compact.isascii()]
            _find_words(hit, ascii_, norms, words.latin)
        starts, joined = _joined([f"{norms[i].compact}\n" for i in rest])
        for end, _ in words.automaton.iter(joined):
            hit[rest[bisect_right(starts, end) - 1]] = True
    return hit


_FIND_LATIN_UP_TO = 32
"""Up to this many Latin words :func:`screen` looks for each with str.find."""


def _find_words(
    hit: list[bool], among: list[int], norms: Sequence[Normalized], words: tuple[str, ...]
) -> None:
    """Marks the messages ``among`` whose compact view holds one of ``words``."""
    starts, joined = _joined([f"{norms[i].compact}\n" for i in among])
    for word in words:
        at = joined.find(word)
        while at >= 0:
            k = bisect_right(starts, at) - 1
            hit[among[k]] = True
            at = joined.find(word, starts[k + 1])  # one is enough: on to the next message


def _joined(pieces: list[str]) -> tuple[list[int], str]:
    """Where each piece starts, and all of them in one string."""
    return list(accumulate(map(len, pieces), initial=0)), "".join(pieces)


def _may_invite(norm: Normalized) -> bool:
    """Whether either view has a sign of an invitation (one call for both views)."""
    return _MAY_INVITE.search(f"{norm.text}\n{norm.compact}") is not None


def scan_invites(norm: Normalized, rules: Rules) -> list[Finding]:
    if not _may_invite(norm):
        return []
    severity = rules.group_invites.severity
    out = [
        found(
            norm,
            "text",
            m.start(),
            m.end(),
            rule="group_invites",
            detector="invite_link",
            severity=severity,
            score=0.95,
        )
        for m in _INVITE_TEXT.finditer(norm.text)
    ]
    if not out:
        out = [
            found(
                norm,
                "compact",
                m.start(),
                m.end(),
                rule="group_invites",
                detector="invite_text",
                severity=severity,
                score=0.85,
            )
            for m in _INVITE_COMPACT.finditer(norm.compact)
        ]
    return out


def has_invite(norm: Normalized) -> bool:
    """Whether :func:`scan_invites` finds anything, without working out the evidence."""
    if not _may_invite(norm):
        return False
    return bool(_INVITE_TEXT.search(norm.text) or _INVITE_COMPACT.search(norm.compact))


def has_contact(norm: Normalized) -> bool:
    """Whether :func:`scan_contacts` finds anything, without working out the evidence (a
    pattern's first match is always reported: only later ones can overlap a surer one)."""
    return any(
        next(_offers(norm, pattern), None) is not None
        for pattern, *_ in _open_patterns(norm.compact)
    )


def _offers(norm: Normalized, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The pattern's matches in the compact view, but a bare mobile number that is an IPv4
    address as written (technical chat: "http://193.27.192.165/error"). With a cue in
    front ("加我 138.123.123.12") the cued pattern, run first, still finds it."""
    matches = pattern.finditer(norm.compact)
    if pattern is not _BARE_PHONE:
        return matches
    return (m for m in matches if not _is_address(norm, m))


def _is_address(norm: Normalized, match: re.Match[str]) -> bool:
    start, end = norm.span("compact", match.start(), match.end())
    return any(ip.start() <= start and end <= ip.end() for ip in _IPV4.finditer(norm.original))


def _gates(compact: str) -> set[str]:
    """Which cheap signs of a contact offer the text has (most messages have none)."""
    gates = {gate for gate in ("微信", "qq", "@") if gate in compact}
    if _FIVE_DIGITS.search(compact):
        gates.add("digits")
        # each of these patterns also needs a letter or a number of its own: a message with
        # digits (most offers, many chat lines) skips the patterns that cannot match
        if "v" in compact:
            gates.add("v_digits")
        if "q" in compact:
            gates.add("q_digits")
        if "加" in compact or "+" in compact or "家" in compact:
            gates.add("add_digits")
        if _MOBILE.search(compact):
            gates.add("mobile")
    if _ADD_V.search(compact):
        gates.add("add_v")
    return gates


def _open_patterns(compact: str) -> tuple[tuple[re.Pattern[str], str, float], ...]:
    """The contact patterns worth running on ``compact`` (none for most messages)."""
    gates = _gates(compact)
    return _contact_patterns(frozenset(gates)) if gates else ()


@lru_cache(maxsize=512)
def _contact_patterns(gates: frozenset[str]) -> tuple[tuple[re.Pattern[str], str, float], ...]:
    """The patterns whose gate is open, in their order (at most 512 sets of gates)."""
    return tuple((p, detector, score) for p, detector, score, gate in _CONTACT if gate in gates)


def scan_contacts(norm: Normalized, rules: Rules) -> list[Finding]:
    compact = norm.compact
    patterns = _open_patterns(compact)
    if not patterns:
        return []
    severity = rules.contact_solicitation.severity
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for pattern, detector, score in patterns:
        for m in _offers(norm, pattern):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue  # one offer, reported once by the surest pattern
            taken.append(m.span())
            out.append(
                found(
                    norm,
                    "compact",
                    m.start(),
                    m.end(),
                    rule="contact_solicitation",
                    detector=detector,
                    severity=severity,
                    score=score,
                )
            )
    return out


def scan_links(norm: Normalized, rules: Rules, *, newcomer: bool) -> list[Finding]:
    """Links the rules forbid: all of them, or a newcomer's, except allowed domains."""
    rule = rules.links
    if rule.allowed and not newcomer:
        return []
    out: list[Finding] = []
    for m in _LINK.finditer(norm.text):
        host = host_of(m.group(0))
        if allowed_host(host, rule.allow_domains):
            continue
        detector = "link" if not rule.allowed else "newcomer_link"
        out.append(
            found(
                norm,
                "text",
                m.start(),
                m.end(),
                rule="links",
                detector=detector,
                severity=rule.severity,
                score=0.9,
                domain=host,
            )
        )
    return out


def links_in(norm: Normalized) -> list[str]:
    return [m.group(0) for m in _LINK.finditer(norm.text)]
