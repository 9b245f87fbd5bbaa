"""Chat-agnostic text for results and errors, through the locale catalogs.

Fronts differ only in markup: Telegram speaks HTML, Discord Markdown. Every function takes a
``Markup`` that escapes user text and wraps it, so one layout serves both and user text is
never interpreted as markup.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from locales import ENDONYMS, Translator
from pipeline.delivery import PostForm, Published
from pipeline.errors import ReelError
from pipeline.models import ProgressEvent, Script
from pipeline.studio import Stats

logger = logging.getLogger(__name__)

ELLIPSIS = "…"


class Markup(Protocol):
    def escape(self, text: str) -> str: ...

    def bold(self, text: str) -> str: ...

    def italic(self, text: str) -> str: ...

    def link(self, label: str, url: str) -> str: ...


class HtmlMarkup:
    """Telegram's HTML parse mode: escape ``<``, ``>``, ``&`` (and quotes in attributes)."""

    def escape(self, text: str) -> str:
        return html.escape(text, quote=False)

    def bold(self, text: str) -> str:
        return f"<b>{html.escape(text, quote=False)}</b>"

    def italic(self, text: str) -> str:
        return f"<i>{html.escape(text, quote=False)}</i>"

    def link(self, label: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(label, quote=False)}</a>'


HTML = HtmlMarkup()


class MarkdownMarkup:
    """Discord's Markdown: user text shows as typed, never as formatting, links, headings,
    lists, code or mentions. Every character Markdown gives a meaning is backslash-escaped
    (Discord shows ``\\*`` as ``*``); ``@everyone``, ``@here`` and ``<@id>``/``<@&id>``/
    ``<#id>`` are broken with a zero-width space or an escaped ``<``, so they show as text even
    where a client would highlight them. (Pings are off anyway: AllowedMentions.none().)"""

    SPECIAL = frozenset("\\*_~`|>#-[]()<:!.+=")

    def escape(self, text: str) -> str:
        escaped = "".join(f"\\{c}" if c in self.SPECIAL else c for c in text)
        # @everyone / @here: a zero-width joiner after the @ keeps them from being mentions.
        return escaped.replace("@everyone", "@\u200beveryone").replace("@here", "@\u200bhere")

    def bold(self, text: str) -> str:
        return f"**{self.escape(text)}**"

    def italic(self, text: str) -> str:
        return f"*{self.escape(text)}*"

    def link(self, label: str, url: str) -> str:
        # <...> around the URL: no embed preview; spaces, ')' and '>' would end it early.
        safe = url.replace(" ", "%20").replace(")", "%29").replace(">", "%3E")
        return f"[{self.escape(label)}](<{safe}>)"


MARKDOWN = MarkdownMarkup()


# --- errors -----------------------------------------------------------------------------


def format_moment(moment: datetime, now: datetime | None = None) -> str:
    """Times are told in UTC; the date only when it is not today."""
    moment = moment.astimezone(UTC)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    if moment.date() == today:
        return f"{moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def error_key(exc: BaseException, t: Translator) -> str:
    """The most specific message the catalogs have for ``exc``."""
    if isinstance(exc, ReelError) and t.has(exc.code):
        return exc.code
    for cls in type(exc).__mro__:
        code = cls.__dict__.get("code")
        if isinstance(code, str) and t.has(code):
            return code
    return "error.internal"


def error_text(exc: BaseException, t: Translator) -> str:
    """Plain text (a front escapes it) explaining ``exc`` in the user's language."""
    params: dict[str, object] = {}
    if isinstance(exc, ReelError):
        for name, value in exc.params.items():
            params[name] = format_moment(value) if isinstance(value, datetime) else value
    return t(error_key(exc, t), **params)


# --- scripts ----------------------------------------------------------------------------


def script_text(script: Script, t: Translator, m: Markup, *, limit: int = 4096) -> str:
    """Title, numbered scenes, hashtags, sources and what to do next, within ``limit``."""
    head = m.bold(script.title)
    tail_parts = []
    if script.hashtags:
        tail_parts.append(m.escape(" ".join(script.hashtags)))
    if script.sources:
        links = ", ".join(m.link(_domain(url), url) for url in script.sources[:5])
        tail_parts.append(t("script.sources") + " " + links)
    tail_parts.append(m.italic(t("script.review_hint")))
    tail = "\n\n".join(tail_parts)
    narrations = [scene.narration for scene in script.scenes]
    budget = limit - len(head) - len(tail) - 64
    scenes = _scene_lines(narrations, m, budget)
    if len(scenes) > budget:
        # Long own scripts: each scene shortened on screen; the job keeps the full text.
        scenes = _scene_lines(narrations, m, budget, shorten=True)
    return f"{head}\n\n{scenes}\n\n{tail}"


def _scene_lines(narrations: list[str], m: Markup, budget: int, *, shorten: bool = False) -> str:
    each = max(40, budget // max(len(narrations), 1) - 12)
    lines = []
    for number, narration in enumerate(narrations, start=1):
        if shorten and len(narration) > each:
            narration = narration[: each - 1].rstrip() + ELLIPSIS
        lines.append(f"{m.bold(f'{number}.')} {m.escape(narration)}")
    return "\n".join(lines)


def _domain(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def sheet_caption(script: Script, t: Translator, m: Markup) -> str:
    # Cut the title, never the markup: a caption is at most 1024 characters.
    return f"{m.bold(script.title[:300])}\n\n{m.escape(t('sheet.hint'))}"


MB = 1024 * 1024


def reel_note(form: PostForm, published: Published, limit: int, t: Translator) -> str:
    """Plain text that goes before the caption when the link is sent instead of the video."""
    if form is PostForm.RESENT:
        return t("reel.resent")
    return t("reel.too_big", size=round(published.bytes / MB), limit=round(limit / MB))


def reel_caption(
    script: Script,
    url: str | None,
    t: Translator,
    m: Markup,
    *,
    limit: int = 1024,
    credit: str | None = None,
    dubbed_from: str | None = None,
    disclosure: bool = True,
) -> str:
    """Title, hashtags, the credits (the user's music track, the trend source; for a dub its
    language and that it was dubbed, ``dubbed_from`` being the original's language), the link
    and, last, the line saying AI made the reel (``disclosure``, the ``ai_disclosure``
    setting), within ``limit`` characters of visible text; the title and hashtags give way
    first, the link and the AI line never."""
    link = m.link(t("reel.link"), url) if url else ""
    title, tags = script.title, " ".join(script.hashtags)
    credit = credit[:300] if credit else None
    if dubbed_from is not None:
        dub_line = t(
            "reel.dubbed",
            language=ENDONYMS.get(script.language, script.language),
            source=ENDONYMS.get(dubbed_from, dubbed_from),
        )
        credit = f"{dub_line}\n{credit}" if credit else dub_line
    notice = t("reel.ai_disclosure") if disclosure else ""
    visible = (
        (len(t("reel.link")) if url else 0)
        + (len(credit) + 2 if credit else 0)
        + (len(notice) + 2 if notice else 0)
    )
    room = limit - visible - 4
    if len(title) + len(tags) > room:
        tags = tags[: max(0, room - len(title) - 1)].rsplit(" ", 1)[0] if tags else ""
        title = title[: max(1, room - len(tags) - 1)]
    parts = [m.bold(title)]
    if tags:
        parts.append(m.escape(tags))
    if credit:
        parts.append(m.escape(credit))
    if link:
        parts.append(link)
    if notice:
        parts.append(m.escape(notice))
    return "\n\n".join(parts)


# --- progress ---------------------------------------------------------------------------

PROGRESS_STEPS = ("voice", "subtitles", "render", "upload")


@dataclass(slots=True)
class ProgressBoard:
    """What the render has done so far, fed with the runner's events."""

    position: int | None = None
    eta: float | None = None  # seconds until the render starts, estimated
    current: str | None = None
    fraction: float | None = None
    done: set[str] = field(default_factory=set)
    finished: bool = False

    def update(self, event: ProgressEvent) -> None:
        if event.stage == "queued":
            self.position, self.eta = event.position, event.eta
            return
        if event.stage == "done":
            self.finished = True
            self.done.update(PROGRESS_STEPS)
            return
        if event.stage not in PROGRESS_STEPS:
            return
        self.position = None
        index = PROGRESS_STEPS.index(event.stage)
        self.done.update(PROGRESS_STEPS[:index])
        if event.fraction is not None and event.fraction >= 1.0:
            self.done.add(event.stage)
        self.current, self.fraction = event.stage, event.fraction

    def text(self, t: Translator, m: Markup) -> str:
        lines = [m.bold(t("progress.title"))]
        if self.position:
            lines.append(m.escape(_queued_text(t, self.position, self.eta)))
        for step in PROGRESS_STEPS:
            if step in self.done:
                lines.append("✅ " + m.escape(t(f"progress.{step}")))
            elif step == self.current:
                label = t(f"progress.{step}")
                if step in ("render", "upload"):
                    label += f" {round((self.fraction or 0) * 100)}%"
                lines.append("⏳ " + m.escape(label))
            else:
                lines.append("▫️ " + m.escape(t(f"progress.{step}")))
        if self.finished:
            lines.append(m.escape(t("progress.done")))
        return "\n".join(lines)


LONG_WAIT = 300.0  # s: a wait this long is said in words, not only in the queue line


def _queued_text(t: Translator, position: int, eta: float | None) -> str:
    if eta is None:
        return t("progress.queued", position=position)
    minutes = max(1, math.ceil(eta / 60))
    text = t("progress.queued_eta", position=position, minutes=minutes)
    if eta >= LONG_WAIT:
        text += "\n" + t("progress.long_wait", minutes=minutes)
    return text


# --- admins -----------------------------------------------------------------------------


def stats_text(stats: Stats, t: Translator, m: Markup) -> str:
    lines = [m.bold(t("stats.title", date=f"{stats.since:%Y-%m-%d}"))]
    lines.append(m.escape(t("stats.jobs", count=stats.jobs)))
    if stats.by_state:
        states = ", ".join(f"{state} {count}" for state, count in sorted(stats.by_state.items()))
        lines.append(m.escape(t("stats.states", states=states)))
    if stats.success_rate is None:
        lines.append(m.escape(t("stats.success_none")))
    else:
        lines.append(m.escape(t("stats.success", rate=f"{stats.success_rate:.0%}")))
    if not stats.stages:
        lines.append(m.escape(t("stats.no_stages")))
    for figures in stats.stages:
        lines.append(
            m.escape(
                t(
                    "stats.stage",
                    stage=figures.stage,
                    p50=f"{figures.p50:.2f}",
                    p95=f"{figures.p95:.2f}",
                    runs=figures.runs,
                )
            )
        )
    return "\n".join(lines)
