"""A Telegram chat imported before ids were mapped (group ``1482056085``, keys made with it)
moves to its Bot API id on the next import, and re-importing the same export adds nothing."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from qunzhu.adapters import importers
from qunzhu.importing import import_file, import_zone, load
from qunzhu.store.models import Community, Group, MembershipEvent, Message

EXPORT = Path(__file__).parent / "corpus" / "telegram" / "single_chat.json"
LABEL, CHAT = "1482056085", "-1001482056085"


def _count(store, model) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _import_as_before(store) -> None:
    """What an import made before: the group and every key under the export's bare id."""
    rows = importers.parse_rows(
        EXPORT, "telegram-json", community="hist", group=LABEL, tz=ZoneInfo("UTC"),
        stored_group=LABEL,
    )  # fmt: skip
    load(store, rows, ("hist", "telegram", LABEL), source=str(EXPORT))


@pytest.fixture
def hist(store) -> str:
    with store.unit_of_work() as session:
        session.add(Community(slug="hist", name="历史"))
    return "hist"


def test_an_earlier_import_moves_to_the_bot_api_id_and_is_not_doubled(store, hist):
    _import_as_before(store)
    messages, events = _count(store, Message), _count(store, MembershipEvent)
    assert (messages, events) == (7, 3)
    summary = import_file(store, EXPORT, community=hist, group=LABEL, tz="UTC")
    assert summary["added_events"] == 0 and summary["group"] == CHAT
    assert any("7 message(s) and 3 join/leave record(s) re-keyed" in d for d in summary["decided"])
    assert (_count(store, Message), _count(store, MembershipEvent)) == (messages, events)
    with store.reading() as session:
        assert session.execute(select(Group.platform_group_id)).scalars().all() == [CHAT]


def test_an_earlier_import_and_a_bots_group_are_not_merged_silently(store, hist):
    _import_as_before(store)
    with store.unit_of_work() as session:
        community_id = session.scalar(select(Community.id).where(Community.slug == hist))
        session.add(
            Group(community_id=community_id, platform="telegram", platform_group_id=CHAT, name="x")
        )
    with pytest.raises(importers.ImportFormatError, match="not merged automatically"):
        import_file(store, EXPORT, community=hist, group=LABEL, tz="UTC")


def test_a_discord_channel_imported_by_name_moves_to_its_id(store, hist):
    export = Path(__file__).parent / "corpus" / "discord" / "deleted_user_replies.json"
    rows = importers.parse_rows(
        export, "discord-json", community=hist, group="general", tz=ZoneInfo("UTC"),
        stored_group="general",
    )  # fmt: skip
    load(store, rows, (hist, "discord", "general"), source=str(export))
    before = (_count(store, Message), _count(store, MembershipEvent))
    assert before == (5, 1)
    summary = import_file(store, export, community=hist, group="general")
    assert summary["added_events"] == 0 and summary["group"] == "200000000000000005"
    assert (_count(store, Message), _count(store, MembershipEvent)) == before


def test_a_group_zone_in_the_spec_under_the_exported_id_still_holds(store):
    spec = (
        "name: 老群\npurpose: test\ntimezone: Asia/Shanghai\n"
        "groups:\n  '1300000003': {timezone: Europe/Berlin}\n"
    )
    with store.unit_of_work() as session:
        session.add(Community(slug="zones", name="zones", spec_yaml=spec))
    zone = import_zone(store, "zones", "-1001300000003", "1300000003")
    assert str(zone) == "Europe/Berlin"
    assert str(import_zone(store, "zones", "-1001300000003")) == "Asia/Shanghai"
