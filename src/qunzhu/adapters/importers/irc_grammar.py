"""The line grammars of the IRC log layouts operators meet, and how a file's layout is told.

Each layout's ``read`` turns one line into ``(stamp, said)`` — or a reason it cannot be read:

- ``stamp``: None (the line carries no time: it takes the time before), ``("t", h, m, s)``
  (a time of day; the date comes from the file name or a header), ``("d", day, h, m, s)``
  (a full local date and time), ``("md", month, day, h, m, s)`` (no year: dircproxy),
  ``("u", seconds)`` (a Unix time), ``("day", day)`` (a date header: irssi's ``--- Day
  changed``);
- ``said``: ``(kind, nick, other)`` with kind ``msg`` (other: the text; actions and notices
  are messages too), ``join``, ``leave``, ``kick`` (other: the kicker), ``rename`` (other:
  the new nick) or ``skip`` (topic, mode, server and client lines: nothing a member did).

Where each shape was learned is written in tests/adapters/test_importer_irc_corpus.py,
beside the samples of every layout it reads.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

Said = tuple[str, str, str]
Stamp = tuple[Any, ...] | None
Read = tuple[Stamp, Said] | str

ADDRESSED = re.compile(r"\s*([^\s:,]{1,32})[:,](?:\s|$)")
SKIP: Said = ("skip", "", "")
_MODES = "@%+~&!"  # channel-status marks some clients write before a nick

# --- what each layout's lines look like (bytes: the file's head before it is decoded) ---
SNIFFS: dict[str, re.Pattern[bytes]] = {
    "weechat": re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t"),
    "limnoria": re.compile(rb"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d  [<*-]"),
    "dircproxy": re.compile(rb"^(?:@\d{9,11} [<\[-]|\[\d\d [A-Z][a-z]{2} \d\d:\d\d\] )"),
    "irssi": re.compile(
        rb"^(?:\d\d:\d\d(?::\d\d)? (?:<[ @%+~&]?[^>]+>| \* |-!- |-[^\s:]+:\S+- )"
        rb"|--- (?:Log opened|Day changed|Log closed) )"
    ),
    # irclogs (irclogs.ubuntu.com) and ZNC share the bracketed clock
    "brackets": re.compile(
        rb"^(?:\[\d{1,2}:\d{2}(?::\d{2})?\] (?:<[^>]+>|\s*\*|-\S+- )|=== |--- (?:Log|Day) )"
    ),
}


def layout_of(head: bytes, *, most: bool = True) -> str | None:
    """The layout most of the head's first 20 non-empty lines are written in, if most are
    (``most``), or if any is."""
    lines = [line for line in head.splitlines()[: 40 if most else 2000] if line.strip()]
    lines = lines[:20] if most else lines
    if lines[:1] and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    best, hits = None, 0
    for name, pattern in SNIFFS.items():
        n = sum(1 for line in lines if pattern.match(line))
        if n > hits:
            best, hits = name, n
    return best if hits and (hits * 2 > len(lines) or not most) else None


# --- bodies shared by ZNC, Limnoria and the bracketed irclogs lines ------------------------
_STAR_MESSAGE = re.compile(r"<[ @%+~&]?([^>\s]+)> ?(.*)$")
_STAR_ACTION = re.compile(r"\* (\S+) ?(.*)$")
NOTICE = re.compile(r"-(\S+?)- ?(.*)$")
_STAR_SYSTEM: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Joins: (\S+)"), "join"),  # ZNC
    (re.compile(r"(?:Parts|Quits): (\S+)"), "leave"),
    (re.compile(r"(\S+) <[^>]*> has joined "), "join"),  # Limnoria
    (re.compile(r"(\S+) <[^>]*> has (?:left|quit)\b"), "leave"),
    (re.compile(r"(\S+) was kicked by (\S+)"), "kick"),  # both
    (re.compile(r"(\S+) is now known as (\S+)"), "rename"),
)


def star_body(body: str) -> Said | None:
    """``<nick> text``, ``* nick action``, ``-nick- notice``, ``*** system`` (ZNC, Limnoria)."""
    first = body[:1]
    if first == "<":
        found = _STAR_MESSAGE.match(body)
        return None if found is None else ("msg", nick_of(found[1]), found[2])
    if body.startswith("*** "):
        return system(body[4:], _STAR_SYSTEM)
    if first == "*":
        found = _STAR_ACTION.match(body)
        return None if found is None else ("msg", found[1], found[2])
    if first == "-":
        found = NOTICE.match(body)
        return None if found is None else ("msg", nick_of(found[1]), found[2])
    return None


def system(text: str, grammar: tuple[tuple[re.Pattern[str], str], ...]) -> Said:
    for pattern, kind in grammar:
        found = pattern.match(text)
        if found is not None:
            other = found[2] if found.re.groups > 1 else ""
            return kind, nick_of(found[1]), nick_of(other) if kind == "kick" else other
    return SKIP


def nick_of(who: str) -> str:
    """The nick of ``nick!user@host`` (dircproxy writes the whole prefix)."""
    cut = who.find("!")
    return who[:cut] if cut > 0 else who


def _clock(h: str, m: str, s: str | None) -> tuple[Any, ...]:
    return ("t", int(h), int(m), int(s or 0))


# --- ZNC inside the bracketed layout: ``[21:25:15] *** Joins: nick (~u@host)`` -------------
_BRACKETED = re.compile(r"\[(\d{1,2}):(\d{2})(?::(\d{2}))?\] (.*)$")


def read_bracketed(line: str) -> Read:
    found = _BRACKETED.match(line)
    if found is None:
        return "not an IRC log line"
    said = star_body(found[4])
    return "not an IRC log line" if said is None else (_clock(*found.groups()[:3]), said)


# --- irclogs' ``===`` lines (no time of their own) ---------------------------------------
_IRCLOGS_SYSTEM: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(.+?)\s+\[\S*\]\s+has joined\b"), "join"),
    (re.compile(r"(.+?)\s+\[\S*\]\s+has (?:left|quit)\b"), "leave"),
    (re.compile(r"(\S+) was kicked off [#&+!]\S* by (\S+)"), "kick"),  # a channel: not a /me
    (re.compile(r"(.+?)\s+is now known as (.+?)\s*$"), "rename"),
)
_IRCLOGS_OTHER = re.compile(r"(?:\.\.\[topic|mode/|\S+\.\S+ -> |\[?topic|Topic|\S+ sets mode)")
_IRCLOGS_EMOTE = re.compile(r"(\S+) (.+)$")


def read_irclogs_system(text: str) -> Said | None:
    """The part of an irclogs ``=== …`` line after ``=== ``."""
    said = system(text, _IRCLOGS_SYSTEM)
    if said is not SKIP:
        return said[0], said[1].strip(), said[2]
    if _IRCLOGS_OTHER.match(text):
        return SKIP
    emote = _IRCLOGS_EMOTE.match(text)  # irclogs writes /me actions as "=== nick does"
    return None if emote is None else ("msg", emote[1], emote[2])


# --- irssi: ``21:25 < nick> text``, ``21:25 -!- nick [~u@host] has joined #chan`` -------
_IRSSI = re.compile(r"(\d\d):(\d\d)(?::(\d\d))? (.*)$")
_IRSSI_MESSAGE = re.compile(r"<[ @%+~&]?([^>]+)> ?(.*)$")
_IRSSINOTICE = re.compile(r"-([^\s:]+):\S*?- ?(.*)$")
_IRSSI_SYSTEM: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\S+) \[[^\]]*\] has joined "), "join"),
    (re.compile(r"(\S+) \[[^\]]*\] has (?:left|quit)\b"), "leave"),
    (re.compile(r"(\S+) was kicked from \S+ by (\S+)"), "kick"),
    (re.compile(r"(\S+) is now known as (\S+)"), "rename"),
)
LOG_OPENED = re.compile(r"--- Log opened \w{3} (\w{3} +\d{1,2} [\d:]+ \d{4})")
DAY_CHANGED = re.compile(r"--- Day changed \w{3} (\w{3} +\d{1,2} \d{4})")


def read_irssi(line: str) -> Read:
    if line.startswith("--- "):
        return header(line), SKIP
    found = _IRSSI.match(line)
    if found is None:
        return "not an irssi log line"
    body, said = found[4], None
    if body.startswith("-!- "):
        said = system(body[4:], _IRSSI_SYSTEM)
    elif body.startswith("<"):
        m = _IRSSI_MESSAGE.match(body)
        said = None if m is None else ("msg", m[1], m[2])
    elif body.startswith(" * "):
        m = _STAR_ACTION.match(body[1:])
        said = None if m is None else ("msg", m[1], m[2])
    elif body.startswith("-"):
        m = _IRSSINOTICE.match(body)
        said = None if m is None else ("msg", m[1], m[2])
    if said is None:
        return "not an irssi log line"
    return _clock(*found.groups()[:3]), said


def header(line: str) -> Stamp:
    """The date of irssi's ``--- Log opened …`` / ``--- Day changed …``; None for others
    (``--- Log closed``)."""
    opened = LOG_OPENED.match(line)
    if opened:
        return ("day", datetime.strptime(opened[1], "%b %d %H:%M:%S %Y").date())
    changed = DAY_CHANGED.match(line)
    if changed:
        return ("day", datetime.strptime(changed[1], "%b %d %Y").date())
    return None


# --- weechat: ``2018-06-13 21:25:15<TAB>prefix<TAB>text`` ---------------------------------
_WEECHAT = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\t([^\t]*)(?:\t(.*))?$")
_WEECHAT_JOIN = re.compile(r"(\S+) .*\bhas joined ")
_WEECHAT_LEAVE = re.compile(r"(\S+) .*\bhas (?:left|quit)\b")
_WEECHAT_KICK = re.compile(r"(\S+) has kicked (\S+)")
_WEECHAT_RENAME = re.compile(r"(\S+) is now known as (\S+)")
_WEECHATNOTICE = re.compile(r"Notice\(([^)\s]+)\)(?: -> \S+)?: ?(.*)$")


def read_weechat(line: str) -> Read:
    found = _WEECHAT.match(line)
    if found is None:
        return "not a weechat log line"
    stamp = _dated(found)
    prefix, text = found[7], found[8]
    if text is None:  # "****  Beginning of log  ****" and other lines without a sender
        return (stamp, SKIP) if prefix.startswith("****") else "not a weechat log line"
    said: Said | None = SKIP
    if prefix == "-->":
        m = _WEECHAT_JOIN.match(text)
        said = None if m is None else ("join", m[1], "")
    elif prefix == "<--":
        kick = _WEECHAT_KICK.match(text)
        m = _WEECHAT_LEAVE.match(text)
        if kick is not None:
            said = ("kick", kick[2], kick[1])
        else:
            said = None if m is None else ("leave", m[1], "")
    elif prefix == "--":
        rename, notice = _WEECHAT_RENAME.match(text), _WEECHATNOTICE.match(text)
        if rename is not None:
            said = ("rename", rename[1], rename[2])
        elif notice is not None:
            said = ("msg", notice[1], notice[2])
    elif prefix.strip() == "*":
        m = _STAR_ACTION.match("* " + text)
        said = None if m is None else ("msg", m[1], m[2])
    elif prefix and prefix[0] not in "=-<":  # a nick, with its channel mark if any
        said = ("msg", prefix.lstrip(_MODES) or prefix, text)
    if said is None:
        return "not a weechat log line"
    return stamp, said


def _dated(found: re.Match[str]) -> tuple[Any, ...]:
    y, mo, d, h, mi, s = (int(x) for x in found.groups()[:6])
    return ("d", (y, mo, d), h, mi, s)


# --- Supybot / Limnoria ChannelLogger: ``2018-06-13T21:25:15  <nick> text`` --------------
_LIMNORIA = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)  (.*)$")


def read_limnoria(line: str) -> Read:
    found = _LIMNORIA.match(line)
    if found is None:
        return "not a ChannelLogger log line"
    said = star_body(found[7])
    return "not a ChannelLogger log line" if said is None else (_dated(found), said)


def day_of(parts: tuple[int, int, int]) -> date:
    """A ``(year, month, day)`` of a dated stamp as a date; ValueError when impossible."""
    return date(*parts)
