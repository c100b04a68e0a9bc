"""Content detectors: banned words, links, invitations, contact offers, with evidence."""

from __future__ import annotations

import re

from pytest import MonkeyPatch

from qunzhu.moderation.content import (
    build_words,
    scan_contacts,
    scan_invites,
    scan_links,
    scan_words,
    words_for,
)
from qunzhu.moderation.normalize import normalize
from qunzhu.spec.rules import BannedWordsRule, LinkRule, Rules


def _contacts(text: str) -> list[tuple[str, str]]:
    return [(f.detector, f.evidence) for f in scan_contacts(normalize(text), Rules())]


def test_phone_wechat_and_qq_offers_are_found_with_their_evidence() -> None:
    assert _contacts("有需要联系 138-0013-8000") == [("phone_number", "联系 138-0013-8000")]
    assert _contacts("加 薇 信 abc_123 了解") == [("wechat_id", "薇 信 abc_123")]
    assert _contacts("扣扣：12345678") == [("qq_number", "扣扣：12345678")]
    assert _contacts("联系人：@fx16_bot") == [("telegram_handle", "联系人：@fx16_bot")]
    # no digits, no 微信/qq/@: only the "add v" sign lets this one through to its pattern
    assert _contacts("加v abcdef12 了解一下") == [("wechat_id", "加v abcdef12")]


def test_ordinary_numbers_and_mentions_are_not_contact_offers() -> None:
    assert _contacts("我们 2023 年 12 月 15 号见") == []
    assert _contacts("@alice thanks, version 22.04 works") == []
    assert _contacts("昨天失去了她的WX") == []
    # a plus before a word is not "+v <id>"
    assert _contacts("mount my hfs+ without root, then chmod +w notes") == []
    assert _contacts("➕v abc_123 了解") == [("wechat_id", "➕v abc_123")]
    # eleven digits inside a nickname are not a mobile number; after a word they are
    assert _contacts("c0mp13371331337: no, not yet") == []
    assert _contacts("小王13800138000") == [("phone_number", "13800138000")]


def test_addresses_and_words_ending_in_a_cue_are_not_contact_offers() -> None:
    # technical chat: an IPv4 address loses its dots in the compact view (eleven digits
    # from 1: a mobile number's shape), and "entering"/"context"/"string" end in a cue word
    assert _contacts("http://193.27.192.165/error <- how can i fix that?") == []
    assert _contacts("ping 192.168.178.11 works, ping 193.27.192.165 does not") == []
    assert _contacts("are you entering: localhost or 127.0.0.1 ?") == []
    assert _contacts("then entering localhost:62402 in the address line") == []
    assert _contacts("the context 123456 is wrong, a string 654321 too") == []
    # …but a cue in front of such a number, a real mobile beside an address, a cue word
    # of its own, and "txt"/"sms" glued to the word before still are
    assert _contacts("加我 138.123.123.12") == [("phone_number", "加我 138.123.123.12")]
    assert _contacts("my ip 193.27.192.165 or 13812345678") == [("phone_number", "13812345678")]
    assert _contacts("pls ring 0800123456 today") == [("phone_number", "ring 0800123456")]
    assert _contacts("w8in 4uTxt CHAT to 82242") == [("phone_number", "Txt CHAT to 82242")]


def test_a_sum_is_not_an_offer_to_add_a_number() -> None:
    assert _contacts("5+6555655") == []
    assert _contacts("48900+1000=45000？") == []
    assert _contacts("xmms_1:1.2.10+20070601-1") == []
    assert _contacts("有事 +123456789 私聊") == [("contact_number", "+123456789")]
    assert _contacts("加 12345678") == [("contact_number", "加 12345678")]


def test_group_invitations_in_links_and_in_words() -> None:
    rules = Rules()
    found = scan_invites(normalize("快来 https://t.me/+AbCdEf123"), rules)
    assert [f.detector for f in found] == ["invite_link"]
    assert found[0].evidence == "t.me/+AbCdEf123"
    spoken = scan_invites(normalize("进 群 🐧 群号: 12345678"), rules)
    assert spoken and spoken[0].rule == "group_invites"
    assert scan_invites(normalize("discord.gg/abcd12"), rules)[0].severity == 4


def test_banned_words_match_after_normalization_and_latin_ones_as_whole_words() -> None:
    words = build_words(["网赌", "sex"])
    rules = Rules()
    assert [f.evidence for f in scan_words(normalize("網 賭 平台"), rules, words)] == ["網 賭"]
    assert scan_words(normalize("I live in Sussex"), rules, words) == []
    assert scan_words(normalize("free SEX here"), rules, words)[0].evidence == "SEX"


def test_the_community_list_adds_to_the_base_list_or_replaces_it() -> None:
    with_base = words_for(Rules(banned_words=BannedWordsRule(words=["团购"])))
    alone = words_for(Rules(banned_words=BannedWordsRule(words=["团购"], use_base_list=False)))
    assert alone.size == 1 and with_base.size > 1
    assert list(alone.matches(normalize("一起 团 购 吧").compact))


def test_links_obey_the_rule_the_allowlist_and_the_newcomer_days() -> None:
    text = normalize("see https://paste.ubuntu.com/1 and http://spam.top/x")
    assert scan_links(text, Rules(), newcomer=False) == []
    newcomer = scan_links(text, Rules(), newcomer=True)
    assert [f.detail["domain"] for f in newcomer] == ["paste.ubuntu.com", "spam.top"]
    closed = Rules(links=LinkRule(allowed=False, allow_domains=["ubuntu.com"]))
    assert [f.detail["domain"] for f in scan_links(text, closed, newcomer=False)] == ["spam.top"]


def test_the_batch_screen_never_hides_a_finding() -> None:
    import random

    from qunzhu.moderation.content import screen
    from qunzhu.moderation.evasion import evade

    rules = Rules(banned_words=BannedWordsRule(words=["刷单", "casino"]))
    words = words_for(rules)
    samples = [
        "有需要联系 138-0013-8000",
        "加 薇 信 abc_123 了解",
        "加v abcdef12 了解一下",
        "扣扣：12345678",
        "联系人：@fx16_bot",
        "进群 t.me/joinchat/AbCd 看看",
        "discord.gg/abcd1234",
        "群号 12345678",
        "online casino tonight",
        "专业刷单",
        "今天的作业交了吗",
        "ok see you at lunch",
        "",
    ]
    rng = random.Random(5)
    samples += [evade(s, rng) for s in samples for _ in range(10)]
    norms = [normalize(s) for s in samples]
    signs = screen(norms, words)
    assert signs.count(False) >= 20  # the plain chat is screened out...
    for norm, sign in zip(norms, signs, strict=True):
        found = scan_words(norm, rules, words) + scan_invites(norm, rules)
        found += scan_contacts(norm, rules)
        assert sign or not found, norm.original  # ...and nothing with a finding is


def test_the_batch_screen_says_of_each_message_what_it_says_of_it_alone() -> None:
    import random

    from qunzhu.moderation.content import screen
    from qunzhu.moderation.evasion import evade

    # the screen goes on from the next message after a message's first sign, and looks for
    # banned words only in the messages without one: neither may change a message's answer
    words = words_for(Rules(banned_words=BannedWordsRule(words=["刷单", "casino"])))
    samples = [
        "call 07700900123 or 07700900456, qq 12345678 @bob",
        "online casino 12345 @x",
        "专业刷单",
        "casino",
        "plain chat",
        "t.me/abcd then 群",
        "",
    ]
    rng = random.Random(7)
    samples += [evade(s, rng) for s in samples for _ in range(10)]
    rng.shuffle(samples)
    norms = [normalize(s) for s in samples]
    alone = [screen([norm], words)[0] for norm in norms]
    assert screen(norms, words) == alone
    assert True in alone and False in alone
    assert screen(norms, build_words([])) == [screen([n], build_words([]))[0] for n in norms]


def test_the_contact_gates_skip_only_patterns_that_cannot_match(monkeypatch: MonkeyPatch) -> None:
    import random

    from qunzhu.moderation import content

    rng = random.Random(19)
    pieces = ["加", "+", "家", "v", "w", "q", "qq", "微信", "@ab_cd", "call", "txt", "联系"]
    pieces += ["13800138000", "8613912345678", "12345", "1234567", "9", " ", "群", "是", "x"]
    samples = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(4000)]
    norms = [normalize(text) for text in samples]
    gated = [scan_contacts(norm, Rules()) for norm in norms]
    every_gate = {gate for *_, gate in content._CONTACT}
    monkeypatch.setattr(content, "_gates", lambda compact: set(every_gate))
    assert [scan_contacts(norm, Rules()) for norm in norms] == gated
    assert sum(map(bool, gated)) > 1000


def test_the_screen_finds_latin_words_as_the_automaton_does(monkeypatch: MonkeyPatch) -> None:
    import random

    from qunzhu.moderation import content

    words = words_for(Rules(banned_words=BannedWordsRule(words=["刷单", "casino", "sex"])))
    assert "casino" in words.latin and "刷单" not in words.latin
    rng = random.Random(22)
    pieces = ["casino", "cas", "ino", "sex", "sussex", "you have won", "you", "won", "刷单"]
    pieces += ["刷", "单", "free", "bitcoin", "free bitcoin", "a", " ", "\n", "x1"]
    samples = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) for _ in range(3000)]
    norms = [normalize(text) for text in samples]
    found = content.screen(norms, words)
    assert found.count(True) > 500 and found.count(False) > 500
    unknown = content.WordList(words.automaton, words.size)  # Latin words not listed
    assert content.screen(norms, unknown) == found
    monkeypatch.setattr(content, "_FIND_LATIN_UP_TO", -1)  # the automaton alone
    assert content.screen(norms, words) == found


_PLAIN_INVITE_SIGNS = re.compile(r"t ?\.? ?me\b|telegram|discord|qq\.com|wechat|weixin|群")
"""The invitation signs as first written, each from its first letter: the reference the
rewritten ones (found from a rare letter, checked backwards) must agree with."""


def _invite_samples() -> list[str]:
    import random

    from qunzhu.moderation.evasion import evade

    rng = random.Random(31)
    pieces = ["t", "me", "t.me", "t . me", "t. me", "t .me", "tme", ".", " ", "\n", "telegram"]
    pieces += ["tele", "gram", "discord", "dis", "cord", "qq.com", "qq", ".com", "wechat", "we"]
    pieces += ["chat", "weixin", "wei", "xin", "群", "mex", "me_", "1", "ab", "加v"]
    samples = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 7))) for _ in range(5000)]
    real = [
        "join t.me/joinchat/AbCd now",
        "see telegram.me/somebody",
        "discord.gg/abcd1234 and discordapp.com/invite/x",
        "加群 jq.qq.com/abc 或 weixin.qq.com/g/xyz",
        "u.wechat.com/abc",
        "let me know what time suits me",
        "the gram is a unit; a chord is not a cord",
        "ok see you at lunch",
    ]
    samples += real + [evade(text, rng) for text in real for _ in range(20)]
    return samples


def test_the_invitation_signs_are_found_as_from_their_first_letter() -> None:
    from qunzhu.moderation import content

    samples = _invite_samples()
    views = [view for s in samples for view in (s, normalize(s).text, normalize(s).compact)]
    plain = [bool(_PLAIN_INVITE_SIGNS.search(v)) for v in views]
    assert [bool(content._MAY_INVITE.search(v)) for v in views] == plain
    assert plain.count(True) > 2000 and plain.count(False) > 2000


def test_the_batch_screen_signs_invitations_as_from_their_first_letter(
    monkeypatch: MonkeyPatch,
) -> None:
    from qunzhu.moderation import content

    norms = [normalize(s) for s in _invite_samples()]
    words = build_words([])
    found = content.screen(norms, words)
    first_letters = content._SIGNS.pattern.replace(
        "|".join(content._INVITE_SIGNS), _PLAIN_INVITE_SIGNS.pattern, 1
    )
    assert first_letters != content._SIGNS.pattern
    monkeypatch.setattr(content, "_SIGNS", re.compile(first_letters))
    assert content.screen(norms, words) == found
    assert found.count(True) > 1000 and found.count(False) > 500
