"""Admin alerts: one DM per cause, not one per failure.

A cause is fingerprinted by (kind, stage, provider, error class). Its first occurrence is sent
at once; while it repeats, at most one DM per ``repeat`` says how many times it happened since
the last one; when it stops (``recovered``: the same kind, stage and provider worked again, or
an explicit ``resolve``) that is said once. The state lives in SQLite (``storage.alerts``), so
a restart neither forgets a cause nor sends it again, and two processes send one DM.

DMs go through a ``Notifier`` that the running fronts implement, to every admin
(``telegram:<id>``, ``discord:<id>``). A DM never holds a configured secret (every SecretStr of
the settings is replaced, and key-shaped strings too) and at most ``USER_TEXT_PREVIEW``
characters of user text. Reporting never raises into the pipeline.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, SecretStr

from storage import AlertRecord, AlertRepository

from .errors import ProviderError, ReelError
from .settings import Settings

logger = logging.getLogger(__name__)

USER_TEXT_PREVIEW = 100
MESSAGE_LIMIT = 300
REDACTED = "[redacted]"
MIN_SECRET_CHARS = 6  # shorter "secrets" would redact ordinary words


class Kind(StrEnum):
    JOB_FAILED = "job_failed"
    FALLBACK = "fallback"  # a chain keeps falling through to its offline fallback
    DELIVERY = "delivery"
    DAILY = "daily"  # a daily run failed for a destination
    STARTUP = "startup"
    FRONT = "front"  # a front cannot connect
    MODEL_RETIRED = "model_retired"


TITLES = {
    Kind.JOB_FAILED: "a job failed",
    Kind.FALLBACK: "a provider keeps falling back",
    Kind.DELIVERY: "a delivery failed",
    Kind.DAILY: "a daily run failed",
    Kind.STARTUP: "start-up failed",
    Kind.FRONT: "a front cannot connect",
    Kind.MODEL_RETIRED: "a configured model is retired",
}


class Notifier(Protocol):
    """Sends one DM. ``admin`` is ``telegram:<user id>`` or ``discord:<user id>``; ``text`` is
    plain text (send it without markup: Telegram ``parse_mode=None``, Discord with mentions
    disabled). Raise when it cannot be delivered; the alerter logs it and moves on."""

    async def send(self, admin: str, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Cause:
    kind: str
    stage: str = ""
    provider: str = ""
    error: str = ""  # the exception's class name

    @property
    def fingerprint(self) -> str:
        parts = "\x1f".join((self.kind, self.stage, self.provider, self.error))
        return hashlib.sha256(parts.encode()).hexdigest()[:24]

    @classmethod
    def of(
        cls, kind: str, exc: BaseException, *, stage: str | None = None, provider: str | None = None
    ) -> Cause:
        """The cause of ``exc``: its stage and provider when it carries them."""
        if stage is None and isinstance(exc, ReelError):
            stage = exc.stage
        if provider is None and isinstance(exc, ProviderError):
            provider = exc.provider
        return cls(kind, stage or "", provider or "", type(exc).__name__)


class Outcome(StrEnum):
    SENT = "sent"
    MUTED = "muted"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # the alerter itself failed (logged); the pipeline goes on


# Key shapes worth redacting even when they are not this deployment's own.
_KEY_SHAPES = re.compile(
    r"AIza[0-9A-Za-z_\-]{30,}"  # Google API keys
    r"|gsk_[0-9A-Za-z]{20,}"  # Groq
    r"|sk_[0-9a-f]{32,}"  # ElevenLabs
    r"|\b\d{6,12}:[0-9A-Za-z_\-]{30,}"  # Telegram bot tokens
    r"|[MN][0-9A-Za-z_\-]{23,27}\.[0-9A-Za-z_\-]{6}\.[0-9A-Za-z_\-]{27,}"  # Discord bot tokens
    r"|(?i:bearer)\s+[0-9A-Za-z._~+/\-]{8,}=*"
)
_KEY_PARAMS = re.compile(
    r"(?i)([?&](?:key|api_key|apikey|token|access_token|signature|x-amz-signature|"
    r"x-amz-credential|x-amz-security-token)=)[^&\s]+"
)
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MENTIONS = re.compile(r"@(everyone|here)\b")


def secrets_of(settings: BaseModel) -> list[str]:
    """Every SecretStr value configured in ``settings``, its sections (``settings.telegram``)
    included."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            if secret := value.get_secret_value():  # an unset one is empty
                found.append(secret)
        elif isinstance(value, BaseModel):
            found += secrets_of(value)
    return found


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _KEY_SHAPES.sub(REDACTED, text)
        return _KEY_PARAMS.sub(lambda m: m.group(1) + REDACTED, text)


def shorten(text: str, limit: int) -> str:
    """One printable line of at most ``limit`` characters, mentions defused."""
    flat = " ".join(_UNPRINTABLE.sub(" ", text).split())
    flat = _MENTIONS.sub("@\u200b\\1", flat)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _describe(record: AlertRecord) -> list[str]:
    lines = []
    if record.stage:
        lines.append(f"Stage: {record.stage}")
    if record.provider:
        lines.append(f"Provider: {record.provider}")
    if record.error_class:
        lines.append(f"Error: {record.error_class}")
    return lines


def _title(kind: str) -> str:
    try:
        return TITLES[Kind(kind)]
    except ValueError:
        return kind.replace("_", " ")


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Alerter:
    def __init__(
        self,
        repo: AlertRepository,
        notifier: Notifier,
        admins: Sequence[str],
        *,
        repeat: timedelta = timedelta(minutes=60),
        secrets: Iterable[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.notifier = notifier
        self.admins = list(admins)
        self.repeat = repeat
        self.clock = clock
        self.scrub = Scrubber(secrets)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        repo: AlertRepository,
        notifier: Notifier,
        admins: Sequence[str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> Alerter:
        """``admins`` defaults to every admin of the settings (``settings.admin_owners``)."""
        return cls(
            repo,
            notifier,
            sorted(settings.admin_owners) if admins is None else admins,
            repeat=timedelta(minutes=settings.alert_repeat_minutes),
            secrets=secrets_of(settings),
            clock=clock or (lambda: datetime.now(UTC)),
        )

    async def report(
        self,
        cause: Cause,
        *,
        job_id: str | None = None,
        message: str = "",
        user_text: str | None = None,
    ) -> Outcome:
        """Count one occurrence of ``cause`` and DM the admins if one is due."""
        try:
            return await self._report(cause, job_id, message, user_text)
        except Exception:
            logger.exception("alerts: could not report %s", cause)
            return Outcome.FAILED

    async def _report(
        self, cause: Cause, job_id: str | None, message: str, user_text: str | None
    ) -> Outcome:
        now = self.clock()
        safe = shorten(self.scrub(message), MESSAGE_LIMIT)
        decision, record = await self.repo.occurred(
            cause.fingerprint,
            kind=cause.kind,
            stage=cause.stage,
            provider=cause.provider,
            error_class=cause.error,
            at=now,
            repeat_after=self.repeat,
            job_id=job_id,
            message=safe,
        )
        if decision == "muted":
            logger.info("alerts: %s muted (%d since the last DM)", cause, record.unsent)
            return Outcome.MUTED
        lines = [f"⚠️ Reel Factory: {_title(cause.kind)}"]
        if decision == "repeat":
            lines.append(
                f"Still happening: {record.batch} times since the last message, "
                f"{record.occurrences} since {_clock(record.first_seen)}."
            )
        if job_id:
            lines.append(f"Job: {job_id}")
        lines += _describe(record)
        if safe:
            lines.append(f"Message: {safe}")
        if user_text:
            preview = shorten(self.scrub(user_text), USER_TEXT_PREVIEW)
            lines.append(f"Text: {preview}")
        if await self._send("\n".join(lines)):
            await self.repo.log(cause.fingerprint, "sent", now)
            return Outcome.SENT
        await self.repo.undelivered(cause.fingerprint, record.batch, now)
        return Outcome.UNDELIVERED

    async def recovered(
        self, kind: str, *, stage: str | None = None, provider: str | None = None
    ) -> int:
        """The same kind of work succeeded (with this stage and provider, when given): every
        matching active cause has stopped. Says so once per cause; returns how many."""
        try:
            ended = await self.repo.resolve(self.clock(), kind=kind, stage=stage, provider=provider)
            for record in ended:
                await self._announce_recovery(record)
            return len(ended)
        except Exception:
            logger.exception("alerts: could not record a recovery of %s", kind)
            return 0

    async def resolve(self, cause: Cause) -> bool:
        """End ``cause`` explicitly (an admin fixed it); announced once like a recovery."""
        try:
            ended = await self.repo.resolve(self.clock(), fingerprint=cause.fingerprint)
            for record in ended:
                await self._announce_recovery(record)
            return bool(ended)
        except Exception:
            logger.exception("alerts: could not resolve %s", cause)
            return False

    async def _announce_recovery(self, record: AlertRecord) -> None:
        now = self.clock()
        await self.repo.log(record.fingerprint, "recovered", now)
        lines = [
            f"✅ Reel Factory: recovered: {_title(record.kind)}",
            f"It happened {record.occurrences} times from {_clock(record.first_seen)} "
            f"to {_clock(record.last_seen)}"
            + (f", {record.unsent} of them since the last message." if record.unsent else "."),
            *_describe(record),
        ]
        await self._send("\n".join(lines))

    async def _send(self, text: str) -> bool:
        """Send to every admin at once; True when at least one got it."""
        text = self.scrub(text)

        async def one(admin: str) -> bool:
            try:
                await self.notifier.send(admin, text)
            except Exception as exc:  # a front that is down must not stop the others
                logger.warning("alerts: DM to %s failed: %s", admin, type(exc).__name__)
                return False
            return True

        if not self.admins:
            logger.warning("alerts: no admin is configured; alert not sent:\n%s", text)
            return False
        results = await asyncio.gather(*(one(admin) for admin in self.admins))
        return any(results)
