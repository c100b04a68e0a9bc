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
from dataclasses import dataclass

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
_CODE = re.compile(
    r"```|`[^`]+`|\b(def|import|class|return|function|const|sudo|apt-get|apt|dpkg|pip|npm|git|"
    r"chmod|mount|grep|modprobe|ifconfig|fdisk|lspci|lsmod|systemctl|docker)\s|"
    r"=>|\(\)|[{};]\s*$|</?\w+>|(^|\s)(/etc|/dev|/usr|/var|/home|/boot|~)/\S*|\$\s\w|\w+\.(conf|list|py|sh|deb|log)\b"
)
_QUESTION_END = re.compile(r"[?？]\s*\W{0,3}$|[吗呢么][?？。~～!！]*\s*$")
_QUESTION_START = re.compile(
    r"^(how|what|why|where|which|who|when|can|could|does|do|is|are|any|anyone|anybody|should|"
    r"would|will|has|have|did|怎么|为什么|如何|哪|什么|有没有|有人|能不能|可以|是否|请问|求)",
    re.I,
)
# a help request is a question even without a question mark ("my wifi doesn't work")
_HELP = re.compile(
    r"\b(doesn'?t work|does not work|not working|can'?t|cannot|won'?t|error|problem|issue|"
    r"help|stuck|fails?|failed|broken|any ?(one|body) (know|tried|use)|is there a way|"
    r"how (do|can|to)|i need|trying to)\b|报错|不行|失败|求助|怎么办|有问题|出问题",
    re.I,
)
SUBSTANCE_CAP = 1.5


@dataclass(frozen=True, slots=True)
class TextFeatures:
    tokens: int  # words and CJK characters left once filler, links and mentions are removed
    substance: float  # 0..SUBSTANCE_CAP: 0.5 at 10 tokens, 1.0 at 30, grows with the log
    link: bool
    file: bool
    image: bool
    code: bool
    question: bool
    filler: bool
    text_hash: str  # of the normalized text: equal for "Thanks!!" and "thanks"


def normalize(text: str) -> str:
    """Lower case, emoji codes and punctuation removed: what makes two messages 'the same'."""
    return _PUNCT.sub(" ", _BRACKETED.sub(" ", text.lower())).strip()


def count_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return cjk + words


def _is_filler(norm: str, tokens: int) -> bool:
    if not norm:
        return True
    if norm in FILLER_WORDS:
        return True
    parts = norm.split()
    if all(p in FILLER_WORDS for p in parts):
        return True
    # 哈哈哈哈哈, 666666, hahahaha: one repeated syllable
    squashed = norm.replace(" ", "")
    return tokens <= 6 and len(set(squashed)) <= 2


def text_features(text: str, kind: str = "text") -> TextFeatures:
    raw = text or ""
    link = kind == "link" or bool(_URL.search(raw))
    body = _ADDRESS.sub("", _MENTION.sub(" ", _URL.sub(" ", raw)))
    body = _BRACKETED.sub(" ", body)
    norm = normalize(body)
    tokens = count_tokens(norm)
    kind_filler = kind in FILLER_KINDS
    info_kind = INFO_KINDS.get(kind)
    filler = kind_filler or (info_kind is None and not link and _is_filler(norm, tokens))
    substance = 0.0 if filler else min(SUBSTANCE_CAP, math.log2(1 + tokens / 10) / 2)
    stripped = raw.strip()
    question = not filler and bool(
        _QUESTION_END.search(stripped)
        or (_QUESTION_START.match(normalize(_ADDRESS.sub("", raw))) and tokens >= 3)
        or (_HELP.search(raw) and tokens >= 3)
    )
    return TextFeatures(
        tokens=tokens,
        substance=substance,
        link=link,
        file=info_kind == "file",
        image=info_kind == "image",
        code=not filler and bool(_CODE.search(raw)),
        question=question,
        filler=filler,
        text_hash=hashlib.blake2b(normalize(raw).encode(), digest_size=8).hexdigest(),
    )
