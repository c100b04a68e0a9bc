"""Every decision reaches the outbox, in the transaction of the events that caused it: queued
for `qunzhu serve` or a bridge when it comes through ingest or the API, written already
claimed when the live connectors decide it (carried out once, never again by the drainer),
and, where nothing can act on the platform, an alert once a bridge had its time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from connector_fakes import telegram as tg
from qunzhu_tests_connectors import SPAM, count, post_update, rows, serving, telegram_bot
from sqlalchemy import Connection, select

from qunzhu import events as ev
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store, outbox
from qunzhu.store.connectors import ConnectorAlert, OutboxAction
from qunzhu.store.models import Message, ModerationAction
from qunzhu.store.outbox_decisions import LIVE, OutboxDecisions
from qunzhu.wiring import build_pipeline

CHAT = "-1001234567890"
NOW = int(time.time()) - 600


def _spam(n: int = 1, *, platform: str = "telegram") -> ev.MessagePosted:
    return ev.MessagePosted(
        platform=platform,  # type: ignore[arg-type]
        community="acme",
        group="-100",
        member="42",
        occurred_at=datetime.now(UTC) - timedelta(minutes=5),
        message_id=str(500 + n),
        text=SPAM,
        member_name="Spammer",
    )


def _outbox(store: Store) -> list[Any]:
    return rows(
        store,
        select(
            OutboxAction.id,
            OutboxAction.kind,
            OutboxAction.status,
            OutboxAction.origin,
            OutboxAction.claimed_by,
        ).order_by(OutboxAction.id),
    )


def test_an_ingested_ad_leaves_its_delete_and_warning_queued_in_the_outbox(store, community):
    report = build_pipeline(store, "live").run([_spam()], source="ingest.jsonl")
    queued = _outbox(store)
    assert [(r.kind, r.status, r.origin) for r in queued] == [
        ("delete_message", "queued", "pipeline:ingest.jsonl"),
        ("warn", "queued", "pipeline:ingest.jsonl"),
    ]
    assert [a.detail["outbox"] for a in report.actions] == [r.id for r in queued]
    assert not any(LIVE in a.detail for a in report.actions)  # for whoever claims them
    # the same message again is stored once and decided once
    again = build_pipeline(store, "live").run([_spam()], source="ingest.jsonl")
    assert again.actions == [] and count(store, OutboxAction) == 2


def test_events_and_their_decisions_commit_together_or_not_at_all(store, community):
    recorded = OutboxDecisions()

    def fails_after_recording(conn: Connection, actions: list[ev.Action], source: str) -> Any:
        recorded(conn, actions, source)
        raise RuntimeError("the transaction fails after the decisions were written")

    pipeline = Pipeline(store, moderator=RuleModerator(), decisions=fails_after_recording)
    report = pipeline.run([_spam()], source="test")
    assert len(report.quarantined) == 1 and report.actions == []
    assert count(store, OutboxAction) == 0 and count(store, Message) == 0


def test_a_live_decision_is_written_claimed_and_taken_again_only_when_its_process_died(
    store, community
):
    pipeline = build_pipeline(store, "live", claimed_by="host:7:live")
    report = pipeline.run([_spam()], source="live")
    assert [(r.status, r.claimed_by) for r in _outbox(store)] == [("sending", "host:7:live")] * 2
    assert all(a.detail[LIVE] for a in report.actions)
    assert outbox.claim(store, "drainer") == []  # the live process carries them out itself
    later = datetime.now(UTC) + outbox.STALE_CLAIM + timedelta(seconds=1)
    taken = outbox.claim(store, "drainer", now=later)  # it died before it could
    assert [a.kind for a in taken] == ["delete_message", "warn"]
    assert not any(LIVE in a.detail for a in taken)


def test_an_action_no_connector_can_do_waits_for_a_bridge_then_becomes_an_alert(
    store, community, hub
):
    build_pipeline(store, "live").run([_spam(platform="api")], source="api:bridge")
    assert hub.outbox.run_once() == 0  # "api" has no connector in qunzhu: a bridge's
    hub.outbox.bridge_wait = timedelta(0)  # no bridge came in its time
    assert hub.outbox.run_once() == 2
    assert hub.executor.drain()
    assert [r.status for r in _outbox(store)] == ["alerted", "alerted"]
    kinds = {k for (k,) in rows(store, select(ConnectorAlert.kind))}
    assert kinds == {"delete_message", "warn"}


def test_a_platform_that_cannot_act_gets_its_alert_at_once(store, community, hub):
    build_pipeline(store, "live").run([_spam(platform="wecom")], source="ingest")
    [row] = _outbox(store)
    assert row.kind == "alert"  # WeCom can neither delete nor warn: an alert already
    assert hub.outbox.run_once() == 1 and hub.executor.drain()
    assert [r.status for r in _outbox(store)] == ["alerted"]


@pytest.fixture
def fake(fake_telegram: tg.FakeTelegram) -> tg.FakeTelegram:
    return fake_telegram


def test_the_live_connector_acts_once_and_the_drainer_never_again(store, hub, fake, wait_for):
    telegram_bot(store, hub, fake)
    with serving(store, hub) as server:
        answer = post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW))
        assert answer.status_code == 200
        assert hub.executor.drain()
        wait_for(
            lambda: (
                [(r.kind, r.status) for r in _outbox(store)]
                == [("delete_message", "sent"), ("warn", "sent")]
            ),
            what="the live decisions sent and recorded",
        )
        assert hub.outbox.run_once() == 0
        assert hub.executor.drain()
    # sent early at receipt and by the batch's decision: once on the platform
    assert fake.called("deleteMessage") == [{"chat_id": CHAT, "message_id": 501}]
    assert len(fake.called("sendMessage")) == 1
    later = datetime.now(UTC) + outbox.STALE_CLAIM + timedelta(minutes=1)
    assert outbox.claim(store, "another-server", now=later) == []
    [(outcome,)] = rows(store, select(ModerationAction.outcome))
    assert outcome == "sent"


def test_the_decisions_of_a_live_worker_that_stopped_are_released_to_the_drainer(store, community):
    # two workers wrote their batches' decisions claimed; one of them was killed before
    # it carried them out (its heartbeat is gone from the registry)
    build_pipeline(store, "live", claimed_by="live/w1/aaa").run([_spam(1)], source="w1")
    build_pipeline(store, "live", claimed_by="live/w2/bbb").run([_spam(2)], source="w2")
    later = timedelta(seconds=-60)  # claimed a minute ago: past the grace
    with store.engine.begin() as conn:
        conn.execute(OutboxAction.__table__.update().values(claimed_at=datetime.now(UTC) + later))
    released = outbox.release_orphans(store, {"live/w1/aaa"}, grace=timedelta(seconds=30))
    assert released == 2
    by_owner = {(r.status, r.claimed_by) for r in _outbox(store)}
    assert by_owner == {("sending", "live/w1/aaa"), ("queued", None)}
    # claimed again, they are still the live decisions they were (a delete goes once with
    # its early twin), unlike an operator's outbox action
    taken = outbox.claim(store, "drainer")
    assert [a.kind for a in taken] == ["delete_message", "warn"]
    assert all(a.detail.get(LIVE) for a in taken)


def test_nothing_is_released_while_its_worker_lives_or_within_the_grace(store, community):
    build_pipeline(store, "live", claimed_by="live/w1/aaa").run([_spam(1)], source="w1")
    build_pipeline(store, "live", claimed_by="host:7:live").run([_spam(2)], source="one")
    # the worker is alive: nothing; gone but just claimed: nothing (it may be mid-call)
    assert outbox.release_orphans(store, {"live/w1/aaa"}, grace=timedelta(0)) == 0
    assert outbox.release_orphans(store, set(), grace=timedelta(minutes=5)) == 0
    # a process without the registry (host:pid:live) waits for STALE_CLAIM, as before
    assert outbox.release_orphans(store, set(), grace=timedelta(0)) == 2
    assert {r.claimed_by for r in _outbox(store)} == {None, "host:7:live"}
