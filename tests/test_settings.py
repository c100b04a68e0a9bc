from __future__ import annotations

import pytest

from qunzhu.settings import Settings, SettingsError, load_settings, mask_url


def test_defaults_to_one_sqlite_file_in_the_data_directory_wherever_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("QUNZHU_DATABASE_URL", raising=False)
    seen = set()
    for cwd in (tmp_path, tmp_path / "elsewhere"):
        cwd.mkdir(exist_ok=True)
        monkeypatch.chdir(cwd)
        seen.add(load_settings().database_url)
    assert seen == {f"sqlite:///{tmp_path / 'data' / 'qunzhu' / 'qunzhu.db'}"}
    assert load_settings().sqlite_file == tmp_path / "data" / "qunzhu" / "qunzhu.db"


def test_without_xdg_data_home_the_data_directory_is_under_the_home(tmp_path, monkeypatch):
    from qunzhu.settings import data_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    for unset_or_relative in ("", "relative/dir"):  # the XDG spec ignores a relative value
        monkeypatch.setenv("XDG_DATA_HOME", unset_or_relative)
        assert data_dir() == tmp_path / ".local" / "share" / "qunzhu"


def test_an_explicit_relative_sqlite_url_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(database_url="sqlite:///mine.db")
    assert settings.database_url == f"sqlite:///{tmp_path / 'mine.db'}"
    assert load_settings(database_url="postgresql://u@db/q").sqlite_file is None


def test_reads_variables_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUNZHU_PORT", "9001")
    monkeypatch.setenv("QUNZHU_DATABASE_URL", "postgresql://u:pw@db:5432/q")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.database_url == "postgresql+psycopg://u:pw@db:5432/q"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("QUNZHU_PORT", "eighty", "QUNZHU_PORT"),
        ("QUNZHU_PORT", "70000", "QUNZHU_PORT"),
        ("QUNZHU_DATABASE_URL", "mysql://x", "QUNZHU_DATABASE_URL"),
        ("QUNZHU_TIMEZONE", "Mars/Olympus", "QUNZHU_TIMEZONE"),
        ("QUNZHU_SECRET_KEY", "short", "at least 32"),
        ("QUNZHU_REDIS_URL", "localhost:6379", "QUNZHU_REDIS_URL"),
        ("QUNZHU_LANGUAGE", "fr", "QUNZHU_LANGUAGE"),
    ],
)
def test_wrong_setting_names_the_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)


def test_shown_settings_mask_secrets_and_passwords():
    settings = load_settings(
        database_url="postgresql://ops:hunter2@db/q",
        secret_key="s" * 40,
        redis_url="redis://:pw@r:6379/0",
    )
    shown = settings.shown()
    assert "hunter2" not in str(shown) and "s" * 40 not in str(shown)
    assert shown["QUNZHU_SECRET_KEY"] == "********"
    assert shown["QUNZHU_DATABASE_URL"] == "postgresql+psycopg://ops:********@db/q"


def test_mask_url_leaves_urls_without_password_alone():
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_url("postgresql://ops@db/q") == "postgresql://ops@db/q"


def test_every_setting_is_documented():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"QUNZHU_{name.upper()}" in doc, f"QUNZHU_{name.upper()} not in configuration.md"


def test_settings_travel_to_a_child_process_through_the_environment(monkeypatch):
    from qunzhu.settings import load_settings

    given = load_settings(
        database_url="sqlite:////tmp/x.db",
        redis_url="redis://127.0.0.1:6379/3",
        secret_key="k" * 40,
        live_process=False,
        live_nice=5,
    )
    env = given.as_environment()
    assert env["QUNZHU_SECRET_KEY"] == "k" * 40 and env["QUNZHU_LIVE_PROCESS"] == "false"
    assert "QUNZHU_LIVE_SPOOL" not in env  # unset stays unset
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings() == given


def test_a_random_signing_key_goes_to_the_child_too():
    from qunzhu.settings import load_settings

    settings = load_settings(sample_data=False)
    assert settings.as_environment()["QUNZHU_SECRET_KEY"] == settings.signing_key()


def test_a_missing_secret_key_is_one_plain_line_once(monkeypatch, capsys, recwarn):
    from qunzhu import settings as settings_module

    monkeypatch.setattr(settings_module, "_EPHEMERAL", [])
    monkeypatch.delenv("QUNZHU_SECRET_KEY", raising=False)
    settings = load_settings()
    first = settings.signing_key()
    assert settings.signing_key() == first and load_settings().signing_key() == first
    err = capsys.readouterr().err
    assert err.splitlines() == [settings_module.EPHEMERAL_KEY_NOTICE]
    assert "QUNZHU_SECRET_KEY" in err and ".py" not in err
    assert not [w for w in recwarn if "SECRET_KEY" in str(w.message)]


SECRETS = {
    "QUNZHU_DATABASE_URL": ("mysql://ops:hunter2@db/q", "hunter2"),
    "QUNZHU_REDIS_URL": ("redis//:redispass@r:6379", "redispass"),
    "QUNZHU_SECRET_KEY": ("almost-the-real-key", "almost-the-real-key"),
}


@pytest.mark.parametrize("variable", list(SECRETS))
def test_an_invalid_setting_never_prints_its_secret(monkeypatch, variable):
    value, secret = SECRETS[variable]
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert variable in message and secret not in message
    assert "********" in message or "19 characters" in message


def test_the_cli_prints_an_invalid_database_url_masked(monkeypatch, cli):
    from qunzhu.cli.main import app

    monkeypatch.setenv("QUNZHU_DATABASE_URL", "mysql://ops:hunter2@db/q?password=hunter3")
    monkeypatch.setenv("QUNZHU_SECRET_KEY", "short-but-secret")
    for command in (["config", "show"], ["db", "current"]):
        result = cli.invoke(app, command)
        assert result.exit_code != 0
        assert "QUNZHU_DATABASE_URL" in result.output
        assert "mysql://ops:********@db/q" in result.output
        for secret in ("hunter2", "hunter3", "short-but-secret"):
            assert secret not in result.output


def test_settings_repr_and_validation_errors_hide_passwords():
    settings = load_settings(
        database_url="postgresql://ops:hunter2@db/q",
        redis_url="redis://:redispass@r:6379/0",
        secret_key="s" * 40,
    )
    for text in (repr(settings), str(settings)):
        assert "hunter2" not in text and "redispass" not in text and "s" * 40 not in text
    with pytest.raises(ValueError) as info:  # pydantic's own error, if one is ever printed
        Settings(database_url="mysql://ops:hunter2@db/q")
    assert "hunter2" not in str(info.value)


def test_mask_url_hides_a_password_in_the_query_and_without_a_scheme():
    assert mask_url("postgresql://db/q?sslmode=require&password=pw") == (
        "postgresql://db/q?sslmode=require&password=********"
    )
    assert mask_url("ops:pw@db:5432") == "ops:********@db:5432"


def test_trusted_proxies_are_addresses_or_networks(monkeypatch):
    monkeypatch.setenv("QUNZHU_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8 ,::1")
    assert load_settings().trusted_proxy_list == ["127.0.0.1", "10.0.0.0/8", "::1"]
    monkeypatch.setenv("QUNZHU_TRUSTED_PROXIES", "nginx.local")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "QUNZHU_TRUSTED_PROXIES" in str(info.value) and "'nginx.local'" in str(info.value)
    monkeypatch.delenv("QUNZHU_TRUSTED_PROXIES")
    assert load_settings().trusted_proxy_list == []
