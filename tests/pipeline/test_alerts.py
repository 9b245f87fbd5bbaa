"""Admin alerts against a real SQLite database, a recording notifier and a hand-moved clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.alerts import Alerter, Cause, Kind, Outcome, secrets_of
from pipeline.errors import ProviderError, ProviderUnavailable
from pipeline.settings import DiscordSettings, Settings, TelegramSettings
from storage import AlertRepository, Database

ADMINS = ["telegram:111", "discord:222333444555666777"]
# Recognisable fake keys: the shaped ones and plain ones only this deployment knows.
GEMINI_KEY = "AIzaFAKEgemini0123456789abcdefghijklmnop"
GROQ_KEY = "gsk_FAKEgroq0123456789abcdefABCDEF"
R2_SECRET = "r2-secret-PLAIN-not-key-shaped"
TELEGRAM_TOKEN = "123456789:FAKEtelegramTOKENabcdefghijklmnopqrst"
ELEVEN_KEY = "eleven-PLAIN-secret-value-42"
DISCORD_TOKEN = "discord-PLAIN-token-in-a-section"
KEYS = [GEMINI_KEY, GROQ_KEY, R2_SECRET, TELEGRAM_TOKEN, ELEVEN_KEY, DISCORD_TOKEN]
LLM_DOWN = Cause(Kind.JOB_FAILED, "script", "chain", "ProviderUnavailable")


class RecordingNotifier:
    """Keeps every DM; ``down`` lists admins whose platform is unreachable."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down: set[str] = set()

    async def send(self, admin: str, text: str) -> None:
        if admin in self.down:
            raise ConnectionError(f"{admin}: front is not connected")
        self.sent.append((admin, text))

    def texts(self, admin: str = ADMINS[0]) -> list[str]:
        return [text for to, text in self.sent if to == admin]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 8, 17, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    # Built, not copied, so the keys are SecretStr as they are when read from the env.
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=settings.data_dir,
        gemini_api_key=GEMINI_KEY,
        groq_api_key=GROQ_KEY,
        r2_secret_access_key=R2_SECRET,
        elevenlabs_api_key=ELEVEN_KEY,
        telegram=TelegramSettings(_env_file=None, bot_token=TELEGRAM_TOKEN),  # type: ignore[call-arg]
        discord=DiscordSettings(_env_file=None, bot_token=DISCORD_TOKEN),  # type: ignore[call-arg]
        admins=ADMINS,
        alert_repeat_minutes=60,
    )


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alerter(keyed: Settings, db: Database, notifier: RecordingNotifier, clock: Clock) -> Alerter:
    # The admins come from the settings (REELFACTORY_ADMINS).
    return Alerter.from_settings(keyed, AlertRepository(db), notifier, clock=clock)


async def test_the_first_occurrence_is_sent_to_every_admin(
    alerter: Alerter, notifier: RecordingNotifier
) -> None:
    outcome = await alerter.report(
        LLM_DOWN, job_id="job42", message="gemini: answered 500; groq: answered 429"
    )
    assert outcome is Outcome.SENT
    assert sorted(admin for admin, _ in notifier.sent) == sorted(ADMINS)
    text = notifier.texts()[0]
    assert text.splitlines() == [
        "⚠️ Reel Factory: a job failed",
        "Job: job42",
        "Stage: script",
        "Provider: chain",
        "Error: ProviderUnavailable",
        "Message: gemini: answered 500; groq: answered 429",
    ]
    assert notifier.texts(ADMINS[1]) == [text]


async def test_repeats_are_muted_then_counted_once_an_hour(
    alerter: Alerter, notifier: RecordingNotifier, clock: Clock
) -> None:
    assert await alerter.report(LLM_DOWN) is Outcome.SENT
    for _ in range(3):  # e.g. `daily` run three times
        clock.advance(minutes=10)
        assert await alerter.report(LLM_DOWN) is Outcome.MUTED
    assert len(notifier.texts()) == 1
    clock.advance(minutes=31)  # 61 minutes after the first DM
    assert await alerter.report(LLM_DOWN, job_id="job9") is Outcome.SENT
    repeat = notifier.texts()[1]
    assert "Still happening: 4 times since the last message, 5 since 2026-08-17 09:00 UTC" in (
        repeat
    )
    assert "Job: job9" in repeat
    clock.advance(minutes=5)
    assert await alerter.report(LLM_DOWN) is Outcome.MUTED
    assert len(notifier.texts()) == 2


async def test_a_recovery_is_announced_once(
    alerter: Alerter, notifier: RecordingNotifier, clock: Clock
) -> None:
    other = Cause(Kind.JOB_FAILED, "voice", "elevenlabs", "ProviderError")
    await alerter.report(LLM_DOWN)
    await alerter.report(other)
    clock.advance(minutes=5)
    await alerter.report(LLM_DOWN)
    # A script drafted by the chain again: its cause stopped; the voice one did not.
    assert await alerter.recovered(Kind.JOB_FAILED, stage="script", provider="chain") == 1
    assert await alerter.recovered(Kind.JOB_FAILED, stage="script", provider="chain") == 0
    texts = notifier.texts()
    assert len(texts) == 3
    assert texts[2].splitlines()[:2] == [
        "✅ Reel Factory: recovered: a job failed",
        "It happened 2 times from 2026-08-17 09:00 UTC to 2026-08-17 09:05 UTC, "
        "1 of them since the last message.",
    ]
    # Coming back after a recovery is a new first occurrence, sent at once.
    clock.advance(minutes=1)
    assert await alerter.report(LLM_DOWN) is Outcome.SENT
    assert "Still happening" not in notifier.texts()[3]


async def test_an_explicit_resolve_is_said_once(
    alerter: Alerter, notifier: RecordingNotifier
) -> None:
    await alerter.report(LLM_DOWN)
    assert await alerter.resolve(LLM_DOWN)
    assert not await alerter.resolve(LLM_DOWN)
    assert len(notifier.texts()) == 2 and notifier.texts()[1].startswith("✅")


async def test_each_cause_has_its_own_dm(alerter: Alerter, notifier: RecordingNotifier) -> None:
    causes = [
        LLM_DOWN,
        Cause(Kind.JOB_FAILED, "script", "chain", "TimeoutError"),
        Cause(Kind.DELIVERY, "publish", "telegram", "TelegramForbiddenError"),
        Cause(Kind.DAILY, "", "discord", "Forbidden"),
    ]
    for cause in causes * 2:
        await alerter.report(cause)
    assert len(notifier.texts()) == len(causes)
    assert len({cause.fingerprint for cause in causes}) == len(causes)


async def test_no_dm_holds_a_key_or_more_than_a_preview_of_user_text(
    alerter: Alerter, notifier: RecordingNotifier, clock: Clock, keyed: Settings
) -> None:
    assert sorted(secrets_of(keyed)) == sorted(KEYS)
    leaky = (
        f"gemini: 400 for https://generativelanguage.googleapis.com/v1?key={GEMINI_KEY}; "
        f"groq said Authorization: Bearer {GROQ_KEY}; r2 {R2_SECRET}; bot{TELEGRAM_TOKEN}; "
        f"eleven {ELEVEN_KEY}; discord {DISCORD_TOKEN}; "
        f"someone else's AIzaOTHERkey0123456789abcdefghijklmn"
    )
    topic = "Tell me about " + "x" * 500 + " @everyone"
    await alerter.report(LLM_DOWN, message=leaky, user_text=topic)
    clock.advance(hours=2)
    await alerter.report(LLM_DOWN, message=leaky, user_text=topic)
    await alerter.recovered(Kind.JOB_FAILED)
    assert len(notifier.sent) == 6
    for _, text in notifier.sent:
        for key in KEYS:
            assert key not in text
        assert "AIzaOTHERkey" not in text
    first = notifier.texts()[0]
    assert "[redacted]" in first
    [preview] = [line for line in first.splitlines() if line.startswith("Text: ")]
    assert len(preview.removeprefix("Text: ")) == 100 and preview.endswith("…")
    [message] = [line for line in first.splitlines() if line.startswith("Message: ")]
    assert len(message) <= len("Message: ") + 300


async def test_user_text_cannot_ping_a_channel(
    alerter: Alerter, notifier: RecordingNotifier
) -> None:
    await alerter.report(LLM_DOWN, user_text="hi @everyone and @here\u202e")
    text = notifier.texts()[0]
    assert "@everyone" not in text and "@here" not in text and "\u202e" not in text


async def test_a_restart_neither_resends_nor_forgets(
    tmp_path: Path, keyed: Settings, notifier: RecordingNotifier, clock: Clock
) -> None:
    path = tmp_path / "alerts.db"
    for run in range(3):
        db = await Database.open(path)
        try:
            alerter = Alerter.from_settings(
                keyed, AlertRepository(db), notifier, ADMINS, clock=clock
            )
            outcome = await alerter.report(LLM_DOWN)
        finally:
            await db.close()
        assert outcome is (Outcome.SENT if run == 0 else Outcome.MUTED)
        clock.advance(minutes=20)
    assert len(notifier.texts()) == 1
    clock.advance(minutes=1)  # 61 minutes after the first DM
    db = await Database.open(path)
    try:
        alerter = Alerter.from_settings(keyed, AlertRepository(db), notifier, ADMINS, clock=clock)
        assert await alerter.report(LLM_DOWN) is Outcome.SENT
    finally:
        await db.close()
    assert "Still happening: 3 times since the last message" in notifier.texts()[1]


async def test_two_processes_send_one_dm(
    tmp_path: Path, keyed: Settings, notifier: RecordingNotifier, clock: Clock
) -> None:
    path = tmp_path / "shared.db"
    one, two = await Database.open(path), await Database.open(path)
    try:
        alerters = [
            Alerter.from_settings(keyed, AlertRepository(db), notifier, ADMINS, clock=clock)
            for db in (one, two)
        ]
        outcomes = await asyncio.gather(*(a.report(LLM_DOWN) for a in alerters * 3))
    finally:
        await one.close()
        await two.close()
    assert sorted(outcomes) == sorted([Outcome.SENT] + [Outcome.MUTED] * 5)
    assert len(notifier.texts()) == 1


async def test_a_platform_down_does_not_stop_the_other(
    alerter: Alerter, notifier: RecordingNotifier, clock: Clock
) -> None:
    notifier.down.add(ADMINS[0])
    assert await alerter.report(LLM_DOWN) is Outcome.SENT
    assert notifier.texts(ADMINS[1]) and not notifier.texts(ADMINS[0])


async def test_an_undelivered_alert_is_owed_to_the_next_occurrence(
    alerter: Alerter, notifier: RecordingNotifier, clock: Clock
) -> None:
    notifier.down.update(ADMINS)
    assert await alerter.report(LLM_DOWN) is Outcome.UNDELIVERED
    notifier.down.clear()
    clock.advance(minutes=1)
    assert await alerter.report(LLM_DOWN) is Outcome.SENT
    assert "Still happening: 2 times since the last message" in notifier.texts()[0]


async def test_reporting_never_raises_into_the_pipeline(
    tmp_path: Path, keyed: Settings, notifier: RecordingNotifier
) -> None:
    db = await Database.open(tmp_path / "gone.db")
    alerter = Alerter.from_settings(keyed, AlertRepository(db), notifier, ADMINS)
    await db.close()
    assert await alerter.report(LLM_DOWN) is Outcome.FAILED
    assert await alerter.recovered(Kind.JOB_FAILED) == 0
    assert notifier.sent == []


def test_a_cause_comes_from_the_error() -> None:
    down = ProviderUnavailable("every provider failed", provider="chain", stage="script")
    assert Cause.of(Kind.JOB_FAILED, down) == LLM_DOWN
    timeout = Cause.of(Kind.FALLBACK, ProviderError("x", provider="elevenlabs"), stage="voice")
    assert timeout == Cause("fallback", "voice", "elevenlabs", "ProviderError")
    assert Cause.of(Kind.STARTUP, OSError("disk")) == Cause("startup", "", "", "OSError")
    assert LLM_DOWN.fingerprint == Cause.of(Kind.JOB_FAILED, down).fingerprint
    assert LLM_DOWN.fingerprint != timeout.fingerprint
