"""What a message's text and kind say about it, before any context: substance once filler
is removed, links, code, questions, and whether it is filler at all ("+1", 收到, 哈哈, a
sticker, a red envelope).

Pure functions of one message; the scorer adds what needs other messages (answers,
duplicates, replies earned).
"""

from __future__ import annotations

import hashlib
import math
import re
from functools import cache
from typing import NamedTuple

# Whole messages that say nothing beyond presence (checked after normalizing).
FILLER_WORDS = frozenset(
    """
    +1 1 11 111 6 66 666 6666 ok okay k kk lol lmao haha hahaha hehe nice cool yes no yep
    yeah nope thx thanks ty np wow gg same agreed true +++ ++ hi hello hey morning gm gn
    bye brb hmm hm ah oh uh um ack noted done test
    收到 好的 好 嗯 嗯嗯 哦 哦哦 对 对的 是的 是 哈 哈哈 哈哈哈 哈哈哈哈 呵呵 嘿嘿 嘻嘻 赞 顶 冒泡
    谢谢 感谢 多谢 谢了 同感 同意 加一 厉害 牛 牛逼 666 早 早上好 晚安 午安 在 在吗 来了
    路过 围观 学习了 了解 明白 懂了 知道了 好滴 好嘞 可以 行 ok了 收到了 谢谢老师 感谢分享
    """.split()  # noqa: SIM905  (a word list reads best as words)
)
FILLER_KINDS = frozenset({"sticker", "red_envelope", "system"})
INFO_KINDS = {"file": "file", "image": "image", "link": "link", "video": "image"}

_BRACKETED = re.compile(r"\[[^\[\]]{1,8}\]")  # WeChat emoji codes: [偷笑] [表情] [photo]
_URL = re.compile(r"(https?://|www\.)\S+", re.I)
_MENTION = re.compile(r"@\S+")
_ADDRESS = re.compile(r"^[\w|\[\]`^{}\-]{2,20}[:,]\s+")  # IRC "nick: ..." addressing
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'_.\-/]*")
_PUNCT = re.compile(r"[\s\W_]+", re.U)
# code: a shell keyword before a space, or one of the marks below. Three patterns rather
# than one alternation: each starts with a literal or a class, so the regex engine skips to
# the candidates instead of trying every branch at every position (the slowest part of a
# first recompute's text work). The lookbehinds say what ``\w+\.conf`` and ``(^|\s)/etc/``
# said, checked after the literal.
_CODE_KEYWORD = re.compile(
    r"\b(?:def|import|class|return|function|const|sudo|apt-get|apt|dpkg|pip|npm|git|"
    r"chmod|mount|grep|modprobe|ifconfig|fdisk|lspci|lsmod|systemctl|docker)\s"
)
_CODE_MARK = re.compile(
    r"```|`[^`]+`|=>|\(\)|</?\w+>|\$\s\w|\.(?<=\w\.)(?:conf|list|py|sh|deb|log)\b|"
    r"/(?<!\S/)(?:etc|dev|usr|var|home|boot)/|~(?<!\S~)/"
)
_CODE_END = re.compile(r"[{};]\s*$")  # what :func:`_is_code` checks with rstrip
# every match of _CODE_KEYWORD in an ASCII text with no "[" is one of these words of the
# text's normal form (its \b and \s are spaces there; "apt-get" reads "apt get"): a text
# whose normal form holds none of them (most) skips the search
_CODE_WORDS = frozenset((
    "def", "import", "class", "return", "function", "const", "sudo", "apt", "dpkg", "pip",
    "npm", "git", "chmod", "mount", "grep", "modprobe", "ifconfig", "fdisk", "lspci",
    "lsmod", "systemctl", "docker",
))  # fmt: skip
_QUESTION_END = re.compile(r"[?？]\s*\W{0,3}$|[吗呢么嘛][?？。~～!！]*\s*$")
# an indirect question asks nothing: "不知道它在想什么", "它知道每个变量是什么" (unless the
# message asks who knows, or ends like a question)
_INDIRECT = re.compile(
    r"(?<!有人)(?<!谁)(知道|明白|清楚|懂|记得)[^，,。！!？?]{0,16}(什么|怎么|为什么|为啥|哪|多少)"
)
_ASKING_WHO = re.compile(r"有人知道|谁知道|有没有人|请问|请教|求助|[?？吗呢]")
# a question that is followed by more: "How sure are you? I was told…", "免费吗！免费我上"
_QUESTION_INSIDE = re.compile(r"\w\s?[?？]+\s*(?=\w)|[吗呢][?？!！，,]")
# "不是说好了吗", "什么鬼", "哪有不贪的": they ask nothing, they insist or exclaim
_RHETORICAL = re.compile(r"(不是说|不叫|还不|难道).{0,16}[吗么呢][?？!！。]*\s*$|^什么鬼|哪有不")
_AUX = r"can|could|does|do|is|are|should|would|will|has|have|did|may|must"
_SUBJECT = (
    r"i|you|u|we|they|he|she|it|there|this|that|these|those|some\w*|any\w*|one|my|your|his|"
    r"her|our|their|the|a|an"
)
# English puts the question word first; an auxiliary asks only with a subject after it
# ("can I…", "is there…"), not "should have written" or "could not find"
_QUESTION_START = re.compile(
    r"^(?:(?:how|why|where|which|who|anyone|anybody|any ?one|any ?body)\b|"
    # "what you need is…", "what a mess", "when it starts, hit d": statements
    r"what\b(?!\s+(?:might|may|i|you|we|he|she|they|a|an)\b)|"
    rf"when\s+(?:{_AUX}|was|were)\b|(?:{_AUX})\s+(?:{_SUBJECT})\b|"
    r"怎么|为什么|为啥|如何|哪|有没有|能不能|是否|请问|求问|求助)",
    re.I,
)
# for an opening normalized already (lower case) and ASCII: its letters are lower case,
# as the pattern's are, so the case-sensitive match is the same and twice as fast
_QUESTION_START_LOWER = re.compile(_QUESTION_START.pattern)
# Chinese asks in place: the question word sits where the answer goes ("部署在哪里比较好")
_ASKS_IN_PLACE = re.compile(
    r"怎么|怎样|如何|为什么|为啥|哪个|哪些|哪里|哪儿|哪家|多少|有没有|能不能|会不会|是不是|"
    r"干嘛|请教|请问|问一下|问下|求助|求推荐|有人知道|谁知道|谁有|有人(?:用过|遇到过|试过|会)|"
    r"是什么|是啥|啥意思|什么意思|什么时候"
)
# each branch with the runs of [a-z0-9] one of which every match of it in an ASCII line
# holds whole (between \b or a space and a space: "any", "there", "m" of "i'm", "work"
# before its \b): a line's runs say which branches to search, where they are known
_HELP_BRANCHES = (
    (r"any ?(one|body) (knows?|tried|use[sd]?|have|has|got|here)", ("any", "anyone", "anybody")),
    (r"is there (a|any) way", ("there",)),
    (r"how (do|can|would|should) (i|we|you)", ("how",)),
    (r"any (ideas?|help|clue|suggestions?)", ("any",)),
    (r"please help", ("please",)),
    (r"help me", ("help",)),
    (r"need (some )?help", ("need",)),
    (r"can (someone|somebody|anyone|anybody)", ("can",)),
    (r"i have (a|an|some) (problem|issue|question)s?", ("have",)),
    (r"i'?m (stuck|trying to figure)", ("m", "im")),
    (r"(does ?n'?t|does not|won'?t) work\b.*$", ("work",)),
    (
        r"i (get|got|am getting|'?m getting|keep getting) (an? |this |the |that )?"
        r"(error|message|warning)",
        ("get", "got", "getting"),
    ),
    (
        r"(asking|wondering|wonder) (how|what|why|where|if|whether)",
        ("asking", "wondering", "wonder"),
    ),
    (r"i (don'?t|do not|dont) know (how|what|why|where|which)", ("know",)),
    (r"looking for (help|a way|advice|suggestions?|recommendations?)", ("looking",)),
)  # fmt: skip
# a help request is a question even without a question mark ("anyone know…", "how do I…");
# a statement that something is broken or failed is not, on its own: in a channel most of
# them are replies ("I can't do it", "that card can't even handle it")
_HELP = re.compile(r"\b(" + "|".join(b for b, _ in _HELP_BRANCHES) + ")", re.I)


# for an ASCII line lower-cased already, by its runs: each run of _HELP_BRANCHES, its
# branches (lower case: the case-sensitive search of the lower-cased line is the case-blind
# one). _HELP matches where one of the branches the line's runs name does: most lines name
# none (and skip the search, the costliest of a first recompute's text work), the rest one
# or two, each searched for alone rather than the whole alternation at every word
def _branches_by_run() -> dict[str, tuple[re.Pattern[str], ...]]:
    by_run: dict[str, tuple[re.Pattern[str], ...]] = {}
    for branch, runs in _HELP_BRANCHES:
        for run in runs:
            by_run[run] = (*by_run.get(run, ()), re.compile(r"\b" + branch))
    return by_run


_HELP_BY_RUN = _branches_by_run()
_HELP_RUNS = frozenset(_HELP_BY_RUN)
_FENCED = re.compile(r"```.*?(```|$)", re.S)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|「[^」]*」")  # quoted words are not asked

SUBSTANCE_CAP = 1.5
_new = tuple.__new__
_blake2b = hashlib.blake2b


class TextFeatures(NamedTuple):
    """A named tuple: one is made for each message of a recompute, and a frozen dataclass
    took several times as long to make (a tenth of the text work)."""

    tokens: int  # words and CJK characters left once filler, links and mentions are removed
    substance: float  # 0..SUBSTANCE_CAP: 0.5 at 10 tokens, 1.0 at 30, grows with the log
    link: bool
    file: bool
    image: bool
    code: bool
    question: bool
    filler: bool
    text_hash: str  # of the normalized text: equal for "Thanks!!" and "thanks"


# ASCII: every character ``_PUNCT`` removes (not a letter or digit) as a space, as a
# table of bytes: bytes.translate is several times faster than str.translate's mapping
_ASCII_PUNCT = bytes(i if i < 128 and chr(i).isalnum() else 32 for i in range(256))


def _ascii_runs(low: str) -> list[str]:
    """The runs of [a-z0-9] of an ASCII text lower-cased already."""
    return low.encode().translate(_ASCII_PUNCT).decode().split()


def normalize(text: str) -> str:
    """Lower case, emoji codes and punctuation removed: what makes two messages 'the same'."""
    return _normal_lower(text.lower())


def _normal_lower(low: str) -> str:
    """:func:`normalize` of a text lower-cased already."""
    # a regex pass finds nothing where its first character is absent: most lines
    low = _BRACKETED.sub(" ", low) if "[" in low else low
    if low.isascii():
        # the same text as the substitution below, about twice as fast: runs of anything
        # but [a-z0-9] become one space, none at the ends
        return " ".join(_ascii_runs(low))
    return _PUNCT.sub(" ", low).strip()


def _normal_words(low: str) -> tuple[str, list[str] | None]:
    """:func:`_normal_lower` and, where that is ASCII, its words (``str.split``): the
    ASCII path has them before it joins them."""
    low = _BRACKETED.sub(" ", low) if "[" in low else low
    if low.isascii():
        parts = _ascii_runs(low)
        return " ".join(parts), parts
    norm = _PUNCT.sub(" ", low).strip()
    return norm, norm.split() if norm.isascii() else None


def count_tokens(text: str) -> int:
    if text.isascii():  # no CJK character to count or cut
        return len(_WORD.findall(text))
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return cjk + words


def _is_filler(norm: str, tokens: int, parts: list[str] | None = None) -> bool:
    """``parts``: ``norm.split()`` if known."""
    if not norm:
        return True
    if norm in FILLER_WORDS:
        return True
    # only filler words: the first one decides for most lines, before the whole is split
    if parts is not None:
        if parts[0] in FILLER_WORDS and FILLER_WORDS.issuperset(parts):
            return True
    elif norm.split(None, 1)[0] in FILLER_WORDS and FILLER_WORDS.issuperset(norm.split()):
        return True
    # 哈哈哈哈哈, 666666, hahahaha: one repeated syllable
    return tokens <= 6 and len(set(norm.replace(" ", ""))) <= 2


def text_features(text: str, kind: str = "text") -> TextFeatures:
    return features_and_normal(text, kind)[0]


def features_and_normal(text: str, kind: str = "text") -> tuple[TextFeatures, str]:
    """:func:`text_features` and the text normalized whole (:func:`normalize`), which
    the features need anyway and reply linking reads again (its content words)."""
    features, whole, _ = features_normal_words(text, kind)
    return features, whole


def features_normal_words(
    text: str, kind: str = "text"
) -> tuple[TextFeatures, str, list[str] | None]:
    """:func:`features_and_normal` and, where known, the normal form's words
    (``str.split``), which reply linking reads too."""
    raw = text or ""
    # a link holds "://" or, in any case, "www.": most lines have neither and skip the
    # case-insensitive search
    low = raw.lower()  # read again below where nothing is removed before normalizing
    url = ("://" in raw or "www." in low) and bool(_URL.search(raw))
    link = kind == "link" or url
    body = _URL.sub(" ", raw) if url else raw
    body = _ADDRESS.sub("", _MENTION.sub(" ", body) if "@" in body else body)
    body = _BRACKETED.sub(" ", body) if "[" in body else body
    same_body = body == raw
    norm, parts = _normal_words(low if same_body else body.lower())
    # count_tokens of a normal form: an ASCII one holds only [a-z0-9] runs between single
    # spaces, each run one of _WORD's words
    tokens = len(parts) if parts is not None else count_tokens(norm)
    kind_filler = kind in FILLER_KINDS
    info_kind = INFO_KINDS.get(kind)
    filler = kind_filler or (info_kind is None and not link and _is_filler(norm, tokens, parts))
    substance = 0.0 if filler else _substance(tokens)
    # nothing was removed from the text before normalizing: the same normal form
    words = parts
    if same_body:
        whole = norm
    elif parts is not None and not url and "@" not in raw and "[" not in raw and raw.isascii():
        # only an IRC address was cut off the front (it ends in a space): its words, then
        # the body's
        words = _ascii_runs(low[: len(raw) - len(body)]) + parts
        whole = " ".join(words)
    else:
        whole, words = _normal_lower(low), None
    # _asks reads the opening of the prose normalized; where nothing sets the prose apart
    # from the body here (no code fence, quote, emoji code, link or edge space), it is ``norm``
    # and the prose is the raw text itself, ``words`` (if known) the runs of its lower case
    same = not ("`" in raw or "[" in raw or '"' in raw or "“" in raw or "「" in raw)
    if filler:
        question = False
    elif same and not url and raw[:1].strip() and raw[-1:].strip():
        question = _asks_prose(raw, tokens, norm, low, words)
    else:
        question = _asks(raw, tokens, url)
    # the tuple made directly, in TextFeatures' field order: the generated __new__ with
    # keywords costs as much again
    features = _new(
        TextFeatures,
        (
            tokens,
            substance,
            link,
            info_kind == "file",
            info_kind == "image",
            not filler and _is_code(raw, whole, words),
            question,
            filler,
            _blake2b(whole.encode(), digest_size=8).hexdigest(),
        ),
    )
    return features, whole, words


@cache
def _substance(tokens: int) -> float:
    """0.5 at 10 tokens, 1.0 at 30, growing with the log up to SUBSTANCE_CAP; worked out once
    per count of tokens (a few hundred counts over 100,000 messages)."""
    return min(SUBSTANCE_CAP, math.log2(1 + tokens / 10) / 2)


def _is_code(raw: str, whole: str | None = None, parts: list[str] | None = None) -> bool:
    """Code marks, a line ending in { } or ;, a shell keyword. ``whole``: the normal form
    of ``raw`` (:func:`normalize`), ``parts`` its words if known."""
    if _CODE_MARK.search(raw) or raw.rstrip()[-1:] in _CODE_ENDS:
        return True
    words = None
    if whole is not None and "[" not in raw and raw.isascii():
        words = parts if parts is not None else whole.split()
    if words is not None and _CODE_WORDS.isdisjoint(words):
        return False
    return _CODE_KEYWORD.search(raw) is not None


_CODE_ENDS = frozenset("{};")  # the last character but spaces (_CODE_END)


def _asks(raw: str, tokens: int, url: bool = True) -> bool:
    """Whether the message asks for information or help: a question mark or 吗/呢 at the
    end, a question word where English starts one or where Chinese puts one, a help
    request. Code blocks, links and quoted words are not read (a Dockerfile asks nothing);
    "不是说…吗" insists rather than asks."""
    prose = _FENCED.sub(" ", raw) if "```" in raw else raw
    prose = _URL.sub(" ", prose) if url else prose
    if '"' in prose or "“" in prose or "「" in prose:
        prose = _QUOTED.sub(" ", prose)
    return _asks_prose(prose.strip(), tokens)


def _asks_prose(
    prose: str,
    tokens: int,
    opening: str | None = None,
    low: str | None = None,
    runs: list[str] | None = None,
) -> bool:
    """:func:`_asks` of its prose (code, links and quotes out, no space at either end).
    ``opening``: the prose's opening normalized, ``low``: ``prose.lower()``, ``runs``: the
    runs of [a-z0-9] of an ASCII ``low`` (:func:`_ascii_runs`), if known (of most chat
    lines, nothing is taken out: the prose is the text, its normal form the opening)."""
    # the Chinese patterns need a Chinese character, the marks a "?": most chat lines in
    # a Latin script have neither, and skip those searches
    latin = prose.isascii()
    if not prose or (not latin and _RHETORICAL.search(prose)):
        return False
    if not latin and _INDIRECT.search(prose) and not _ASKING_WHO.search(prose):
        return False
    if (not latin or "?" in prose) and (
        _QUESTION_END.search(prose) or _QUESTION_INSIDE.search(prose)
    ):
        return True
    if tokens < 3:
        return False
    if opening is None:
        opening = normalize(_ADDRESS.sub("", _MENTION.sub(" ", prose)))
    if (_QUESTION_START_LOWER if opening.isascii() else _QUESTION_START).match(opening):
        return True
    if not latin:  # case folding beyond ASCII is the regex's to judge
        return _ASKS_IN_PLACE.search(prose) is not None or _HELP.search(prose) is not None
    low = prose.lower() if low is None else low
    return _helps(low, _ascii_runs(low) if runs is None else runs)


def _helps(low: str, runs: list[str]) -> bool:
    """Whether ``_HELP`` finds a help request in an ASCII line, from ``low``, its lower case,
    and ``runs``, the runs of [a-z0-9] of that (:func:`_ascii_runs`): the branches its runs
    name, each searched alone (or none, where they name none)."""
    if _HELP_RUNS.isdisjoint(runs):
        return False
    for run in _HELP_RUNS.intersection(runs):
        for branch in _HELP_BY_RUN[run]:
            if branch.search(low) is not None:
                return True
    return False
