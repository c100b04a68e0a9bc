"""0012: Telegram members imported under the export's ``user…`` ids join the bot's ids."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from qunzhu.store.migrate import alembic_config, is_current
from qunzhu.store.models import Community, Identity, Member


def _before_0012() -> str:
    """The revision 0012 follows (the chain is renumbered as branches land)."""
    from alembic.script import ScriptDirectory

    before = ScriptDirectory.from_config(alembic_config()).get_revision("0012").down_revision
    assert isinstance(before, str)
    return before


def _run(store, step, revision: str) -> None:
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def _person(session, community_id: int, name: str, platform: str, user: str) -> int:
    member = Member(community_id=community_id, display_name=name)
    session.add(member)
    session.flush()
    session.add(
        Identity(
            community_id=community_id, member_id=member.id, platform=platform,
            platform_user_id=user, name=name,
        )
    )  # fmt: skip
    return member.id


def test_imported_telegram_ids_take_the_bot_api_form_or_merge_into_the_bots_member(store):
    _run(store, command.downgrade, _before_0012())
    with store.unit_of_work() as session:
        c = Community(slug="tgids", name="TG")
        session.add(c)
        session.flush()
        alone = _person(session, c.id, "Ann", "telegram", "user509128351")
        imported = _person(session, c.id, "Bo", "telegram", "user77")
        live = _person(session, c.id, "Bo", "telegram", "77")
        anonymous = _person(session, c.id, "读书会", "telegram", "channel1482056085")
        qq = _person(session, c.id, "Cy", "qq", "user5")  # another platform: untouched
    _run(store, command.upgrade, "head")
    assert is_current(store.engine)
    with store.reading() as session:
        ids = dict(session.execute(select(Identity.member_id, Identity.platform_user_id)).all())
        merged = dict(session.execute(select(Member.id, Member.merged_into_id)).all())
    assert ids[alone] == "509128351" and ids[anonymous] == "-1001482056085"
    # the bot's member was there first: the imported one counts as it, nothing is split
    assert ids[imported] == "user77" and merged[imported] == live and merged[live] is None
    assert ids[qq] == "user5" and merged[qq] is None
