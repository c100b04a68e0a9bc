"""Decisions follow the spec: rule actions, the ladder, tier slack, protected members."""

from __future__ import annotations

from qunzhu.moderation.decide import Standing, decide
from qunzhu.moderation.findings import Finding
from qunzhu.spec.rules import ActionRule, ClassifierRule, Escalation, Rules


def _contact(score: float = 0.95, severity: int = 3) -> Finding:
    return Finding(
        rule="contact_solicitation",
        detector="phone_number",
        severity=severity,
        score=score,
        evidence="138 0013 8000",
    )


def test_nothing_found_is_allowed() -> None:
    assert decide([], Rules(), Escalation(), Standing()).action == "allow"


def test_first_breach_deletes_and_warns_and_adds_the_rule_severity() -> None:
    d = decide([_contact()], Rules(), Escalation(), Standing())
    assert (d.action, d.delete, d.sanction, d.points) == ("delete_warn", True, "warn", 3.0)


def test_the_ladder_mutes_when_the_points_reach_its_rung() -> None:
    d = decide([_contact()], Rules(), Escalation(), Standing(points=3.0))
    assert d.sanction == "mute" and d.duration_minutes == 60 and d.total_points == 6.0
    d = decide([_contact()], Rules(), Escalation(), Standing(points=18.0))
    assert d.action == "blacklist" and d.delete


def test_tier_slack_scales_points_and_protected_members_are_never_acted_on() -> None:
    escalation = Escalation(tier_slack={"core": 0.5, "newcomer": 2.0})
    assert decide([_contact()], Rules(), escalation, Standing(tier="core")).points == 1.5
    assert decide([_contact()], Rules(), escalation, Standing(tier="newcomer")).points == 6.0
    shielded = decide([_contact()], Rules(), escalation, Standing(protected=True))
    assert shielded.action == "allow" and shielded.protected and shielded.findings


def test_unsure_findings_and_middling_classifier_scores_only_flag() -> None:
    assert decide([_contact(score=0.6)], Rules(), Escalation(), Standing()).action == "flag"
    rules = Rules(classifier=ClassifierRule(threshold_flag=0.6, threshold_act=0.9))
    middling = Finding(rule="classifier", detector="classifier", severity=3, score=0.75)
    assert decide([middling], rules, Escalation(), Standing()).action == "flag"
    sure = Finding(rule="classifier", detector="classifier", severity=3, score=0.95)
    assert decide([sure], rules, Escalation(), Standing()).action == "delete_warn"


def test_allowed_kinds_are_allowed_and_a_silent_delete_stays_silent() -> None:
    allowed = Rules(contact_solicitation=ActionRule(action="allow"))
    assert decide([_contact()], allowed, Escalation(), Standing()).action == "allow"
    silent = Rules(contact_solicitation=ActionRule(action="delete", severity=3))
    d = decide([_contact()], silent, Escalation(), Standing())
    assert (d.action, d.sanction, d.points) == ("delete", None, 3.0)


def test_the_hardest_rule_decides_one_message() -> None:
    invite = Finding(rule="group_invites", detector="invite_link", severity=4, score=0.95)
    flood = Finding(rule="flooding", detector="flood_window", severity=1, score=1.0)
    d = decide([flood, invite, _contact()], Rules(), Escalation(), Standing())
    assert d.main is not None and d.main.rule == "flooding"  # flooding's action is mute
    # ... and the message is one breach at the worst severity, deleted for the invitation
    assert d.sanction == "mute" and d.points == 4.0 and d.delete


def test_a_classifier_score_alone_only_flags_a_member_in_good_standing() -> None:
    rules = Rules(
        classifier=ClassifierRule(
            threshold_flag=0.6, threshold_act=0.9, threshold_act_good_standing=0.98
        )
    )
    sure = Finding(rule="classifier", detector="classifier", severity=3, score=0.95)
    assert decide([sure], rules, Escalation(), Standing()).action == "delete_warn"
    good = decide([sure], rules, Escalation(), Standing(good_standing=True))
    assert (good.action, good.points, good.sanction) == ("flag", 0.0, None)
    beyond = Finding(rule="classifier", detector="classifier", severity=3, score=0.99)
    assert decide([beyond], rules, Escalation(), Standing(good_standing=True)).action == (
        "delete_warn"
    )


def test_a_member_in_good_standing_is_flagged_only_from_their_own_threshold() -> None:
    rules = Rules(classifier=ClassifierRule(threshold_flag=0.6, threshold_flag_good_standing=0.8))
    unsure = Finding(rule="classifier", detector="classifier", severity=3, score=0.7)
    assert decide([unsure], rules, Escalation(), Standing()).action == "flag"
    assert decide([unsure], rules, Escalation(), Standing(good_standing=True)).action == "allow"
    likelier = Finding(rule="classifier", detector="classifier", severity=3, score=0.85)
    assert decide([likelier], rules, Escalation(), Standing(good_standing=True)).action == "flag"


def test_rule_evidence_acts_on_a_member_in_good_standing_as_before() -> None:
    sure = Finding(rule="classifier", detector="classifier", severity=3, score=0.95)
    d = decide([sure, _contact()], Rules(), Escalation(), Standing(good_standing=True))
    assert (d.action, d.main.rule if d.main else None) == ("delete_warn", "contact_solicitation")


def test_findings_that_rank_alike_keep_their_order() -> None:
    # ties of (action, rule, severity, score) keep the detectors' order, as a stable sort
    first = _contact()
    second = Finding(
        rule="contact_solicitation", detector="wechat_id", severity=3, score=0.95, evidence="v"
    )
    weaker = _contact(score=0.9)
    for findings in ([first, second, weaker], [weaker, second, first]):
        decision = decide(findings, Rules(), Escalation(), Standing())
        strong = [f for f in findings if f is not weaker]
        assert decision.findings == [*strong, weaker]
        assert decision.main is strong[0]
        assert decision.findings is not findings


def test_is_spam_says_what_the_decision_on_the_same_findings_says() -> None:
    import random

    from qunzhu.moderation.decide import is_spam

    rng = random.Random(3)
    rules_ = ["classifier", "contact_solicitation", "banned_words", "links", "group_invites"]
    rules_ += ["flood", "mass_mentions"]
    checked = {True: 0, False: 0}
    for _ in range(3000):
        findings = [
            Finding(
                rule=rng.choice(rules_),
                detector="x",
                severity=rng.randint(0, 5),
                score=rng.random(),
                detail=rng.choice([{}, {"spam_threshold": rng.random()}]),
            )
            for _ in range(rng.randint(0, 4))
        ]
        standing = Standing(
            good_standing=rng.random() < 0.3,
            protected=rng.random() < 0.1,
            points=float(rng.randint(0, 12)),
        )
        spam = decide(findings, Rules(), Escalation(), standing, score=rng.random()).spam
        assert is_spam(findings) == spam
        checked[spam] += 1
    assert min(checked.values()) > 300


def test_batch_verdicts_are_the_verdicts_of_single_checks() -> None:
    import random

    from qunzhu.moderation.evaluate import verdicts
    from qunzhu.moderation.evasion import evade
    from qunzhu.moderation.inspect import Inspector

    texts = [
        "有需要联系 138-0013-8000",
        "加 薇 信 abc_123 了解",
        "进群 t.me/joinchat/AbCd 看看",
        "专业刷单，日结，加微信 abc12345",
        "WINNER!! claim your prize, txt WIN to 85023 now",
        "free entry to win £1000 cash, call 09061701461",
        "ok see you at lunch",
        "今天的作业交了吗",
        "did you try rebooting with the old kernel?",
        "",
    ]
    rng = random.Random(11)
    texts += [evade(text, rng) for text in texts for _ in range(15)]
    inspector = Inspector()
    alone = [inspector.check(text).spam for text in texts]
    assert verdicts(inspector, texts) == alone
    assert True in alone and False in alone


def test_the_spam_verdict_is_that_of_the_findings_with_their_evidence() -> None:
    import random

    from qunzhu.moderation import content
    from qunzhu.moderation.decide import CONTENT_RULES, is_spam
    from qunzhu.moderation.evasion import evade
    from qunzhu.moderation.findings import ACT_SCORE
    from qunzhu.moderation.inspect import Inspector, default_spec
    from qunzhu.moderation.normalize import normalize
    from qunzhu.spec.rules import BannedWordsRule, LinkRule

    # what Inspector.spam_verdict takes for granted of the detectors
    assert all(score >= ACT_SCORE for _, _, score, _ in content._CONTACT)
    assert "links" not in CONTENT_RULES
    rng = random.Random(17)
    real = [
        "有需要联系 138-0013-8000",
        "加 薇 信 abc_123 了解",
        "进群 t.me/joinchat/AbCd 看看",
        "discord.gg/abcd1234",
        "群号 12345678",
        "专业刷单，日结，加微信 abc12345",
        "online casino tonight, see www.example.com",
        "WINNER!! claim your prize, txt WIN to 85023 now",
        "free entry to win £1000 cash, call 09061701461",
        "ok see you at lunch",
        "今天的作业交了吗",
        "did you try rebooting with the old kernel? see https://ubuntu.com/x",
        "http://193.27.192.165/error and 13812345678",
        "entering localhost:62402",
        "",
    ]
    pieces = ["加", "v", "qq", "微信", "@ab_cd", "call", "13800138000", "12345", "t.me/", "群"]
    pieces += ["casino", "刷单", "win", "prize", " ", "see", "you", "www.x.com", "discord"]
    pieces += ["193.27.192.", "165", "ring", ".", "+"]  # addresses, sums
    texts = real + [evade(text, rng) for text in real for _ in range(20)]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(1500)]
    norms = [normalize(text) for text in texts]
    base = default_spec()
    links = base.rules.links.model_copy(update={"allowed": False})
    words = BannedWordsRule(words=["casino", "刷单"])
    rules = base.rules.model_copy(update={"links": links, "banned_words": words})
    inspectors = [Inspector(), Inspector(spec=base.model_copy(update={"rules": rules}))]
    assert isinstance(links, LinkRule)
    verdicts = {True: 0, False: 0}
    for inspector in inspectors:
        scores = inspector.scores(norms)
        signs = inspector.screen(norms)
        for norm, score, sign in zip(norms, scores, signs, strict=True):
            for s, g in ((score, sign), (score, True), (rng.random(), True)):
                found = inspector.content(norm, s, newcomer=False, signs=g)
                verdict = is_spam(found)
                assert inspector.spam_verdict(norm, s, signs=g) == verdict, norm.original
                verdicts[verdict] += 1
    assert min(verdicts.values()) > 1000
