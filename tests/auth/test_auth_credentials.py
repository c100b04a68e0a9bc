"""Passwords, API tokens, session cookies: the pieces, without HTTP."""

from __future__ import annotations

import time

import pytest

from qunzhu.auth.credentials import (
    CredentialError,
    check_username,
    hash_password,
    new_token,
    parse_token,
    password_fingerprint,
    password_needs_rehash,
    random_password,
    verify_password,
)
from qunzhu.auth.sessions import (
    IDLE_SECONDS,
    MAX_AGE_SECONDS,
    SessionCodec,
    anonymous_session,
    login_session,
    safe_next,
)
from qunzhu.settings import Settings


def test_password_is_stored_as_argon2id_and_verifies():
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert "a long enough password" not in stored
    assert verify_password(stored, "a long enough password")
    assert not verify_password(stored, "a long enough passworD")


def test_outside_the_tests_passwords_are_hashed_at_the_production_cost(monkeypatch):
    """The suite hashes at 64 KiB (tests/conftest.py); without its variable, as in any
    deployment that does not set it, a hash takes 64 MiB, 3 passes and 4 lanes."""
    assert hash_password("a long enough password").startswith("$argon2id$v=19$m=64,t=3,p=4$")
    monkeypatch.delenv("QUNZHU_PASSWORD_HASH_MEMORY_KIB")
    assert Settings.model_fields["password_hash_memory_kib"].default == 65536
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, "a long enough password")


def test_a_hash_made_at_another_cost_still_verifies_and_needs_rehashing(monkeypatch):
    stored = hash_password("a long enough password")
    monkeypatch.setenv("QUNZHU_PASSWORD_HASH_MEMORY_KIB", "128")
    assert verify_password(stored, "a long enough password")
    assert password_needs_rehash(stored)
    assert not password_needs_rehash(hash_password("a long enough password"))


def test_missing_hash_never_verifies():
    assert not verify_password(None, "anything at all")
    assert not verify_password("not-a-hash", "anything at all")


def test_short_password_is_refused_naming_the_field():
    with pytest.raises(CredentialError) as caught:
        hash_password("short")
    assert caught.value.field == "password"


def test_random_passwords_are_long_and_different():
    first, second = random_password(), random_password()
    assert len(first) >= 20 and first != second


@pytest.mark.parametrize("name", ["a", "Has Space", "-dash", "x" * 65, "名字"])
def test_bad_usernames_are_refused(name):
    with pytest.raises(CredentialError):
        check_username(name)


def test_usernames_are_lowercased():
    assert check_username("  Alice.W ") == "alice.w"


def test_token_has_the_documented_shape_and_only_its_hash_is_kept():
    made = new_token()
    mark, prefix, secret = made.token.split("_", 2)
    assert mark == "qz" and prefix == made.prefix and len(secret) >= 32
    assert made.token not in made.token_hash
    assert parse_token(made.token) == (made.prefix, made.token_hash)


@pytest.mark.parametrize(
    "token", ["", "qz_", "qz_zzzzzzzz_" + "a" * 40, "xx_abcdef12_" + "a" * 40, "qz_abcdef12_short"]
)
def test_foreign_tokens_do_not_parse(token):
    with pytest.raises(CredentialError):
        parse_token(token)


def test_session_cookie_round_trips_and_rejects_tampering():
    codec = SessionCodec("k" * 40)
    data = login_session(7, password_fingerprint("h"))
    cookie = codec.dumps(data)
    read = codec.loads(cookie)
    assert read is not None and (read.operator_id, read.csrf) == (7, data.csrf)
    assert codec.loads(cookie[:-2] + "xx") is None
    assert SessionCodec("other key " * 4).loads(cookie) is None


def test_session_ends_after_idle_time_and_after_max_age():
    now = time.time()
    idle_codec = SessionCodec("k" * 40, clock=lambda: now - IDLE_SECONDS - 1)
    assert SessionCodec("k" * 40).loads(idle_codec.dumps(login_session(1, "f"))) is None
    ancient = login_session(1, "f", now=now - MAX_AGE_SECONDS - 1)
    assert SessionCodec("k" * 40).loads(SessionCodec("k" * 40).dumps(ancient)) is None


def test_anonymous_session_has_a_csrf_token_and_no_operator():
    data = anonymous_session()
    read = SessionCodec("k" * 40).loads(SessionCodec("k" * 40).dumps(data))
    assert read is not None and read.anonymous and read.csrf == data.csrf


def test_login_makes_a_new_csrf_token():
    assert login_session(1, "f").csrf != login_session(1, "f").csrf


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/groups?x=1", "/groups?x=1"),
        ("", "/"),
        (None, "/"),
        ("//evil", "/"),
        ("https://evil", "/"),
        ("/\\evil", "/"),
        ("/ok\nSet-Cookie: x", "/"),
    ],
)
def test_safe_next_keeps_only_local_paths(target, expected):
    assert safe_next(target) == expected
