"""The login limit per account and per address, on both limiters."""

from __future__ import annotations

import secrets

import pytest

from qunzhu.auth.ratelimit import (
    ADDRESS_FACTOR,
    MemoryLimiter,
    RedisLimiter,
    need_to_limit_login,
    record_login_failure,
    reset_login,
)


def _limiters(redis_url: str | None) -> MemoryLimiter | RedisLimiter:
    if redis_url is None:
        return MemoryLimiter(2)
    from redis import Redis

    # a prefix of its own per run: nothing left from an earlier run counts
    prefix = f"qunzhu:test-login-keys:{secrets.token_hex(4)}:"
    return RedisLimiter(Redis.from_url(redis_url), 2, prefix=prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest) -> MemoryLimiter | RedisLimiter:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return _limiters(url)


def test_an_account_is_limited_from_any_address(limiter) -> None:
    record_login_failure(limiter, "Ann", "10.0.0.1")
    record_login_failure(limiter, "ann ", "10.0.0.2")
    limited, retry = need_to_limit_login(limiter, "ANN", "10.0.0.3")
    assert limited and retry > 0
    assert need_to_limit_login(limiter, "bo", "10.0.0.3") == (False, 0)


def test_an_address_is_limited_over_all_accounts_and_a_good_login_does_not_clear_it(
    limiter,
) -> None:
    names = [f"user{n}" for n in range(2 * ADDRESS_FACTOR)]
    for name in names:
        assert not need_to_limit_login(limiter, name, "10.0.0.1")[0]
        record_login_failure(limiter, name, "10.0.0.1")
    assert need_to_limit_login(limiter, "cy", "10.0.0.1")[0]
    assert not need_to_limit_login(limiter, "cy", "10.0.0.2")[0]
    reset_login(limiter, "cy")  # cy's good password elsewhere leaves the address counted
    assert need_to_limit_login(limiter, "cy", "10.0.0.1")[0]
    for name in names:
        reset_login(limiter, name)
    assert need_to_limit_login(limiter, names[0], "10.0.0.1")[0]
