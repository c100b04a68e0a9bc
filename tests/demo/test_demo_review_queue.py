"""The sample's review queue holds what the generator wrote as spam, not ordinary chat: the
last week goes through the live pipeline, and the generator says which messages it made as
spam, flooding or ads (``generate_marked``), so the queue is measured against that. The
queue is not empty: the live week has contact cards passed on with a pitch, which the demo
spec leaves to a person (``contact_cards: flag``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from qunzhu.demo import load_demo
from qunzhu.demo.generate import generate_marked
from qunzhu.demo.rhythm import LIVE_DAYS, Clock
from qunzhu.events import MessagePosted
from qunzhu.settings import load_settings
from qunzhu.store import Store
from qunzhu.store.models import ModerationAction

# today's midnight: the live pipeline decides on recent messages only, as it would live
NOW = Clock(None).end


# one worker builds the module fixture: with --dist loadgroup an ungrouped module is spread
# over the workers and each would build it
pytestmark = pytest.mark.xdist_group("demo-review-queue")


@pytest.fixture(scope="module")
def actions(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[list[tuple[str, str]]]:
    path = tmp_path_factory.mktemp("queue") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(
        load_settings(database_url=f"sqlite:///{path}", secret_key="t" * 40, sample_data=False)
    )
    load_demo(store, now=NOW)
    with store.reading() as session:
        rows = session.execute(select(ModerationAction.key, ModerationAction.status)).all()
    yield [(k, s) for k, s in rows]
    store.dispose()


@pytest.mark.slow
def test_few_review_queue_flags_are_ordinary_chat(actions: list[tuple[str, str]]) -> None:
    _, unwanted = generate_marked(7, now=NOW)
    queue = [key for key, status in actions if status == "pending_review"]
    ordinary = [key for key in queue if key not in unwanted]
    assert queue, "the live week has borderline messages waiting for a person"
    assert len(ordinary) < 0.1 * max(len(queue), 1), f"{len(ordinary)} of {len(queue)} ordinary"


@pytest.mark.slow
def test_the_live_weeks_spam_is_still_caught(actions: list[tuple[str, str]]) -> None:
    events, unwanted = generate_marked(7, now=NOW)
    cut = Clock(NOW).end - timedelta(days=LIVE_DAYS)
    live_spam = {
        e.key
        for e in events
        if isinstance(e, MessagePosted) and e.key in unwanted and e.occurred_at >= cut
    }
    caught = {key for key, _ in actions}
    assert live_spam, "the live week of the sample has spam to catch"
    assert live_spam <= caught
