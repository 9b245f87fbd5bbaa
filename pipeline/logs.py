"""One logging setup for every entry point (``reelfactory ...``, ``python -m bot``).

Short commands log warnings only, so their own output stays readable; the long-running
``serve`` logs at INFO. Libraries that log a line per request or per update are held at
WARNING either way: httpx logs whole URLs (users' media URLs may carry tokens), aiogram one
line per update, discord.py every gateway event.

Text lines are the default; ``REELFACTORY_LOG_FORMAT=json`` writes one JSON object a line
(python-json-logger) for a log collector. Every line logged inside ``job_context(...)`` carries
that job's id, stage and front (``job_id``, ``stage``, ``front`` in JSON; ``[job=… stage=…
front=…]`` in text), through context variables, so they follow the job into the tasks it
starts. A ``scrub`` function (``pipeline.alerts.Scrubber``) is applied to every formatted line,
tracebacks included, so configured secrets never reach the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "FIELDS",
    "FORMAT",
    "QUIET",
    "ContextFilter",
    "LogFormat",
    "current_context",
    "formatter",
    "job_context",
    "setup_logging",
    "setup_logging_for",
]

FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"
QUIET = ("httpx", "aiogram.event", "discord.gateway", "discord.client", "discord.http")
FIELDS = ("job_id", "stage", "front")
LogFormat = Literal["text", "json"]
Scrub = Callable[[str], str]

_vars: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"reelfactory_{name}", default=None) for name in FIELDS
}


@contextmanager
def job_context(
    *, job_id: str | None = None, stage: str | None = None, front: str | None = None
) -> Iterator[None]:
    """Tag every log line inside the block (and in tasks started from it) with the values
    given; ``None`` keeps the outer value. Nestable: a stage inside a job keeps the job id."""
    values = {"job_id": job_id, "stage": stage, "front": front}
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for name, value in values.items():
        if value is not None:
            var = _vars[name]
            tokens.append((var, var.set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, str]:
    """The job id, stage and front set here, without the unset ones."""
    return {name: value for name, var in _vars.items() if (value := var.get()) is not None}


class ContextFilter(logging.Filter):
    """Copies the job context onto each record (``record.job_id`` …) and a text rendering of
    it (``record.context``); never drops a record. Install it on a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        for name, value in context.items():
            setattr(record, name, value)
        names = {"job_id": "job"}
        record.context = (
            " [" + " ".join(f"{names.get(k, k)}={v}" for k, v in context.items()) + "]"
            if context
            else ""
        )
        return True


class _TextFormatter(logging.Formatter):
    def __init__(self, scrub: Scrub | None) -> None:
        super().__init__(FORMAT, defaults={"context": ""})
        self._scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return self._scrub(text) if self._scrub is not None else text


class _JsonFormatter(JsonFormatter):
    def __init__(self, scrub: Scrub | None) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*_RESERVED, "context"],
        )
        self._scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return self._scrub(text) if self._scrub is not None else text


_RESERVED = [
    "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname",
    "levelno", "lineno", "module", "msecs", "message", "msg", "name", "pathname", "process",
    "processName", "relativeCreated", "stack_info", "thread", "threadName", "taskName",
]  # fmt: skip


def formatter(fmt: LogFormat = "text", scrub: Scrub | None = None) -> logging.Formatter:
    return _JsonFormatter(scrub) if fmt == "json" else _TextFormatter(scrub)


class _Handler(logging.StreamHandler[TextIO]):
    """Ours, so a second ``setup_logging`` reconfigures it instead of adding another."""


def setup_logging(
    level: int = logging.WARNING, *, fmt: LogFormat = "text", scrub: Scrub | None = None
) -> None:
    """Configure the root logger: ``fmt`` text or json, ``scrub`` applied to every line.
    A root logger that already has someone else's handlers (pytest's) is left as it is,
    apart from its level."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _Handler)]
    if ours or not root.handlers:
        handler = ours[0] if ours else _Handler()
        handler.setFormatter(formatter(fmt, scrub))
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        if not ours:
            root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def setup_logging_for(settings: Settings, level: int = logging.WARNING) -> None:
    """``setup_logging`` in the settings' format, scrubbing every secret they hold."""
    from .alerts import Scrubber, secrets_of

    setup_logging(level, fmt=settings.log_format, scrub=Scrubber(secrets_of(settings)))
