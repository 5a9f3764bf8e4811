"""Configuration: load config.yaml, substitute ${ENV} values, validate with pydantic."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG_PATH = Path("config.yaml")
ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """An invalid or unreadable configuration; the message is one line naming key and problem."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class CityConfig(Section):
    """The city this bot serves."""

    name: str = "Dortmund"
    timezone: str = "Europe/Berlin"
    default_language: Literal["de", "en"] = "de"
    state: str = "NW"  # the German state whose public holidays apply (ISO 3166-2 code after DE-)

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        from bot.public_holidays import STATES

        known = {state.upper(): state for state in STATES}
        if value.upper() not in known:
            raise ValueError(f"unknown German state {value!r}, one of {', '.join(STATES)}")
        return known[value.upper()]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)


class StorageConfig(Section):
    """Where the data lives: SQLite file by default, PostgreSQL for several processes."""

    url: str = "sqlite+aiosqlite:///data/citybot.db"
    demo_data: bool = True
    echo_sql: bool = False

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class RasaConfig(Section):
    """A Rasa 3.x server for `nlu.backend: rasa` (the embedded NLU answers when it fails)."""

    url: str = "http://127.0.0.1:5005"
    timeout: float = Field(2.0, gt=0.0)


class NLUConfig(Section):
    """Natural-language understanding backend and its threshold."""

    backend: Literal["embedded", "rasa"] = "embedded"
    threshold: float = Field(0.45, ge=0.0, le=1.0)
    cache_dir: str | None = "data/nlu-cache"
    sentence_vectors: bool = True
    rasa: RasaConfig = RasaConfig()


class ConsoleConfig(Section):
    """The terminal chat."""

    user: str = "local"


class LoggingConfig(Section):
    """Log level; logs never contain message texts, tokens or personal data."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class OutboxConfig(Section):
    """How senders drain the outbox."""

    batch: int = Field(20, ge=1, le=1000)
    lease_seconds: float = Field(60, gt=0)
    poll_seconds: float = Field(0.5, gt=0)
    backoff_base_seconds: float = Field(2, gt=0)
    backoff_max_seconds: float = Field(300, gt=0)
    give_up_hours: float = Field(24, gt=0)


class SchedulerConfig(Section):
    """Recurring work: reminders, job-alert digest, clean-up; leader election."""

    enabled: bool = True
    reminder_interval_seconds: float = Field(2, gt=0)
    digest_time: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    leader_check_seconds: float = Field(2, gt=0)
    keep_event_ids_days: int = Field(7, ge=1)
    job_timeout_seconds: float = Field(300, gt=0)
    retry_seconds: float = Field(10, gt=0)
    retry_max_seconds: float = Field(600, gt=0)
    overdue_seconds: float = Field(120, gt=0)


class WebConfig(Section):
    """citybot's own HTTP server for /healthz and /metrics (every `citybot run`)."""

    enabled: bool = True
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8081, ge=0, le=65535)  # 0: any free port (logged)


class RunConfig(Section):
    """The long-running process (`citybot run`)."""

    shutdown_seconds: float = Field(10, gt=0)


class RelayConfig(Section):
    """A transport that POSTs outgoing messages of one platform to an HTTP endpoint."""

    platform: str = "relay"
    url: str
    rate_per_second: float = Field(30, gt=0)
    timeout_seconds: float = Field(10, gt=0)


class TelegramWebhookConfig(Section):
    """Webhook mode: Telegram POSTs updates to url; citybot listens on listen_host:listen_port."""

    url: str = Field(pattern=r"^https?://")
    secret_token: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8080, ge=1, le=65535)
    max_connections: int = Field(40, ge=1, le=100)


class TelegramPaymentsConfig(Section):
    """Telegram payments; invoices are sent only when a provider token is set."""

    provider_token: str = ""


class TelegramRateLimits(Section):
    """Telegram's flood limits for outgoing messages."""

    overall_per_second: float = Field(30, gt=0)
    per_chat_per_second: float = Field(1, gt=0)
    per_chat_burst: int = Field(3, ge=1)
    per_group_per_minute: float = Field(20, gt=0)


class TelegramConfig(Section):
    """The Telegram bot: token from @BotFather, polling by default, webhook when configured."""

    token: str = Field(min_length=1)
    api_base_url: str = Field("https://api.telegram.org", pattern=r"^https?://")
    webhook: TelegramWebhookConfig | None = None
    payments: TelegramPaymentsConfig = TelegramPaymentsConfig()
    rate_limits: TelegramRateLimits = TelegramRateLimits()
    poll_timeout_seconds: int = Field(30, ge=0, le=50)
    request_timeout_seconds: float = Field(10, gt=0)


class MatrixConfig(Section):
    """The Matrix bot account: homeserver, login, end-to-end encryption, room rules."""

    homeserver: str = Field(pattern=r"^https?://")
    user_id: str = Field(pattern=r"^@[^:]+:.+$")
    password: str = Field(min_length=1)
    device_name: str = "citybot"
    store_path: str = "data/matrix"
    encryption: bool = True
    ignore_unverified_devices: bool = True
    allowed_servers: list[str] = []
    command_prefix: str = "!citybot"
    sync_timeout_seconds: float = Field(30, gt=0, le=300)
    undecryptable_grace_seconds: float = Field(60, ge=0)
    request_timeout_seconds: float = Field(30, gt=0)


class SecurityConfig(Section):
    """Keys for signing buttons and hashing identifiers (bot/keys.py)."""

    secret_key: str | None = None  # use ${CITYBOT_SECRET_KEY}; shared by all processes
    key_file: str = "data/secret.key"  # made on first start when secret_key is not set
    code_guesses: int = Field(5, ge=1)  # wrong invite/voucher codes per user ...
    code_guess_minutes: int = Field(10, ge=1)  # ... within this many minutes
    messages_per_minute: int = Field(30, ge=0)  # per user (burst and rate); 0 = no limit


class RetentionConfig(Section):
    """How long data that no service needs any more is kept."""

    outbox_days: int = Field(30, ge=1)
    state_days: int = Field(90, ge=1)


class ShopsConfig(Section):
    """Shop cards and shop updates."""

    updates_per_day: int = Field(3, ge=1)
    # the Telegram bot's username (without @) for the shop posters' link t.me/<bot>?start=shop-KEY
    telegram_bot: str = Field("", pattern=r"^([A-Za-z][A-Za-z0-9_]{3,31})?$")


class VouchersConfig(Section):
    """Local vouchers and donations."""

    reservation_days: int = Field(7, ge=1)  # an unpaid "pay in the shop" reservation lapses
    donation_amounts: list[int] = [500, 1000, 2500]  # cents, offered as buttons
    donation_min_cents: int = Field(100, ge=1)
    donation_max_cents: int = Field(50000, ge=1)
    wrong_codes_limit: int = Field(5, ge=1)  # unknown codes a user may try per window
    wrong_codes_window_minutes: int = Field(10, ge=1)
    expiry_reminder_days: int = Field(30, ge=1)  # remind the buyer this long before expiry


class BigBlueButtonConfig(Section):
    """A BigBlueButton server whose API citybot uses to create rooms and personal join links."""

    url: str = Field(pattern=r"^https?://")  # e.g. https://bbb.example.city/bigbluebutton/
    secret: str = Field(min_length=1)  # `bbb-conf --secret`; use ${CITYBOT_BBB_SECRET}
    checksum: Literal["sha256", "sha1"] = "sha256"  # sha1 for old servers
    timeout_seconds: float = Field(10, gt=0)


REMINDER_OFFSET = re.compile(r"^(\d+)\s*([mhd])$")


class EveningsConfig(Section):
    """Online parent evenings."""

    reminders: list[str] = ["24h", "1h"]  # before the start: "30m", "1h", "24h", "2d"
    bigbluebutton: BigBlueButtonConfig | None = None
    list_size: int = Field(8, ge=1, le=20)  # sessions per list message

    @field_validator("reminders")
    @classmethod
    def _offsets(cls, value: list[str]) -> list[str]:
        for item in value:
            if not REMINDER_OFFSET.match(item.strip()):
                raise ValueError(f"{item!r} is no offset like 30m, 1h or 2d")
        return value


PPE_LOW_STOCK = {
    "ffp2_mask": 2000,
    "surgical_mask": 5000,
    "gloves": 10000,
    "gown": 500,
    "face_shield": 200,
    "goggles": 100,
    "disinfectant": 100,
}


class PPEConfig(Section):
    """PPE requests and the stock."""

    summary_time: str = Field("07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # daily queue
    max_packs: int = Field(1000, ge=1)  # more packs of an item in one request is refused
    consumption_days: int = Field(28, ge=1)  # window of a department's recent consumption
    report_weeks: int = Field(6, ge=1, le=52)  # weeks the /ppereport chart shows
    low_stock: dict[str, int] = dict(PPE_LOW_STOCK)  # pieces; below: coordinators told once

    @field_validator("low_stock")
    @classmethod
    def _known_items(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(PPE_LOW_STOCK))
        if unknown:
            raise ValueError(f"unknown item {unknown[0]!r}; known: {', '.join(PPE_LOW_STOCK)}")
        if any(limit < 0 for limit in value.values()):
            raise ValueError("thresholds must not be negative")
        return {**PPE_LOW_STOCK, **value}


class Config(Section):
    """The whole configuration."""

    city: CityConfig = CityConfig()
    storage: StorageConfig = StorageConfig()
    nlu: NLUConfig = NLUConfig()
    console: ConsoleConfig = ConsoleConfig()
    logging: LoggingConfig = LoggingConfig()
    outbox: OutboxConfig = OutboxConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    web: WebConfig = WebConfig()
    run: RunConfig = RunConfig()
    security: SecurityConfig = SecurityConfig()
    retention: RetentionConfig = RetentionConfig()
    shops: ShopsConfig = ShopsConfig()
    vouchers: VouchersConfig = VouchersConfig()
    evenings: EveningsConfig = EveningsConfig()
    ppe: PPEConfig = PPEConfig()
    relay: RelayConfig | None = None
    matrix: MatrixConfig | None = None
    telegram: TelegramConfig | None = None
    base_dir: Path = Path(".")

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def database_url(self) -> str:
        """The storage URL with a relative SQLite path resolved against the config folder."""
        prefix = "sqlite+aiosqlite:///"
        url = self.storage.url
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.resolve_path(url[len(prefix) :]))
        return url


def substitute_env(value: Any, path: str = "") -> Any:
    """Replace ${NAME} and ${NAME:-default} in every string of a loaded YAML tree."""
    if isinstance(value, dict):
        return {k: substitute_env(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{path}: environment variable {name} is not set")

    return ENV_PATTERN.sub(replace, value)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{key}: {message}"


def config_from_mapping(raw: dict[str, Any] | None, base_dir: Path = Path(".")) -> Config:
    """Validate an already loaded mapping (env substitution included)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("(top level): expected a mapping of sections")
    data = substitute_env(raw)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None
    return config.model_copy(update={"base_dir": base_dir})


def load_config(path: str | Path | None = None) -> Config:
    """Load PATH, $CITYBOT_CONFIG or ./config.yaml; the defaults when ./config.yaml is absent."""
    explicit = path or os.environ.get("CITYBOT_CONFIG")
    config_path = Path(explicit) if explicit else DEFAULT_CONFIG_PATH
    if not config_path.exists():
        if explicit:
            raise ConfigError(f"{config_path}: config file not found")
        return config_from_mapping({}, Path.cwd())
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{config_path}{where}: not valid YAML") from None
    return config_from_mapping(raw, config_path.resolve().parent)
