from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qunzhu import events as ev
from qunzhu.pipeline import Pipeline
from qunzhu.store.models import (
    Community,
    GroupDaily,
    Member,
    MemberDaily,
    Membership,
    MembershipEvent,
    Message,
    Order,
    Payment,
    Quarantine,
    Referral,
)
from qunzhu.store.quarantine import RejectedRecord

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def msg(i: int, member: str = "u1", group: str = "g1", community: str = "c", **over):
    data = dict(
        platform="wechat",
        community=community,
        group=group,
        member=member,
        member_name=member.upper(),
        occurred_at=T0 + timedelta(minutes=i),
        message_id=f"m{i}",
        text=f"message {i}",
    )
    data.update(over)
    return ev.MessagePosted(**data)


def count(store, model, *where):
    with store.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def community(store):
    with store.unit_of_work() as s:
        s.add(Community(slug="c", name="C"))
    return "c"


def test_same_batch_twice_is_stored_once(store, community):
    batch = [msg(i, member=f"u{i % 7}") for i in range(1200)]
    first = Pipeline(store).run(batch, source="t")
    second = Pipeline(store).run(batch, source="t")
    assert (first.added, first.duplicates) == (1200, 0)
    assert (second.added, second.duplicates) == (0, 1200)
    assert count(store, Message) == 1200
    assert count(store, Member) == 7
    with store.reading() as s:
        assert s.scalar(select(func.sum(GroupDaily.messages))) == 1200
        assert s.scalar(select(func.sum(MemberDaily.messages))) == 1200


def test_overlapping_batch_adds_only_what_is_new(store, community):
    Pipeline(store).run([msg(i) for i in range(0, 600)], source="t")
    report = Pipeline(store).run([msg(i) for i in range(400, 1000)], source="t")
    assert report.added == 400 and report.duplicates == 200
    assert count(store, Message) == 1000


def test_duplicate_inside_one_batch_counts_once(store, community):
    report = Pipeline(store).run([msg(1), msg(1), msg(2)], source="t")
    assert report.added == 2 and report.duplicates == 1


def test_unknown_community_is_quarantined_and_the_rest_kept(store, community):
    report = Pipeline(store).run([msg(1), msg(2, community="nope"), msg(3)], source="api")
    assert report.added == 2
    assert len(report.quarantined) == 1
    assert "unknown community 'nope'" in report.quarantined[0]["reason"]
    assert count(store, Quarantine) == 1


def test_rejected_lines_are_quarantined_once_across_reruns(store, community):
    batch = [msg(1), RejectedRecord("export.txt", 7, "garbage line", "@@@"), msg(2)]
    Pipeline(store).run(batch, source="export.txt")
    report = Pipeline(store).run(batch, source="export.txt")
    assert report.quarantined == [{"source": "export.txt", "line": 7, "reason": "garbage line"}]
    with store.reading() as s:
        rows = s.scalars(select(Quarantine)).all()
    assert [(r.location, r.reason) for r in rows] == [("line 7", "garbage line")]


def test_replies_are_linked_across_chunks(store, community):
    batch = [msg(i, reply_to=f"m{i - 1}" if i else None) for i in range(1500)]
    report = Pipeline(store, chunk_size=400).run(batch, source="t")
    assert report.replies == 1499
    with store.reading() as s:
        linked = s.execute(
            select(Message.platform_message_id, Message.reply_to_id).where(
                Message.platform_message_id == "m1000"
            )
        ).one()
        target = s.scalar(select(Message.id).where(Message.platform_message_id == "m999"))
    assert linked.reply_to_id == target


def test_join_leave_and_rejoin_keep_history_and_current_state(store, community):
    join = ev.MemberJoined(
        platform="wechat",
        community="c",
        group="g1",
        member="u9",
        occurred_at=T0,
        via="qr",
        inviter="u1",
    )
    leave = ev.MemberLeft(
        platform="wechat",
        community="c",
        group="g1",
        member="u9",
        occurred_at=T0 + timedelta(days=2),
        reason="removed",
        by="u1",
    )
    rejoin = ev.MemberJoined(
        platform="wechat",
        community="c",
        group="g1",
        member="u9",
        occurred_at=T0 + timedelta(days=5),
        via="invite",
        inviter="u2",
    )
    Pipeline(store).run([join, leave, rejoin], source="t")
    Pipeline(store).run([join, leave, rejoin], source="t")
    assert count(store, MembershipEvent) == 3
    with store.reading() as s:
        m = s.scalars(
            select(Membership)
            .join(Member, Member.id == Membership.member_id)
            .where(Member.display_name == "u9")
        ).one()
        daily = s.execute(select(func.sum(GroupDaily.joins), func.sum(GroupDaily.removals))).one()
    assert (m.status, m.join_via, m.left_at) == ("active", "invite", None)
    assert tuple(daily) == (2, 1)


def test_join_and_invite_events_for_one_invitation_make_one_referral(store, community):
    join = ev.MemberJoined(
        platform="wechat",
        community="c",
        group="g1",
        member="new",
        occurred_at=T0,
        via="invite",
        inviter="host",
    )
    invite = ev.InviteUsed(
        platform="wechat", community="c", group="g1", member="new", occurred_at=T0, inviter="host"
    )
    self_invite = ev.InviteUsed(
        platform="wechat", community="c", group="g1", member="x", occurred_at=T0, inviter="x"
    )
    Pipeline(store).run([join, invite, self_invite], source="t")
    assert count(store, Referral) == 1


def test_a_failing_stage_quarantines_only_the_event_it_failed_on(store, community):
    def moderator(conn, items):
        if any(r.event.text == "boom" for r in items):
            raise RuntimeError("detector crashed")
        from qunzhu.stages import ModerationOutcome

        return ModerationOutcome()

    batch = [msg(1), msg(2, text="boom"), msg(3)]
    report = Pipeline(store, moderator=moderator).run(batch, source="t")
    assert report.added == 2
    assert len(report.quarantined) == 1
    assert "detector crashed" in report.quarantined[0]["reason"]
    assert count(store, Message) == 2


def test_payment_marks_its_order_paid_once(store, community):
    Pipeline(store).run([msg(1)], source="t")
    with store.unit_of_work() as s:
        member_id = s.scalar(select(Member.id))
        s.add(
            Order(
                community_id=s.scalar(select(Community.id)),
                member_id=member_id,
                order_no="o-1",
                amount_cents=9900,
            )
        )
    pay = ev.PaymentReceived(
        platform="api",
        community="c",
        group="g1",
        member="u1",
        occurred_at=T0,
        payment_id="p-1",
        amount_cents=9900,
        order_id="o-1",
    )
    Pipeline(store).run([pay, pay], source="t")
    Pipeline(store).run([pay], source="t")
    with store.reading() as s:
        order = s.scalars(select(Order)).one()
        cents = s.scalar(select(func.sum(GroupDaily.payments_cents)))
    assert order.status == "paid" and cents == 9900


def test_reactions_edits_and_recalls_apply_once(store, community):
    Pipeline(store).run([msg(1)], source="t")
    common = dict(platform="wechat", community="c", group="g1", member="u2", occurred_at=T0)
    batch = [
        ev.ReactionAdded(message_id="m1", emoji="👍", **common),
        ev.MessageEdited(message_id="m1", text="fixed", **common),
        ev.MessageRecalled(message_id="m1", **common),
    ]
    Pipeline(store).run(batch, source="t")
    Pipeline(store).run(batch, source="t")
    with store.reading() as s:
        m = s.scalars(select(Message)).one()
    assert (m.reactions, m.edited_text, m.recalled) == (1, "fixed", True)


def test_many_reactions_and_edits_in_one_batch_all_count_in_order(store, community):
    Pipeline(store).run([msg(1), msg(2)], source="t")
    batch = []
    for i, who in enumerate(["u2", "u3", "u4"]):
        at = T0 + timedelta(minutes=10 + i)
        common = dict(platform="wechat", community="c", group="g1", member=who, occurred_at=at)
        batch.append(ev.ReactionAdded(message_id="m1", emoji="👍", **common))
        batch.append(ev.MessageEdited(message_id="m2", text=f"edit {i}", **common))
    batch.append(
        ev.MessageRecalled(
            message_id="m1",
            platform="wechat",
            community="c",
            group="g1",
            member="u1",
            occurred_at=T0,
        )
    )
    Pipeline(store).run(batch, source="t")
    Pipeline(store).run(batch, source="t")
    with store.reading() as s:
        rows = {m.platform_message_id: m for m in s.scalars(select(Message))}
    assert (rows["m1"].reactions, rows["m1"].recalled, rows["m1"].edited_text) == (3, True, None)
    assert (rows["m2"].reactions, rows["m2"].recalled, rows["m2"].edited_text) == (
        0,
        False,
        "edit 2",
    )


def test_two_workers_meeting_the_same_new_member_make_one(store, community):
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            Pipeline(store).run([msg(offset + i, member="shared") for i in range(50)], source="t")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 100,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count(store, Member) == 1
    assert count(store, Message) == 150


def test_a_pipeline_kept_across_runs_notices_a_deleted_community(store, community):
    from sqlalchemy import delete

    pipeline = Pipeline(store)
    assert pipeline.run([msg(1)], source="t").added == 1
    with store.unit_of_work() as s:
        s.execute(delete(Community).where(Community.slug == "c"))
    report = pipeline.run([msg(2)], source="t")
    # the community id it remembered is gone: the event is refused like any unknown one
    assert report.added == 0
    assert count(store, Quarantine) == 1
    with store.unit_of_work() as s:
        s.add(Community(slug="c", name="C again"))
    assert pipeline.run([msg(3)], source="t").added == 1


def test_a_pipeline_kept_across_runs_does_not_attach_to_an_erased_member(store, community):
    from qunzhu.store.privacy import erase_member

    pipeline = Pipeline(store)
    pipeline.run([msg(1, member="alice")], source="t")
    with store.unit_of_work() as s:
        erased = s.scalar(select(Member.id).where(Member.display_name == "ALICE"))
        cid = s.scalar(select(Community.id).where(Community.slug == "c"))
        erase_member(s, cid, erased)
    pipeline.run([msg(2, member="alice")], source="t")
    with store.reading() as s:
        owners = s.scalars(select(Message.member_id).order_by(Message.id)).all()
    assert owners[0] == erased and owners[1] != erased


def test_a_chunk_that_fails_after_storing_is_isolated_and_counted_once(store, community):
    seen: list[int] = []

    def flaky(conn, written):
        seen.append(len(written.of("message_posted")))
        if len(seen) == 1:
            raise RuntimeError("reactor down")
        return []

    report = Pipeline(store, reactors=[flaky]).run([msg(i) for i in range(5)], source="t")
    # the chunk was rolled back and replayed event by event: each stored and counted once
    assert seen == [5, 1, 1, 1, 1, 1]
    assert (report.received, report.added, report.duplicates) == (5, 5, 0)
    assert report.quarantined == []
    assert count(store, Message) == 5


def test_a_failed_commit_of_a_chunk_is_that_chunks_failure_and_is_isolated(store, community):
    from sqlalchemy import event

    commits: list[int] = []

    def refuse_first(conn) -> None:
        commits.append(1)
        if len(commits) == 1:
            raise RuntimeError("commit refused")

    event.listen(store.engine, "commit", refuse_first)
    try:
        report = Pipeline(store).run([msg(1), msg(2)], source="t")
    finally:
        event.remove(store.engine, "commit", refuse_first)
    # the chunk's own transaction failed at its commit: replayed event by event
    assert (report.added, report.quarantined) == (2, [])
    assert len(commits) == 3  # the failed one, then one per event
    assert count(store, Message) == 2


def test_an_event_failing_on_its_own_is_quarantined_with_its_index_in_the_run(store, community):
    def refuse_m6(conn, written):
        if any(r.event.message_id == "m6" for r in written.of("message_posted")):
            raise RuntimeError("refused m6")
        return []

    pipeline = Pipeline(store, reactors=[refuse_m6], chunk_size=4)
    report = pipeline.run([msg(i) for i in range(10)], source="t")
    assert report.added == 9
    assert [(q["index"], q["line"]) for q in report.quarantined] == [(6, 0)]
    assert "refused m6" in report.quarantined[0]["reason"]
    with store.reading() as s:
        assert s.scalars(select(Quarantine.location)).all() == ["item 7"]


def test_amounts_beyond_32_bits_are_stored_and_summed_whole(store, community):
    """Amounts are 64-bit columns on both databases (migration 0007); the edge holds them
    to bounds.MAX_AMOUNT, and a day's sum of several of the largest still fits."""
    from qunzhu import bounds

    def pay(n: int, cents: int) -> ev.PaymentReceived:
        return ev.PaymentReceived(
            platform="api",
            community="c",
            group="g1",
            member="u1",
            occurred_at=T0 + timedelta(minutes=n),
            payment_id=f"big-{n}",
            amount_cents=cents,
        )

    report = Pipeline(store).run([pay(1, bounds.MAX_AMOUNT), pay(2, 2**31 + 5)], source="t")
    assert report.added == 2 and report.quarantined == []
    with store.reading() as s:
        amounts = sorted(s.scalars(select(Payment.amount_cents)))
        cents = s.scalar(select(func.sum(GroupDaily.payments_cents)))
    assert amounts == [2**31 + 5, bounds.MAX_AMOUNT]
    assert cents == bounds.MAX_AMOUNT + 2**31 + 5
