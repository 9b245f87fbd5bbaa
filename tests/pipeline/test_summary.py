"""The daily summary's figures match the jobs, stage runs, daily posts, alerts and files the
test makes, counted in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.alerts import Alerter, Cause, Kind
from pipeline.settings import Settings
from pipeline.summary import build_summary, day_window, format_summary
from storage import (
    AlertRepository,
    DailyKey,
    DailyPostRepository,
    Database,
    JobRecord,
    JobRepository,
    StageRunRepository,
)

DAY = date(2026, 8, 17)
ZONE = "Europe/Madrid"  # UTC+2 in August: the day is 2026-08-16 22:00 to 08-17 22:00 UTC
TG = "telegram:-1001234567890"
DC = "discord:112233445566778899"


def utc(hour: int, minute: int = 0, day: int = 17) -> datetime:
    return datetime(2026, 8, day, hour, minute, tzinfo=UTC)


class Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, admin: str, text: str) -> None:
        self.sent.append((admin, text))


@pytest.fixture
def configured(settings: Settings) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=settings.data_dir,
        timezone=ZONE,
        daily_destinations=f"{TG}@en,{DC}@es",
        daily_count=2,
    )


async def add_job(
    db: Database, state: str, created: datetime, runs: list[tuple[str, str | None, int, str]]
) -> str:
    job = JobRecord(
        id=JobRepository.new_id(),
        state=state,
        language="en",
        style="s",
        work_dir="w",
        created_at=created,
        updated_at=created,
    )
    await JobRepository(db).create(job)
    stage_runs = StageRunRepository(db)
    for offset, (stage, provider, millis, outcome) in enumerate(runs):
        run = await stage_runs.start(job.id, stage, created + timedelta(seconds=offset))
        await stage_runs.finish(
            run, outcome=outcome, duration_ms=millis, provider=provider, attempts=1
        )
    return job.id


async def test_the_figures_match_what_happened_that_day(db: Database, configured: Settings) -> None:
    ok = "ok"
    # That day in Madrid: 08-16 22:30 UTC (already the 17th there) to 08-17 21:59 UTC.
    await add_job(db, "delivered", utc(22, 30, day=16), [
        ("script", "gemini", 2000, ok), ("voice", "elevenlabs", 4000, ok),
        ("images", "google_search", 1000, ok), ("render", "ffmpeg", 10000, ok),
    ])  # fmt: skip
    await add_job(db, "delivered", utc(9), [
        ("script", "groq", 3000, ok), ("voice", "espeak", 1000, ok),
        ("images", "cards+google_search", 2000, ok), ("render", "ffmpeg", 12000, ok),
    ])  # fmt: skip
    await add_job(db, "delivered", utc(12), [
        ("script", "gemini", 1000, ok), ("voice", "espeak", 2000, ok),
        ("images", "user+cards", 500, ok), ("render", "ffmpeg", 30000, ok),
    ])  # fmt: skip
    await add_job(db, "failed", utc(13), [("script", None, 9000, "failed")])
    await add_job(db, "cancelled", utc(14), [("script", "gemini", 1500, ok)])
    await add_job(db, "images_review", utc(21, 59), [("script", "gemini", 2500, ok)])
    # Outside the day: 21:00 UTC on the 16th (the 16th in Madrid) and 22:00 UTC on the 17th.
    await add_job(db, "failed", utc(21, day=16), [("script", "groq", 99000, ok)])
    await add_job(db, "delivered", utc(22), [("render", "ffmpeg", 99000, ok)])

    daily = DailyPostRepository(db)
    for slot in (0, 1):
        key = DailyKey(DAY, TG, slot)
        await daily.claim(key, language="en")
        assert await daily.mark_posted(key, message_id=str(slot))
    failed = DailyKey(DAY, DC, 0)
    await daily.claim(failed, language="es")
    await daily.mark_failed(failed, "Forbidden: Missing Access")
    await daily.claim(DailyKey(DAY, DC, 1), language="es")  # still being made
    await daily.claim(DailyKey(DAY - timedelta(days=1), DC, 0), language="es")  # not that day
    old = DailyKey(DAY, "telegram:-100999", 0)  # a channel since removed from the settings
    await daily.claim(old, language="en")
    await daily.mark_posted(old)

    clock_at = [utc(10)]
    alerter = Alerter(AlertRepository(db), Notes(), ["telegram:1"], clock=lambda: clock_at[0])
    cause = Cause(Kind.JOB_FAILED, "script", "chain", "ProviderUnavailable")
    for minutes in (0, 5, 10, 70):  # sent, muted, muted, sent again with a count
        clock_at[0] = utc(10) + timedelta(minutes=minutes)
        await alerter.report(cause)
    await alerter.recovered(Kind.JOB_FAILED)
    clock_at[0] = utc(23)  # the 18th in Madrid
    await alerter.report(cause)

    (configured.work_dir / "job1").mkdir(parents=True)
    (configured.work_dir / "job1" / "reel.mp4").write_bytes(b"x" * 3000)
    (configured.cache_dir / "tts" / "k").mkdir(parents=True)
    (configured.cache_dir / "tts" / "k" / "voice.mp3").write_bytes(b"y" * 500)

    chains = {"script": ["gemini", "groq"], "voice": ["elevenlabs", "espeak"],
              "images": ["google_search", "gemini", "cards"]}  # fmt: skip
    summary = await build_summary(db, configured, DAY, chains=chains)

    assert (summary.made, summary.failed, summary.cancelled, summary.in_progress) == (3, 1, 1, 1)
    assert summary.stats.jobs == 6
    assert summary.stats.success_rate == pytest.approx(3 / 4)
    stages = {s.stage: (s.runs, s.p50, s.p95) for s in summary.stats.stages}
    assert stages["script"] == (5, 2.0, 3.0)  # 1.0 1.5 2.0 2.5 3.0 s; the failed run is out
    assert stages["render"] == (3, 12.0, 30.0)
    assert stages["voice"] == (3, 2.0, 4.0)
    assert summary.served["script"] == {"gemini": 4, "groq": 1}
    assert summary.served["images"] == {"google_search": 2, "cards": 2, "user": 1}
    assert [(f.stage, f.primary, f.served_by, f.runs) for f in summary.fallbacks] == [
        ("images", "google_search", "cards", 2),
        ("script", "gemini", "groq", 1),
        ("voice", "elevenlabs", "espeak", 2),
    ]
    daily_rows = {d.destination: d for d in summary.daily}
    assert list(daily_rows) == [TG, DC, "telegram:-100999"]
    assert (daily_rows[TG].wanted, daily_rows[TG].posted, daily_rows[TG].failed) == (2, 2, 0)
    assert (daily_rows[DC].posted, daily_rows[DC].failed, daily_rows[DC].pending) == (0, 1, 1)
    assert daily_rows[DC].errors == ("Forbidden: Missing Access",)
    assert (daily_rows["telegram:-100999"].wanted, daily_rows["telegram:-100999"].posted) == (0, 1)
    assert summary.alerts == {"sent": 2, "muted": 2, "recovered": 1, "undelivered": 0}
    assert summary.disk == {"work": 3000, "cache": 500, "blobs": 0}

    text = format_summary(summary)
    lines = text.splitlines()
    assert lines[0] == "Reel Factory: daily summary for 2026-08-17 (Europe/Madrid)"
    assert lines[1] == (
        "Jobs: 6 in all: 3 made, 1 failed, 1 cancelled, 1 in progress; success rate 75%"
    )
    assert "  script: 2.0 s / 3.0 s (5 runs)" in lines
    assert "  voice: elevenlabs -> espeak 2" in lines
    assert f"  {TG}: 2 of 2 posted" in lines
    assert f"  {DC}: 0 of 2 posted, 1 failed (Forbidden: Missing Access), 1 pending" in lines
    assert "Alerts: 2 sent, 2 muted, 1 recovered" in lines
    assert lines[-1] == "Disk: work 2.9 KB, cache 500 B, blobs 0 B"


async def test_an_empty_day_reads_plainly(db: Database, settings: Settings) -> None:
    summary = await build_summary(db, settings, DAY)
    assert summary.stats.jobs == 0 and summary.stats.success_rate is None
    assert summary.fallbacks == [] and summary.daily == []
    text = format_summary(summary)
    assert "success rate n/a" in text and "Fallbacks: none" in text
    assert "Alerts: 0 sent, 0 muted, 0 recovered" in text


def test_a_day_is_local_midnight_to_midnight_even_across_dst() -> None:
    start, end = day_window(date(2026, 10, 25), ZONE)  # clocks go back: a 25-hour day
    assert start.astimezone(UTC) == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


def test_bad_destinations_stop_the_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a channel id"):
        Settings(_env_file=None, daily_destinations="discord:12@en")  # type: ignore[call-arg]
