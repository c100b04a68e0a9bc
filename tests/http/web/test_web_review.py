"""The review queue: approve, undo, escalate, in bulk; moderators only; audited."""

from __future__ import annotations

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.store.models import AuditEntry, ModerationAction


def _add_pending(store, community_id, member_id, n):
    ids = []
    with store.unit_of_work() as session:
        for i in range(n):
            action = ModerationAction(
                community_id=community_id,
                member_id=member_id,
                key=f"bulk-{i}",
                action="warn",
                rule="flood",
                status="pending_review",
            )
            session.add(action)
            session.flush()
            ids.append(action.id)
    return ids


def _status(store, action_id):
    with store.reading() as session:
        return session.get_one(ModerationAction, action_id).status


def test_moderator_approves_an_item_and_it_leaves_the_queue(client, acme, personas):
    log_in(client, "moderator")
    queue = client.get("/c/acme/review")
    assert queue.status_code == 200
    assert f'id="item-{acme["action"]}"' in queue.text
    answer = client.post(
        "/c/acme/review/decide",
        data={
            "csrf_token": csrf_from(queue.text),
            "decision": "approve",
            "ids": str(acme["action"]),
        },
    )
    assert answer.status_code == 200  # followed the redirect back to the queue
    assert f'id="item-{acme["action"]}"' not in answer.text
    assert _status(personas.store, acme["action"]) == "approved"
    with personas.store.reading() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "moderation.approve"))
    assert entry is not None and entry.target == str(acme["action"])
    assert entry.operator_id == personas["moderator"].operator_id


def test_bulk_escalate_then_undo(client, acme, personas):
    ids = _add_pending(personas.store, personas.communities["acme"], acme["u2"], 3)
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/review").text)
    client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": "escalate", "ids": [str(i) for i in ids[:2]]},
    )
    # escalated items are decided (they leave the queue); the third still waits
    assert [_status(personas.store, i) for i in ids] == ["approved", "approved", "pending_review"]
    queue = client.get("/c/acme/review").text
    assert f'id="item-{ids[2]}"' in queue and f'id="item-{ids[0]}"' not in queue
    client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": "undo", "ids": [str(ids[0])]},
    )
    assert _status(personas.store, ids[0]) == "undone"
    undone = client.get("/c/acme/review?status=undone")
    assert f'id="item-{ids[0]}"' in undone.text and f'id="item-{ids[1]}"' not in undone.text
    with personas.store.reading() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("moderation."))
        ).all()
    assert sorted(audited) == ["moderation.escalate", "moderation.escalate", "moderation.undo"]


def test_undo_unflags_the_message(client, acme, personas):
    from qunzhu.store.models import Message

    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/review").text)
    client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": "undo", "ids": str(acme["action"])},
    )
    with personas.store.reading() as session:
        assert session.get_one(Message, acme["spam_message"]).flagged is False
    assert _status(personas.store, acme["action"]) == "undone"


def test_deciding_twice_changes_nothing(client, acme, personas):
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/review").text)
    data = {"csrf_token": token, "decision": "approve", "ids": str(acme["action"])}
    client.post("/c/acme/review/decide", data=data)
    again = client.post("/c/acme/review/decide", data=data, follow_redirects=False)
    assert "done=nothing_changed" in again.headers["location"]
    with personas.store.reading() as session:
        count = len(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "moderation.approve")
            ).all()
        )
    assert count == 1


def test_ids_of_another_community_are_ignored(client, acme, personas):
    from qunzhu.store.models import Member

    rival = personas.communities["rival"]
    with personas.store.unit_of_work() as session:
        stranger = Member(community_id=rival, display_name="x")
        session.add(stranger)
        session.flush()
        stranger_id = stranger.id
    [theirs] = _add_pending(personas.store, rival, stranger_id, 1)
    log_in(client, "moderator")
    token = csrf_from(client.get("/c/acme/review").text)
    client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": "approve", "ids": str(theirs)},
    )
    assert _status(personas.store, theirs) == "pending_review"


def test_analyst_is_refused_the_queue_and_decisions(client, acme, personas):
    log_in(client, "analyst")
    assert client.get("/c/acme/review").status_code == 403
    token = csrf_from(client.get("/c/acme").text)
    answer = client.post(
        "/c/acme/review/decide",
        data={"csrf_token": token, "decision": "approve", "ids": str(acme["action"])},
    )
    assert answer.status_code == 403
    assert _status(personas.store, acme["action"]) == "pending_review"


def test_decision_without_csrf_token_is_refused(client, acme, personas):
    log_in(client, "moderator")
    answer = client.post(
        "/c/acme/review/decide", data={"decision": "approve", "ids": str(acme["action"])}
    )
    assert answer.status_code == 403
    assert _status(personas.store, acme["action"]) == "pending_review"


def test_empty_queue_says_so(client, personas):
    log_in(client, "moderator")
    page = client.get("/c/acme/review")
    assert page.status_code == 200
    assert 'class="empty"' in page.text


def test_the_queue_says_what_the_platform_did_with_a_decision(client, acme, personas):
    ids = _add_pending(personas.store, personas.communities["acme"], acme["u2"], 2)
    with personas.store.unit_of_work() as session:
        for action_id, outcome in zip(ids, ("sent", "alerted"), strict=True):
            row = session.get_one(ModerationAction, action_id)
            row.status, row.outcome = "applied", outcome
    log_in(client, "moderator")
    client.cookies.set("qz_lang", "en")
    page = client.get("/c/acme/review?status=applied")
    assert "carried out on the platform" in page.text
    assert '<span class="failed">the platform cannot do it: alert raised</span>' in page.text
