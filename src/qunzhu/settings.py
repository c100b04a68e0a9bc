"""One typed settings object, read from ``QUNZHU_*`` environment variables.

Built by :func:`load_settings`, never at import time, so tests and commands can build
their own. A wrong value fails at start naming the variable and what it expects.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "QUNZHU_"


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


def data_dir() -> Path:
    """Where qunzhu keeps its files unless told otherwise: ``$XDG_DATA_HOME/qunzhu``, else
    ``~/.local/share/qunzhu`` (the XDG base-directory default; ``%LOCALAPPDATA%\\qunzhu`` on
    Windows). One place, whatever directory a command runs from."""
    base = os.environ.get("XDG_DATA_HOME", "")
    if base and Path(base).is_absolute():  # the XDG spec: a relative value is ignored
        return Path(base) / "qunzhu"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "qunzhu"
    return Path.home() / ".local" / "share" / "qunzhu"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'qunzhu.db'}"


class Settings(BaseSettings):
    # hide_input_in_errors: a ValidationError printed anywhere never echoes a password
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", frozen=True, hide_input_in_errors=True
    )

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the store. By default the SQLite file qunzhu.db in "
        "the user's data directory ($XDG_DATA_HOME/qunzhu, else ~/.local/share/qunzhu), "
        "wherever a command runs; e.g. postgresql+psycopg://user@127.0.0.1:5432/qunzhu "
        "for PostgreSQL.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL of the queue between webhooks and the live workers "
        "(`qunzhu worker`), e.g. redis://127.0.0.1:6379/0. Unset: events go straight into "
        "the pipeline of the process that received them.",
    )
    live_spool: str | None = Field(
        default=None,
        description="SQLite file where `qunzhu serve` queues webhook events durably before "
        "answering (unset, and no Redis: a webhook answers after its events are committed).",
    )
    live_process: bool = Field(
        default=True,
        description="With Redis: `qunzhu serve` stores live events and carries out actions "
        "in a process of its own (`qunzhu worker`), so the web server and the "
        "pipeline each have a core. false: one process does both.",
    )
    live_workers: int = Field(
        default=1,
        ge=0,
        le=64,
        description="With Redis and QUNZHU_LIVE_PROCESS: how many `qunzhu worker` processes "
        "`qunzhu serve` starts and restarts on its host. 0: none; the web process only "
        "queues, and workers started elsewhere store and act.",
    )
    live_stream: str = Field(
        default="qunzhu:live",
        min_length=1,
        max_length=200,
        description="Redis stream between the webhooks and the live workers, and the prefix "
        "of its shards and leases (another name "
        "per deployment sharing one Redis).",
    )
    live_shards: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Shard streams the live stream is split into by group "
        "(`<QUNZHU_LIVE_STREAM>:<n>`): each is read by one `qunzhu worker` at a time, so a "
        "group's events are stored in order, and more shards than workers let every worker "
        "have some. The same in every process; changed only while the shards are empty.",
    )
    live_lease_seconds: int = Field(
        default=10,
        ge=2,
        le=600,
        description="How long a worker's hold on a shard lasts unless renewed (every third "
        "of it): a worker that dies has its shards, and the entries it held, taken over by "
        "the others after at most this long.",
    )
    live_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the live worker's CPU priority is than the web "
        "server's (Unix nice): on a busy machine the webhook answers and early deletes go "
        "first. 0: the same priority.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies and CSRF tokens (32+ characters). Unset: "
        "a random key per process, so logins end when the server restarts.",
    )
    host: str = Field(default="127.0.0.1", description="Address `qunzhu serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `qunzhu serve` uses.")
    timezone: str = Field(
        default="Asia/Shanghai",
        description="IANA time zone that days are counted in (daily rollups, reports), "
        "and that times are shown and imported in where the spec names none.",
    )
    language: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="Default language of the dashboard and reports."
    )
    sample_data: bool = Field(
        default=True,
        description="`qunzhu serve` loads the sample community when the database is empty.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    import_chunk_size: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description="Events per transaction when importing or ingesting a batch.",
    )
    bulk_import_chunk_size: int = Field(
        default=200_000,
        ge=1,
        le=1_000_000,
        description="Records per transaction of `qunzhu import` and uploads (bigger: faster on "
        "large files, longer write lock per transaction). See importing.md.",
    )
    login_rate_limit: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Failed logins allowed per account in 15 minutes (and three times as "
        "many per client address).",
    )
    password_hash_memory_kib: int = Field(
        default=65536,
        ge=64,
        le=4_194_304,
        description="Memory in KiB that hashing one password takes (argon2id, 3 passes, 4 "
        "lanes; the default, 64 MiB, is RFC 9106's second recommendation). Less makes stolen "
        "hashes cheaper to crack: only the test suite lowers it. A stored hash follows a new "
        "value at its next password sign-in.",
    )
    require_2fa: bool = Field(
        default=False,
        description="Owners and superusers without two-factor sign-in (`qunzhu operator 2fa "
        "enable`) cannot sign in to the dashboard. API tokens are not affected. See security.md.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses (or networks, comma-separated: 127.0.0.1,10.0.0.0/8) of the "
        "reverse proxies whose X-Forwarded-For / X-Forwarded-Proto `qunzhu serve` believes. "
        "Empty: none, the client address is the connection's own, so nobody can choose "
        "theirs for the login limit. See security.md.",
    )
    schedule_settle_minutes: int = Field(60, ge=0, description="serve: referral settle; 0 off.")
    schedule_sweep_minutes: int = Field(60, ge=0, description="serve: membership sweep; 0 off.")
    schedule_recompute_minutes: int = Field(1440, ge=0, description="serve: recompute; 0 off.")
    schedule_welcome_seconds: int = Field(
        15, ge=0, le=3600, description="serve: welcome new members (batched); 0 off."
    )
    schedule_calendar_seconds: int = Field(
        60, ge=0, le=3600, description="serve: send the content calendar's due posts; 0 off."
    )
    moderation_model: str | None = Field(
        default=None,
        description="Spam model file written by `qunzhu moderation train` that live "
        "moderation uses. Unset: the model shipped with qunzhu.",
    )

    schedule_tasks_minutes: int = Field(
        5, ge=0, le=1440, description="serve: make operators' tasks from the queues; 0 off."
    )
    digest_hour: int | None = Field(
        default=None,
        ge=0,
        le=23,
        description="serve: the local hour (0-23, the community's time zone) at which each "
        "operator gets a digest of their open and overdue tasks, by e-mail (QUNZHU_SMTP_*) "
        "and/or Telegram private message; unset: no digest.",
    )
    smtp_host: str | None = Field(
        default=None, description="Mail server of the task digest, e.g. smtp.exmail.qq.com."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of QUNZHU_SMTP_HOST.")
    smtp_user: str | None = Field(default=None, description="SMTP login; unset: none.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str | None = Field(
        default=None, description="Sender address of the digest; unset: QUNZHU_SMTP_USER."
    )
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (port 587), ssl (port 465) or none (a local relay)."
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://host:port/db URL")
        return value or None

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -hex 32)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        entries = [e.strip() for e in value.split(",") if e.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
                ) from None
        return ",".join(entries)

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("expected an IANA time zone such as Asia/Shanghai") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [e for e in self.trusted_proxies.split(",") if e]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The file of a SQLite store (None for PostgreSQL or a database in memory)."""
        if not self.database_url.startswith("sqlite:///"):
            return None
        path = self.database_url.removeprefix("sqlite:///").partition("?")[0]
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return Path(path)

    def signing_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _ephemeral_key()

    def as_environment(self) -> dict[str, str]:
        """These settings as QUNZHU_* variables, for a child process that must see the same
        (the live worker of `qunzhu serve`). The signing key goes too, also a random one:
        both processes must read the credentials sealed under it."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            out[PREFIX + name.upper()] = str(value)
        out[PREFIX + "SECRET_KEY"] = self.signing_key()
        return out

    def __repr_args__(self) -> Any:
        # repr() and str() end up in logs and tracebacks: URLs without their passwords
        for name, value in super().__repr_args__():
            if name in URL_FIELDS and isinstance(value, str):
                value = mask_url(value)
            yield name, value

    def shown(self) -> dict[str, Any]:
        """The effective settings with secrets masked, for `qunzhu config show`."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif name in URL_FIELDS and value:
                value = mask_url(value)
            out[PREFIX + name.upper()] = value
        return out


_EPHEMERAL: list[str] = []


EPHEMERAL_KEY_NOTICE = (
    "qunzhu: QUNZHU_SECRET_KEY is not set, so a random key is used and logins end when "
    "qunzhu restarts (docs/configuration.md, Secrets)"
)


def _ephemeral_key() -> str:
    if not _EPHEMERAL:
        # one plain line, once per process: an operator's notice, not a Python warning
        print(EPHEMERAL_KEY_NOTICE, file=sys.stderr, flush=True)
        _EPHEMERAL.append(secrets.token_hex(32))
    return _EPHEMERAL[0]


def mask_url(url: str) -> str:
    """Hide the password in a database or Redis URL: after ``user:`` and in a
    ``password=`` query parameter; the rest stays readable to find the mistake."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user, colon, _password = creds.partition(":")
        rest = f"{user}{':********' if colon else ''}@{host}"
    rest = _QUERY_SECRET.sub(r"\1********", rest)
    return f"{scheme}{sep}{rest}"


_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|passwd|pwd|sslpassword)=)[^&#]*")
URL_FIELDS = ("database_url", "redis_url")
SECRET_FIELDS = ("secret_key", "smtp_password")


def _shown_input(field: str, value: Any) -> str:
    """What a settings error may say about the value it refused."""
    if field in SECRET_FIELDS:  # not even a wrong secret is echoed: it may be nearly right
        return f"{len(value)} characters" if isinstance(value, str) else "hidden"
    if field in URL_FIELDS and isinstance(value, str):
        return repr(mask_url(value))
    return repr(value)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (overrides win); raise SettingsError naming each bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = "_".join(str(p) for p in err["loc"])
            got = _shown_input(field, err.get("input"))
            lines.append(f"{PREFIX}{field.upper()}: {err['msg']} (got {got})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
    if settings.is_sqlite and settings.database_url.startswith("sqlite:///"):
        path = settings.database_url.removeprefix("sqlite:///")
        if path and path != ":memory:" and not path.startswith("/"):
            absolute = "sqlite:///" + str(Path(path).resolve())
            settings = settings.model_copy(update={"database_url": absolute})
    return settings
