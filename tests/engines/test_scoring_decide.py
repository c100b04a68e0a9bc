"""Scoring's decisions on snapshots built in code: reply links, each message's value, and
the credits a batch adds. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from qunzhu.engines.credits import CheckIn, Reaction, check_in_credits, reaction_credits
from qunzhu.engines.features import text_features
from qunzhu.engines.scoring import credit_batch, link_replies, score_batch
from qunzhu.engines.scoring_reads import LinkSnapshot, MsgRow, ScoreSnapshot
from qunzhu.spec.members import ValueWeights

T0 = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)
DAY = T0.date()
W = {1: ValueWeights()}
QUESTION = "有人知道 asyncio 的 event loop 在线程里怎么用吗？"
ANSWER = "在新线程里用 asyncio.new_event_loop() 建一个，再 set_event_loop，然后 run_forever"


def _msg(mid: int, member: int, text: str, *, reply_to: int | None = None, at: int = 0) -> MsgRow:
    return MsgRow(
        mid, 1, 10, member, DAY, T0 + timedelta(minutes=at), text, "text", False, reply_to
    )


def _decide(rows: list[MsgRow], snap: ScoreSnapshot | None = None):
    feats = {r.id: text_features(r.text, r.kind) for r in rows}
    linking = LinkSnapshot(targets={}, context={10: []}, names={})
    for r in rows:  # the batch's own messages are targets too, as reply_targets reads them
        linking.targets[r.id] = (r.member_id, feats[r.id].question)
    links = link_replies(rows, feats, linking)
    snap = snap or ScoreSnapshot(seen={}, replied_before=set(), helped=set(), asked={}, weights=W)
    scores = score_batch(rows, feats, links, linking.targets, snap)
    credits = credit_batch(
        rows, feats, scores, linking.targets, links, snap.replied_before, snap.weights
    )
    return links, scores, credits


def test_a_platforms_reply_link_is_kept_for_certain():
    links, _, _ = _decide([_msg(1, 7, QUESTION), _msg(2, 8, ANSWER, reply_to=1, at=1)])
    assert links[2] == (1, False, 1.0)


def test_the_first_answer_to_a_question_earns_answer_and_helped_points_once_a_day():
    rows = [
        _msg(1, 7, QUESTION),
        _msg(2, 8, ANSWER, reply_to=1, at=1),
        _msg(3, 8, ANSWER + " 另外记得关闭 loop", reply_to=1, at=2),
    ]
    _, scores, credits = _decide(rows)
    assert {"answer", "helped"} <= scores[2].points.keys()
    assert "answer" not in scores[3].points and "helped" not in scores[3].points
    assert [a.question_id for a in credits.answers] == [1]
    assert [q.message_id for q in credits.questions] == [1]


def test_a_reply_earns_the_author_credit_once_per_replier():
    rows = [
        _msg(1, 7, QUESTION),
        _msg(2, 8, ANSWER, reply_to=1, at=1),
        _msg(3, 8, "谢谢，明白了", reply_to=1, at=2),
        _msg(4, 9, "我也这么做的", reply_to=1, at=3),
    ]
    _, _, credits = _decide(rows)
    stats = credits.credits.stats[(1, 10, 7, DAY)]
    assert stats["replies_earned"] == 2  # members 8 and 9, not 8 twice
    assert stats["earned_value"] == 2 * ValueWeights().reply_earned_per_member
    assert credits.credits.edges[(1, 10, DAY, 8, 7)] == 2


def test_a_replier_who_replied_before_the_batch_earns_the_author_nothing_more():
    rows = [_msg(2, 8, ANSWER, reply_to=1, at=1)]
    snap = ScoreSnapshot(seen={}, replied_before={(1, 8)}, helped=set(), asked={}, weights=W)
    feats = {2: text_features(ANSWER, "text")}
    linking = LinkSnapshot(targets={1: (7, True), 2: (8, False)}, context={10: []}, names={})
    links = link_replies(rows, feats, linking)
    scores = score_batch(rows, feats, links, linking.targets, snap)
    credits = credit_batch(rows, feats, scores, linking.targets, links, snap.replied_before, W)
    assert credits.credits.stats[(1, 10, 7, DAY)]["replies_earned"] == 0


def test_the_same_text_twice_is_a_duplicate_and_worth_nothing_the_second_time():
    rows = [_msg(1, 7, ANSWER), _msg(2, 7, ANSWER, at=5)]
    _, scores, credits = _decide(rows)
    assert scores[1].value > 0 and scores[2].value == 0.0 and "duplicate" in scores[2].points
    assert credits.credits.stats[(1, 10, 7, DAY)]["duplicates"] == 1


def test_text_said_yesterday_makes_todays_a_duplicate():
    h = text_features(ANSWER, "text").text_hash
    snap = ScoreSnapshot(
        seen={(10, 7, h): DAY - timedelta(days=1)},
        replied_before=set(),
        helped=set(),
        asked={},
        weights=W,
    )
    _, scores, _ = _decide([_msg(1, 7, ANSWER)], snap)
    assert "duplicate" in scores[1].points


def test_deciding_does_not_change_the_snapshot():
    snap = ScoreSnapshot(seen={}, replied_before=set(), helped=set(), asked={}, weights=W)
    _decide([_msg(1, 7, QUESTION), _msg(2, 8, ANSWER, reply_to=1, at=1)], snap)
    assert snap.seen == {} and snap.helped == set() and snap.asked == {}
    assert snap.replied_before == set()


def test_only_reactions_and_check_ins_claimed_now_are_credited():
    reactions = [Reaction(1, 1, 10, T0, 7), Reaction(2, 1, 10, T0, 7)]
    credits = reaction_credits(reactions, {2}, W, UTC)
    assert credits.stats[(1, 10, 7, DAY)]["reactions_earned"] == 1
    assert credits.member_value[(1, 10, 7, DAY)] == ValueWeights().reaction
    check_ins = [CheckIn(5, 1, 10, 8, T0), CheckIn(6, 1, 10, 8, T0)]
    credits = check_in_credits(check_ins, {5, 6}, W, UTC)
    assert credits.member_value[(1, 10, 8, DAY)] == 2 * ValueWeights().check_in


def test_a_credit_falls_on_the_day_of_the_communitys_time_zone():
    from zoneinfo import ZoneInfo

    late = datetime(2025, 6, 30, 20, 0, tzinfo=UTC)  # 04:00 on July 1st in Shanghai
    credits = check_in_credits([CheckIn(5, 1, 10, 8, late)], {5}, W, ZoneInfo("Asia/Shanghai"))
    assert (1, 10, 8, date(2025, 7, 1)) in credits.member_value


def _probability_snapshot() -> ScoreSnapshot:
    weights = {1: ValueWeights(reply_credit="probability")}
    return ScoreSnapshot(seen={}, replied_before=set(), helped=set(), asked={}, weights=weights)


def test_reply_credit_probability_scales_an_inferred_links_credit_by_its_probability():
    rows = [_msg(1, 7, QUESTION), _msg(2, 8, ANSWER, at=1)]  # no platform link: inferred
    links, full, full_credits = _decide(rows)
    target, inferred, p = links[2]
    assert target == 1 and inferred and 0 < p < 1
    assert full[2].points["answer"] == 2.0 and full[2].points["helped"] == 1.5
    _, scaled, credits = _decide(rows, _probability_snapshot())
    assert scaled[2].points["answer"] == round(2.0 * p, 3)
    assert scaled[2].points["helped"] == round(1.5 * p, 3)
    assert scaled[2].points["substance"] == full[2].points["substance"]
    asker = (1, 10, 7, DAY)
    earned = credits.credits.member_value[asker] - scaled[1].value
    assert round(earned, 6) == round(0.5 * p, 6)
    assert full_credits.credits.member_value[asker] - full[1].value == 0.5


def test_reply_credit_probability_keeps_all_of_a_platforms_link():
    rows = [_msg(1, 7, QUESTION), _msg(2, 8, ANSWER, reply_to=1, at=1)]
    _, full, _ = _decide(rows)
    _, scaled, _ = _decide(rows, _probability_snapshot())
    assert scaled[2] == full[2] and scaled[2].points["answer"] == 2.0
