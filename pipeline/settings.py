"""One Settings object, built once at start-up and passed down. Env prefix REELFACTORY_.

Each chat front has its own section with its own prefix (``REELFACTORY_TELEGRAM_``,
``REELFACTORY_DISCORD_``), so the variable names stay what they always were:
``REELFACTORY_TELEGRAM_BOT_TOKEN`` is ``settings.telegram.bot_token``.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLATFORMS = ("telegram", "discord")
TREND_SOURCES = ("wikipedia", "google_trends", "list")


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,  # Settings(timezone=...) beside the env aliases below
    )


def _env(*names: str) -> AliasChoices:
    """Environment names for a field (an alias skips the prefix, so it is spelt out)."""
    return AliasChoices(*(f"REELFACTORY_{name}" for name in names))


class _Section(BaseSettings):
    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `KEY=` in .env means "not configured": the default, not an empty secret or URL.
        if isinstance(value, str) and not value.strip():
            raise PydanticUseDefault
        return value


class TelegramSettings(_Section):
    model_config = _config("REELFACTORY_TELEGRAM_")

    bot_token: SecretStr | None = None
    api_base: str | None = None
    # api.telegram.org takes 50 MB from bots; a self-hosted Bot API server takes 2000 MB.
    upload_limit_mb: int = Field(default=50, ge=1, le=2000)


class DiscordSettings(_Section):
    model_config = _config("REELFACTORY_DISCORD_")

    bot_token: SecretStr | None = None
    # REST, interaction callbacks and webhooks go here (a proxy, or a fake in tests).
    api_base: str | None = None
    # The gateway; when only api_base is set it comes from GET /gateway/bot.
    gateway_url: str | None = None
    # Commands are synced to this guild only (instantly), else globally.
    guild_id: int | None = None


class Settings(_Section):
    model_config = _config("REELFACTORY_")

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
    # Searches a second at most. Google documents a daily quota (10,000 with billing), no
    # rate; a 429 is honoured (Retry-After) and retried. At 10 a second, fifty people
    # approving at once waited 50 s for the last contact sheet.
    google_search_rate: float = Field(default=50.0, gt=0)
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
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    # Admins per platform: "telegram:123,discord:456".
    admins: Annotated[list[str], NoDecode] = []
    # The older form: bare Telegram user ids.
    admin_ids: Annotated[list[int], NoDecode] = []
    daily_render_quota: int = 5
    drafts_per_hour: int = 10

    # --- daily trending reels, trend sources, admin alerts and the daily summary (issue 9)
    # The older names (REELFACTORY_DAILY_CHANNELS, _DAILY_POST_TIME, _SCHEDULER_TIMEZONE) still
    # work as aliases of the three below.
    daily_destinations: Annotated[list[str], NoDecode] = Field(
        default=[], validation_alias=_env("DAILY_DESTINATIONS", "DAILY_CHANNELS")
    )  # telegram:<chat>[@lang], discord:…
    daily_time: time = Field(
        default=time(9, 0), validation_alias=_env("DAILY_TIME", "DAILY_POST_TIME")
    )
    # IANA name; daily_time and summary_time are in it
    timezone: str = Field(default="UTC", validation_alias=_env("TIMEZONE", "SCHEDULER_TIMEZONE"))
    daily_count: int = Field(default=1, ge=1, le=10)  # reels per destination per day
    daily_repeat_days: int = Field(default=14, ge=0)
    trends_chain: Annotated[list[str], NoDecode] = ["wikipedia", "google_trends", "list"]
    wikipedia_api_base: str = "https://{lang}.wikipedia.org/api/rest_v1"
    google_trends_rss_base: str = "https://trends.google.com/trending/rss"
    google_trends_geo: str = "US"  # one country for all, or per language: "en:US,es:ES"
    trends_list_file: Path | None = None
    contact_email: str | None = None  # sent in the User-Agent, as Wikimedia's policy asks
    alert_repeat_minutes: float = Field(default=60.0, gt=0)
    summary_time: time = time(21, 0)

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

    # --- the scheduler's hands-off reels (issue 9, Studio.make): a cap on the reels system
    # owners start per UTC day, whatever the destinations and retries; None: no cap.
    daily_max_reels: int | None = Field(default=20, ge=0)

    # --- operations (issue 9, part 5): log format, and the health/metrics port of serve
    log_format: Literal["text", "json"] = "text"
    http_port: int | None = Field(default=None, ge=0, le=65535)  # None: no HTTP endpoint
    http_host: str = "0.0.0.0"  # all interfaces: in a container the probe comes from outside

    # --- dubbing a delivered reel (issue 11): how long ElevenLabs Dubbing may take, and how
    # often it is asked whether it is done; past the timeout the dub falls back to TTS.
    dub_timeout: float = Field(default=300.0, gt=0)
    dub_poll_interval: float = Field(default=3.0, gt=0)

    # --- moderation and AI disclosure (issue 13): Llama Guard categories refused (S1..S14),
    # the moderators tried in order (the local list always ends it), the caption's AI line.
    # Not refused by default: S6 (a reel on how vaccines work is not medical advice), S7 and
    # S13 (daily news names people and elections), S8 and S14 (no risk in narrated facts).
    moderation_block: Annotated[list[str], NoDecode] = [
        "S1", "S2", "S3", "S4", "S5", "S9", "S10", "S11", "S12"
    ]  # fmt: skip
    moderation_chain: Annotated[list[str], NoDecode] = ["groq", "gemini"]
    ai_disclosure: bool = True

    @field_validator("moderation_block", "moderation_chain", mode="before")
    @classmethod
    def _split_moderation(cls, value: object) -> object:
        return _csv(value)

    @field_validator("moderation_block")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        from .moderation import parse_block

        return sorted(parse_block(value), key=lambda code: int(code[1:]))

    # --- the video encoder (issue 10, pipeline.render.encoders): auto probes the ffmpeg's
    # hardware H.264 encoders once and takes one only after a test encode; any failure
    # falls back to libx264.
    encoder: Literal[
        "auto", "libx264", "h264_nvenc", "h264_vaapi", "h264_qsv", "h264_videotoolbox"
    ] = "auto"
    vaapi_device: str = "/dev/dri/renderD128"
    # --- scene segments and the speculative pre-render (issue 10, pipeline.studio.speculating):
    # while a user reviews pictures their scenes' segments are encoded at the lowest CPU
    # priority, only while no real render waits or runs. The bound is how many segment
    # encodes run at once for all jobs under review (unset: as many as a render's, each with
    # the same threads); 0 turns speculation off.
    speculative_renders: int | None = Field(default=None, ge=0)
    # Real renders run this much under the bot's own CPU priority, so presses stay quick.
    render_nice: int = Field(default=10, ge=0, le=19)
    speculative_nice: int = Field(default=19, ge=0, le=19)
    # Segments a render encodes at once, the cores shared between them (0: 1 on a machine of
    # 2 cores or fewer, where a second encoder's ~120 MB is what 50 users at once cannot
    # afford, else 2).
    render_parallel: int = Field(default=0, ge=0)

    @field_validator("daily_destinations", "trends_chain", mode="before")
    @classmethod
    def _split_daily_lists(cls, value: object) -> object:
        return _csv(value)

    @field_validator("daily_destinations")
    @classmethod
    def _valid_destinations(cls, value: list[str]) -> list[str]:
        from .destinations import DestinationError, parse_destinations

        try:
            parse_destinations(value)  # a bad entry stops start-up with its reason
        except DestinationError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("trends_chain")
    @classmethod
    def _known_trend_sources(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in TREND_SOURCES]
        if unknown:
            raise ValueError(f"unknown trend sources {unknown}; known: {', '.join(TREND_SOURCES)}")
        return value

    @field_validator("google_trends_geo")
    @classmethod
    def _valid_geo(cls, value: str) -> str:
        from .adapters.trends.google_trends import parse_geo

        parse_geo(value)  # raises ValueError with the bad part
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Madrid") from None
        return value

    @field_validator(
        "script_chain",
        "voice_chain",
        "image_chain",
        "fetch_allow_hosts",
        "admins",
        "admin_ids",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _csv(value)

    @field_validator("admins")
    @classmethod
    def _admin_owners(cls, value: list[str]) -> list[str]:
        for admin in value:
            platform, _, user_id = admin.partition(":")
            if platform not in PLATFORMS or not user_id.isdigit():
                raise ValueError(f"an admin is platform:id (e.g. telegram:123), not {admin!r}")
        return value

    def model_post_init(self, __context: Any) -> None:
        if self.db_path is None:
            self.db_path = self.data_dir / "reelfactory.db"

    @property
    def admin_owners(self) -> frozenset[str]:
        """Every admin as an owner id (``telegram:123``), from both settings."""
        return frozenset(self.admins) | {f"telegram:{user_id}" for user_id in self.admin_ids}

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

    # --- render workers (issue 12, pipeline.queue, pipeline.workers, `reelfactory worker`):
    # local renders in this process; redis hands renders to worker processes on any machine
    # through a SAQ queue on Redis. Without R2 the workers share data_dir with the bot.
    render_backend: Literal["local", "redis"] = "local"
    # A secret (it may hold a password); empty means redis://127.0.0.1:6379/0.
    redis_url: SecretStr = SecretStr("")
    render_queue_name: str = "renders"
    # A render whose worker sends no heartbeat for this long goes to another worker.
    render_heartbeat: int = Field(default=20, ge=1)
    render_sweep_interval: int = Field(default=5, ge=1)  # how often workers look for those
    render_attempts: int = Field(default=3, ge=1)  # then the job fails and admins hear of it
    worker_concurrency: int = Field(default=1, ge=1)  # renders at once per worker process
    # Encoder threads per segment's ffmpeg (0: the cores divided by render_parallel). 1 with
    # render_parallel=1 keeps a worker to one core, so several workers share a machine fairly.
    # Part of a segment's key: segments encoded ahead with another value are encoded again.
    render_threads: int = Field(default=0, ge=0)
    # With the redis backend, a reel longer than this (s) has its scene segments encoded on
    # every idle worker at once and joined where the job started (0: never split).
    render_split_seconds: float = Field(default=90.0, ge=0)

    # --- YouTube Shorts per user (issue 13 §3): a Google OAuth client of the type "TVs and
    # Limited Input devices" (device flow; Google allows the broad `youtube` scope there, not
    # `youtube.upload`), the Fernet key that encrypts users' refresh tokens at rest, and
    # where Google is (a proxy, or the mock of `reelfactory fake-youtube` and the tests).
    youtube_client_id: str | None = None
    youtube_client_secret: SecretStr | None = None
    youtube_token_key: SecretStr | None = None  # Fernet key: 32 url-safe base64 bytes
    youtube_oauth_base: str = "https://oauth2.googleapis.com"
    youtube_api_base: str = "https://www.googleapis.com"
    # Bytes per PUT of a resumable upload: a multiple of 256 KiB (Google's rule).
    youtube_chunk_size: int = Field(default=8 * 256 * 1024, ge=256 * 1024)
    youtube_category: str = "27"  # Education; "22" People & Blogs, "24" Entertainment
    youtube_timeout: float = Field(default=120.0, gt=0)

    @field_validator("youtube_chunk_size")
    @classmethod
    def _chunk_multiple(cls, value: int) -> int:
        if value % (256 * 1024):
            raise ValueError(
                f"youtube_chunk_size must be a multiple of 262144 (256 KiB), not {value}"
            )
        return value

    @property
    def youtube_configured(self) -> bool:
        """Users may connect a channel: an OAuth client is set (the key is checked on connect,
        so a missing one is told instead of hiding the feature)."""
        return bool(self.youtube_client_id)
