"""The pipelines the product runs, in one place: every entry point gets the one
:class:`~qunzhu.pipeline.Pipeline`, with the reactors and the writer strategy of its mode.

- ``live`` (per-event writer): events as they happen (connectors, webhooks, ``POST
  /events``, ``qunzhu ingest``, the worker): moderation decides and acts, the value engine
  scores, growth reacts (seats, referrals, join codes, applications, payments, who may
  invite). Every decided
  action is written to the outbox in the transaction of the events that caused it
  (``qunzhu.store.outbox_decisions``): queued for ``qunzhu serve`` or a bridge, or —
  ``claimed_by`` the live process of ``qunzhu serve`` that carries them out itself — already
  claimed.
- ``history`` (per-event writer): the sample community. Value is scored as the messages go
  in; nothing is acted on — history happened already.
- ``import`` (bulk writer: messages as rows, several chunks to a transaction of
  ``chunk_size`` or else ``bulk_import_chunk_size`` records): chat exports, as fast as the
  store allows: stored, counted into the daily rollups, nothing else; ``qunzhu recompute``
  scores and assesses them afterwards (scoring inline cost about two thirds of the import's
  time). Moderation's view of history is ``qunzhu moderation audit`` (decide, do not act,
  report per rule); referrals in history are recorded from the join lines themselves, and
  seats and rewards are not replayed.

A moderation review is an entry point too: :func:`after_review` is what the dashboard, the
API (appeals included) and the CLI run after deciding, in the review's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Literal

from sqlalchemy.orm import Session

from qunzhu.pipeline import Pipeline
from qunzhu.stages import Reactor
from qunzhu.store.session import Store
from qunzhu.store.write_strategies import BulkWriter, PerEventWriter

Mode = Literal["live", "history", "import"]


def build_pipeline(
    store: Store,
    mode: Mode = "live",
    *,
    create_communities: bool = False,
    chunk_size: int | None = None,
    claimed_by: str | None = None,
) -> Pipeline:
    if mode == "import":
        return Pipeline(
            store,
            create_communities=create_communities,
            writer=BulkWriter.from_settings(store.settings, per_transaction=chunk_size),
        )
    from qunzhu.engines.reactor import ValueScorer

    reactors: list[Reactor] = [ValueScorer(store.settings.tz)]
    if mode == "history":
        return Pipeline(
            store,
            create_communities=create_communities,
            reactors=reactors,
            chunk_size=chunk_size or store.settings.import_chunk_size,
            writer=PerEventWriter(),
        )
    from qunzhu.growth.invite_policy import InvitePolicy
    from qunzhu.growth.reactor import GrowthReactor
    from qunzhu.moderation.moderator import RuleModerator
    from qunzhu.store.outbox_decisions import OutboxDecisions

    reactors += [GrowthReactor(), InvitePolicy()]
    return Pipeline(
        store,
        create_communities=create_communities,
        moderator=RuleModerator.from_settings(store.settings),
        reactors=reactors,
        chunk_size=chunk_size or store.settings.import_chunk_size,
        decisions=OutboxDecisions(claimed_by),
        writer=PerEventWriter(),
    )


def after_review(
    session: Session, community_id: int, member_ids: Iterable[int | None], tz: tzinfo
) -> None:
    """The reviewed members' moderation points moved (an undone flag gave them back, an
    approval or escalation added them): their roles are decided again now, by the engines'
    own rules (:func:`qunzhu.engines.member_role.recompute_member_roles`), in the caller's
    transaction — a member undone out of disruptor is not one a moment later."""
    from qunzhu.engines.member_role import recompute_member_roles

    session.flush()
    conn = session.connection()
    now = datetime.now(UTC)
    for member_id in sorted({m for m in member_ids if m is not None}):
        recompute_member_roles(conn, community_id, member_id, tz, now)
