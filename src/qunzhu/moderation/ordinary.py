"""The parts of a message that are ordinary technical chat, set aside before the classifier
reads it: code, error output and log lines, links to well-known article and documentation
hosts, network addresses, and the names a message is addressed to.

The classifier learned from Telegram ads, where a link, an ``@handle`` or an English word
in Chinese text often means an offer. In a coding group the same marks are a Zhihu article,
a Dockerfile or "@Lucas 欢迎加入". :func:`set_aside` returns what the member wrote beside
them, which the classifier then judges (``Inspector.content``); the rule detectors (contact
offers, invitations, banned words, forbidden links) still read the whole message, so an
offer hidden in a code block or beside a GitHub link is found as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Hosts people link to for what they say, not to sell: code hosting, documentation, papers,
# Q&A and the article and video sites of Chinese tech talk. A spec's ``links.allow_domains``
# add to these. Subdomains count (docs.python.org under python.org).
KNOWN_HOSTS: tuple[str, ...] = (
    "github.com",
    "gitlab.com",
    "gitee.com",
    "githubusercontent.com",
    "stackoverflow.com",
    "stackexchange.com",
    "askubuntu.com",
    "superuser.com",
    "serverfault.com",
    "ubuntu.com",
    "debian.org",
    "archlinux.org",
    "kernel.org",
    "python.org",
    "pypi.org",
    "npmjs.com",
    "readthedocs.io",
    "readthedocs.org",
    "mozilla.org",
    "wikipedia.org",
    "arxiv.org",
    "huggingface.co",
    "openai.com",
    "anthropic.com",
    "langchain.com",
    "pytorch.org",
    "tensorflow.org",
    "microsoft.com",
    "google.com",
    "youtube.com",
    "medium.com",
    "dev.to",
    "zhihu.com",
    "mp.weixin.qq.com",
    "bilibili.com",
    "juejin.cn",
    "csdn.net",
    "cnblogs.com",
    "segmentfault.com",
    "jianshu.com",
    "oschina.net",
    "infoq.cn",
    "sspai.com",
    "36kr.com",
    "paste.ubuntu.com",
    "pastebin.com",
    "gist.github.com",
)

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。）)]+", re.I)
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?([^/:?#\s]+)", re.I)
_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|$)", re.S)
# one line of code, a shell command, a traceback or a log: assignment, calls, brackets,
# statements that start a line, prompts, file paths, "Error:" lines, kernel timestamps
_CODE_LINE = re.compile(
    r"^\s*(?:from\s+\S+\s+import|import\s|def\s|class\s|return\b|FROM\s|RUN\s|CMD\s|COPY\s|"
    r"WORKDIR\s|ENV\s|EXPOSE\s|sudo\s|apt(?:-get)?\s|pip3?\s|npm\s|git\s|docker\s|cd\s|ls\b|"
    r"export\s|[$#>]\s|Traceback\b|File \"|\w*(?:Error|Exception|Warning)\b[:\s]|E:\s|W:\s|"
    r"\[\s*\d+\.\d+\]|at\s+[\w.$]+\()"
    r"|[\w\])]\s*=\s*\S|\w\([^()]*\)|[{};]\s*$|^\s*[}\])]",
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\.?\d)"
"""An IPv4 address as written (no longer run of digits and dots around it)."""
# an address with its port or prefix length, not inside a link ("http://1.2.3.4/x" is judged
# as a link)
_ADDRESS = re.compile(rf"(?<![\w/@:-]){IPV4}(?::\d{{1,5}}|/\d{{1,2}})?(?![\w/])")
_CJK = re.compile(r"[\u3400-\u9fff]")
# "@name" that addresses the message (at its start) or greets/thanks someone
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[^\s@]{1,40})+\s*")
_GREETED = re.compile(
    r"(欢迎|感谢|谢谢|多谢|\b(?:welcome|thanks|thank you|thx|hi|hello|hey))\s*@[^\s@]{1,40}",
    re.I,
)


def known_host(url: str, also: Iterable[str] = ()) -> bool:
    match = _HOST.match(url)
    host = match.group(1).lower().rstrip(".") if match else ""
    host = host.removeprefix("www.")
    exact, suffixes = _hosts(tuple(also))
    return host in exact or host.endswith(suffixes)


@lru_cache(maxsize=64)
def _hosts(also: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The hosts, and the endings of their subdomains, worked out once per allow list."""
    hosts = (*KNOWN_HOSTS, *(a.lower().strip(".") for a in also))
    return frozenset(hosts), tuple("." + h for h in hosts)


def _code_like(lines: list[str]) -> bool:
    """Most non-empty lines read as code or output, and they are not mostly Chinese prose."""
    body = [ln for ln in lines if ln.strip()]
    if not body:
        return True
    code = sum(1 for ln in body if _CODE_LINE.search(ln))
    cjk = sum(len(_CJK.findall(ln)) for ln in body)
    chars = sum(len(ln) for ln in body)
    return code * 2 >= len(body) and cjk * 3 < chars


def _without_code(text: str) -> str:
    """Fenced blocks that hold code go; so do runs of two or more code or log lines."""
    text = _FENCE.sub(lambda m: " " if _code_like(m.group(1).split("\n")) else m.group(0), text)
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    kept: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:
        if line.strip() and _CODE_LINE.search(line) and _code_like([line]):
            run.append(line)
            continue
        if len(run) < 2:
            kept.extend(run)
        run = []
        kept.append(line)
    return "\n".join(kept[:-1])


def may_link(text: str) -> bool:
    """Whether ``_URL`` could match: it needs "://" or "www." in any case (no other letter
    folds to "w" under re.I). Scanning with _URL itself costs at every character."""
    return "://" in text or "www." in text.lower()


def set_aside(text: str, allow_domains: Iterable[str] = ()) -> str | None:
    """The message without its ordinary parts, or None when it has none (judge it whole).
    An empty string means nothing is left for the classifier to judge."""
    out = text
    if may_link(out):
        allowed = tuple(allow_domains)
        out = _URL.sub(lambda m: " " if known_host(m.group(0), allowed) else m.group(0), out)
    if "\n" in out or "```" in out:
        out = _without_code(out)
    if "." in out:  # "ping 192.168.0.1", "forward 8888 to 10.0.0.2:80": a network's chat
        out = _ADDRESS.sub(" ", out)
    if "@" in out:  # both patterns name someone with an "@"
        out = _GREETED.sub(lambda m: m.group(1), out)
        out = _LEADING_MENTIONS.sub("", out)
    if out == text:
        return None
    return out.strip()
