"""What the classifier reads: a message without its code, logs, links to well-known hosts
and the names it is addressed to; the rule detectors still read it whole."""

from __future__ import annotations

from qunzhu.moderation.inspect import Inspector
from qunzhu.moderation.ordinary import known_host, set_aside


def test_links_to_known_hosts_are_set_aside_others_stay() -> None:
    assert set_aside("写得不错 https://zhuanlan.zhihu.com/p/123456") == "写得不错"
    assert set_aside("see https://docs.python.org/3/library/re.html") == "see"
    kept = "free gift https://prize-claim.top/x"
    assert set_aside(kept) is None
    assert known_host("https://www.bilibili.com/video/BV1") and not known_host("bilibili.com.io")
    assert set_aside("look https://intranet.example.cn/a", ["example.cn"]) == "look"


def test_code_and_logs_are_set_aside_prose_in_a_fence_is_not() -> None:
    code = "这样写：\n```js\nconst x = require('fs');\nx.readFileSync(p);\n```"
    assert set_aside(code) == "这样写："
    log = "装不上\nE: Unable to locate package foo\nW: Some index files failed"
    assert set_aside(log) == "装不上"
    fenced_ad = "```\n兼职日结 手机操作 每天一小时 私聊我\n```"
    assert set_aside(fenced_ad) is None


def test_network_addresses_are_set_aside_a_link_by_address_is_not() -> None:
    assert set_aside("ping 192.168.0.1") == "ping"
    assert set_aside("allow 192.168.0.0/24 to 10.0.0.2:80") == "allow   to"
    assert set_aside("67.166.168.17:1337") == ""
    # a link to a bare address is judged as a link; dotted numbers that are no address stay
    assert set_aside("http://193.27.192.165/free-prize") is None
    assert set_aside("user@10.0.0.1 ssh") is None
    assert set_aside("version 1.2.3.4.5 and 300.1.1.1") is None


def test_addressed_and_greeted_names_are_set_aside() -> None:
    assert set_aside("@王小明-杭州-前端 用 uv 装就好") == "用 uv 装就好"
    assert set_aside("welcome @dana_k, glad you made it") == "welcome glad you made it"
    assert set_aside("cheap accounts, contact @dealer99") is None


def test_rule_detectors_still_read_what_was_set_aside() -> None:
    ad = "@王小明 教程在这 https://github.com/a/b 加微信 abc12345 领资料"
    decision = Inspector().check(ad)
    assert any(f.rule == "contact_solicitation" for f in decision.findings)


def test_the_link_precheck_never_misses_what_the_link_pattern_finds() -> None:
    import random

    from qunzhu.moderation.ordinary import _URL, may_link

    rng = random.Random(18)
    pieces = ["w", "W", "ww", ".", "://", "http", "HTTPS", ":/", "/", "a", " ", "微", "ſ", "é"]
    samples = ["WWW.example.com", "see hTTp://x", "ww.w", "w.w.w.", "plain text"]
    samples += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))) for _ in range(5000)]
    for text in samples:
        if _URL.search(text):
            assert may_link(text), text
    assert not may_link("no link here, just w and ww.")


def test_text_without_a_link_code_or_name_is_judged_whole() -> None:
    assert set_aside("加微信 abc12345 领资料") is None
    assert set_aside("thanks @bob") == "thanks"
