"""The issue-9 settings block read from the environment, and its errors."""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.destinations import parse_destinations
from pipeline.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("REELFACTORY_")]:
        monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.daily_destinations == []
    assert settings.daily_time == time(9, 0) and settings.summary_time == time(21, 0)
    assert settings.timezone == "UTC" and settings.daily_count == 1
    assert settings.daily_repeat_days == 14 and settings.alert_repeat_minutes == 60
    assert settings.trends_chain == ["wikipedia", "google_trends", "list"]
    assert settings.wikipedia_api_base == "https://{lang}.wikipedia.org/api/rest_v1"
    assert settings.google_trends_rss_base == "https://trends.google.com/trending/rss"


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "REELFACTORY_DAILY_DESTINATIONS": (
            "telegram:-1001234567890@en,discord:112233445566778899@es"
        ),
        "REELFACTORY_DAILY_TIME": "07:45",
        "REELFACTORY_TIMEZONE": "America/Mexico_City",
        "REELFACTORY_DAILY_COUNT": "2",
        "REELFACTORY_TRENDS_CHAIN": "google_trends, list",
        "REELFACTORY_GOOGLE_TRENDS_GEO": "en:US,es:MX",
        "REELFACTORY_TRENDS_LIST_FILE": str(tmp_path / "topics.txt"),
        "REELFACTORY_CONTACT_EMAIL": "ops@reels.example",
        "REELFACTORY_ALERT_REPEAT_MINUTES": "30",
        "REELFACTORY_SUMMARY_TIME": "22:00",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [str(d) for d in parse_destinations(settings.daily_destinations)] == [
        "telegram:-1001234567890@en",
        "discord:112233445566778899@es",
    ]
    assert settings.daily_time == time(7, 45) and settings.summary_time == time(22, 0)
    assert settings.timezone == "America/Mexico_City" and settings.daily_count == 2
    assert settings.trends_chain == ["google_trends", "list"]
    assert settings.trends_list_file == tmp_path / "topics.txt"
    assert settings.alert_repeat_minutes == 30


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REELFACTORY_DAILY_DESTINATIONS", "whatsapp:1", "telegram or discord"),
        ("REELFACTORY_TIMEZONE", "Moon/Base", "not an IANA time zone"),
        ("REELFACTORY_DAILY_TIME", "25:00", "REELFACTORY_DAILY_TIME"),  # the name to fix
        ("REELFACTORY_DAILY_COUNT", "0", "daily_count"),
        ("REELFACTORY_TRENDS_CHAIN", "wikipedia,reddit", "unknown trend sources"),
        ("REELFACTORY_GOOGLE_TRENDS_GEO", "USA", "not a country code"),
    ],
)
def test_bad_values_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_older_names_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """REELFACTORY_DAILY_CHANNELS, _DAILY_POST_TIME and _SCHEDULER_TIMEZONE, from before the
    daily reels, set the same fields as the current names."""
    monkeypatch.setenv("REELFACTORY_DAILY_CHANNELS", "telegram:-1001234567890@es")
    monkeypatch.setenv("REELFACTORY_DAILY_POST_TIME", "06:15")
    monkeypatch.setenv("REELFACTORY_SCHEDULER_TIMEZONE", "Europe/Madrid")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.daily_destinations == ["telegram:-1001234567890@es"]
    assert settings.daily_time == time(6, 15) and settings.timezone == "Europe/Madrid"
    assert not hasattr(settings, "daily_channels") and not hasattr(settings, "daily_post_time")
    # The current name wins over the older one; a bad older value is refused just the same.
    monkeypatch.setenv("REELFACTORY_TIMEZONE", "Asia/Tokyo")
    assert Settings(_env_file=None).timezone == "Asia/Tokyo"  # type: ignore[call-arg]
    monkeypatch.delenv("REELFACTORY_TIMEZONE")
    monkeypatch.setenv("REELFACTORY_SCHEDULER_TIMEZONE", "Moon/Base")
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_fields_are_set_by_name_in_code() -> None:
    channel = "discord:112233445566778899"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, timezone="Asia/Tokyo", daily_time="07:00", daily_destinations=channel
    )
    assert settings.timezone == "Asia/Tokyo" and settings.daily_time == time(7, 0)
    assert settings.daily_destinations == [channel]
