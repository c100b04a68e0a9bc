"""The role table, the one authorize() check, masking, and the login rate limiter."""

from __future__ import annotations

import pytest

from qunzhu.auth.permissions import (
    Caller,
    Forbidden,
    NotFound,
    authorize,
    mask_name,
    mask_phone,
    mask_text,
)
from qunzhu.auth.ratelimit import MemoryLimiter, RedisLimiter
from qunzhu.store.models import Community

TABLE = {
    "analyst": {"read"},
    "moderator": {"read", "moderate"},
    "admin": {"read", "moderate", "manage", "personal_data"},
    "owner": {"read", "moderate", "manage", "personal_data", "operators"},
}


@pytest.mark.parametrize("role", sorted(TABLE))
def test_each_role_can_exactly_what_the_docs_say(role):
    caller = Caller(operator_id=1, username="x", is_superuser=False, roles={5: role})
    allowed = {
        a for a in ("read", "moderate", "manage", "personal_data", "operators") if caller.can(5, a)
    }
    assert allowed == TABLE[role]
    assert not caller.can(6, "read")


def test_superuser_can_everything_everywhere():
    root = Caller(operator_id=1, username="root", is_superuser=True)
    assert root.can(99, "operators") and root.sees(99) and root.may_create_communities


def test_authorize_hides_communities_and_refuses_low_roles(store):
    with store.unit_of_work() as session:
        session.add_all([Community(slug="a", name="A"), Community(slug="b", name="B")])
    with store.reading() as session:
        a_id = session.query(Community.id).filter_by(slug="a").scalar()
        analyst = Caller(operator_id=1, username="x", is_superuser=False, roles={a_id: "analyst"})
        assert authorize(session, analyst, "a", "read").slug == "a"
        with pytest.raises(Forbidden):
            authorize(session, analyst, "a", "moderate")
        with pytest.raises(NotFound) as hidden:
            authorize(session, analyst, "b", "read")
        with pytest.raises(NotFound) as missing:
            authorize(session, analyst, "zz", "read")
    assert type(hidden.value) is type(missing.value)


def test_personal_data_is_masked():
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("王小明") == "王**"
    assert (
        mask_text("电话13812345678，邮箱 wang@example.com")
        == "电话138****5678，邮箱 w***@example.com"
    )


def test_memory_limiter_counts_failures_in_a_sliding_window():
    now = [1000.0]
    limiter = MemoryLimiter(3, window=900, clock=lambda: now[0])
    key = "account:owner"
    for _ in range(3):
        assert limiter.need_to_limit(key) == (False, 0)
        limiter.record_failure(key)
    limited, retry = limiter.need_to_limit(key)
    assert limited and retry == 900
    now[0] += 901
    assert limiter.need_to_limit(key) == (False, 0)


def test_memory_limiter_reset_forgets_failures():
    limiter = MemoryLimiter(1)
    limiter.record_failure("k")
    assert limiter.need_to_limit("k")[0]
    limiter.reset("k")
    assert not limiter.need_to_limit("k")[0]


@pytest.mark.redis
def test_redis_limiter_shares_failures_between_processes(redis_url):
    from redis import Redis

    client = Redis.from_url(redis_url)
    prefix = "qunzhu:test-login:"
    first = RedisLimiter(client, 2, prefix=prefix)
    second = RedisLimiter(Redis.from_url(redis_url), 2, prefix=prefix)
    first.reset("k")
    first.record_failure("k")
    second.record_failure("k")
    limited, retry = first.need_to_limit("k")
    assert limited and 0 < retry <= 900
    second.reset("k")
    assert first.need_to_limit("k") == (False, 0)
