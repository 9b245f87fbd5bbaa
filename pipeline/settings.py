"""One Settings object, built once at start-up and passed down. Env prefix REELFACTORY_."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REELFACTORY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage and paths
    data_dir: Path = Path("data")
    db_path: Path | None = None  # default: data_dir / "reelfactory.db"
    blob_store: Literal["local", "r2"] = "local"

    # --- rendering
    ffmpeg_binary: str | None = None  # default: the imageio-ffmpeg wheel's binary
    render_concurrency: int = Field(default=1, ge=1)
    render_timeout: float = Field(default=900.0, gt=0)
    x264_preset: str = "veryfast"
    x264_crf: int = 23

    # --- defaults a user may change
    default_language: str = "en"
    default_style: str = "bold-yellow"
    default_voice: str | None = None
    speech_rate: int = Field(default=165, ge=80, le=450)  # words per minute (espeak)

    # --- providers (keys are secrets; base URLs let tests and proxies stand in)
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None
    groq_api_key: SecretStr | None = None
    groq_base_url: str | None = None
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_base_url: str | None = None
    google_search_api_key: SecretStr | None = None
    google_search_cx: str | None = None
    google_search_base_url: str = "https://www.googleapis.com"
    provider_timeout: float = Field(default=60.0, gt=0)
    provider_retries: int = Field(default=3, ge=1)

    script_chain: Annotated[list[str], NoDecode] = ["gemini", "groq"]
    voice_chain: Annotated[list[str], NoDecode] = ["elevenlabs", "gemini", "espeak"]
    image_chain: Annotated[list[str], NoDecode] = ["google_search", "gemini", "cards"]
    fetch_allow_hosts: Annotated[list[str], NoDecode] = []
    fetch_max_bytes: int = 15 * 1024 * 1024
    fetch_concurrency: int = 6

    # --- R2
    r2_account_id: str | None = None
    r2_endpoint_url: str | None = None
    r2_access_key_id: SecretStr | None = None
    r2_secret_access_key: SecretStr | None = None
    r2_bucket: str | None = None
    r2_public_base_url: str | None = None
    r2_presign_expiry: int = 7 * 24 * 3600
    upload_concurrency: int = 4

    # --- jobs
    keep_finished_hours: float = 24.0
    keep_failed_hours: float = 72.0

    # --- chat fronts
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str | None = None
    # api.telegram.org takes 50 MB from bots; a self-hosted Bot API server takes 2000 MB.
    telegram_upload_limit_mb: int = Field(default=50, ge=1, le=2000)
    discord_bot_token: SecretStr | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = []
    daily_render_quota: int = 5
    drafts_per_hour: int = 10

    # --- scheduler
    scheduler_timezone: str = "UTC"
    daily_post_time: str = "09:00"
    daily_channels: Annotated[list[str], NoDecode] = []

    # --- music bed and sound effects (issue 14)
    music_enabled: bool = True  # a bed under the narration unless a user or script says off
    sound_effects: bool = True  # a transition at the cuts and a hit under the title
    music_chain: Annotated[list[str], NoDecode] = ["elevenlabs", "synth"]
    music_timeout: float = Field(default=180.0, gt=0)  # ElevenLabs Music takes its time
    music_max_bytes: int = 40 * 1024 * 1024  # a user's track fetched from a URL

    @field_validator("music_chain", mode="before")
    @classmethod
    def _split_music_chain(cls, value: object) -> object:
        return _csv(value)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `KEY=` in .env means "not configured": the default, not an empty secret or URL.
        if isinstance(value, str) and not value.strip():
            raise PydanticUseDefault
        return value

    @field_validator(
        "script_chain",
        "voice_chain",
        "image_chain",
        "fetch_allow_hosts",
        "admin_ids",
        "daily_channels",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _csv(value)

    def model_post_init(self, __context: object) -> None:
        if self.db_path is None:
            self.db_path = self.data_dir / "reelfactory.db"

    @property
    def database(self) -> Path:
        assert self.db_path is not None
        return self.db_path

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"
