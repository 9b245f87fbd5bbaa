"""Moderation before anything is spent: topics, the user's own scripts, scene edits, drafted
scripts and the daily run's trending topics are checked by a chain of moderators.

The chain is Groq's safety model (Llama Guard 4, else gpt-oss-safeguard), then Gemini's
safety feedback, then a small local list of clear cases, which never fails. A moderator that
cannot answer (429, 5xx, a timeout, an answer we cannot read) hands over to the next one, and
with none left the local list decides: an outage of the remote moderators must not stop every
reel (fail over, then open to the local list), and offline runs are still not wide open.

A verdict names Llama Guard's categories (S1-S14); only those in ``moderation_block`` are
refused, so admins choose (``REELFACTORY_MODERATION_BLOCK=S1,S2,...``). A refusal without a
category (``other``: Gemini's PROHIBITED_CONTENT, say) is always refused. Each refusal is a
``Refused`` error whose code names its category's locale key, and a row in storage for stats.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from storage import ModerationRepository

from .chain import attempt
from .errors import InputError, ProviderError
from .limits import utc_now
from .models import Script
from .ports import Moderator, Verdict

logger = logging.getLogger(__name__)

# Llama Guard 4's hazard taxonomy (MLCommons), as Groq's content-moderation page lists it.
CATEGORIES: dict[str, str] = {
    "S1": "violent crimes",
    "S2": "non-violent crimes",
    "S3": "sex-related crimes",
    "S4": "child sexual exploitation",
    "S5": "defamation",
    "S6": "specialized advice",
    "S7": "privacy",
    "S8": "intellectual property",
    "S9": "indiscriminate weapons",
    "S10": "hate",
    "S11": "suicide and self-harm",
    "S12": "sexual content",
    "S13": "elections",
    "S14": "code interpreter abuse",
}
OTHER = "other"
# What a moderator sees at most; a reel's script is far shorter.
MAX_CHARS = 8000
# Verdicts remembered per text: the daily run checks a trend, then ``make`` its topic again.
CACHED = 256

Kind = str  # topic | script | edit | draft | trend


class Refused(InputError):
    """The text falls under a refused category. ``code`` is ``moderation.<category>``, whose
    message names the category in plain words in the user's language."""

    code = "moderation.other"

    def __init__(self, category: str, *, kind: Kind, moderator: str) -> None:
        name = CATEGORIES.get(category, "unsafe content")
        super().__init__(
            f"the {kind} was refused by {moderator}: {category} ({name})",
            code=f"moderation.{category}",
            params={"category": category},
        )
        self.category = category
        self.kind = kind
        self.moderator = moderator


def parse_block(values: Sequence[str]) -> frozenset[str]:
    """``S1,s10, S11`` as a set of category codes; an unknown code is a ValueError."""
    codes = {value.strip().upper() for value in values if value.strip()}
    unknown = sorted(codes - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown moderation categories {unknown}; known: S1..S14")
    return frozenset(codes)


def topic_text(topic: str) -> str:
    """A topic as the request it is, so a moderator judges the video asked for."""
    return f"Make a short factual video about: {topic}"


def script_text(script: Script) -> str:
    """What a script would say and show: title, narration, image prompts, hashtags."""
    lines = [script.title]
    for scene in script.scenes:
        lines.append(scene.narration)
        if scene.image_prompt:
            lines.append(scene.image_prompt)
    lines.append(" ".join(script.hashtags))
    return "\n".join(line for line in lines if line)[:MAX_CHARS]


# --- the local list: clear cases only, each asking *how to do* the harm. Talking about a
# harm (the history of the atomic bomb, how vaccines work, a war) is never matched here.
_HOW = (
    r"(?:how (?:to|do (?:i|you)|can (?:i|you))|ways? to|steps? to|instructions? (?:for|to)"
    r"|guide to|tutorial)"
)
_MAKE = r"(?:make|build|assemble|synthesi[sz]e|cook|produce|brew)"
_LOCAL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "S9",
        re.compile(
            rf"\b{_HOW}\b.{{0,30}}\b{_MAKE}\b.{{0,30}}\b(?:(?:pipe |nail |car |dirty )?bombs?|"
            r"explosives?|ied|napalm|sarin|ricin|anthrax|nerve (?:agent|gas)|chemical weapons?|"
            r"bioweapons?)\b"
        ),
    ),
    ("S9", re.compile(r"\bкак (?:сделать|изготовить|собрать) (?:бомбу|взрывчатку)")),
    ("S9", re.compile(r"\bc[oó]mo (?:hacer|fabricar|construir) (?:una bomba|explosivos)")),
    (
        "S2",
        re.compile(
            rf"\b{_HOW}\b.{{0,30}}\b{_MAKE}\b.{{0,20}}\b(?:meth|methamphetamine|fentanyl)\b"
        ),
    ),
    (
        "S1",
        re.compile(
            rf"\b{_HOW}\b.{{0,20}}\b(?:kill|murder|poison|stab)\b.{{0,10}}\b"
            r"(?:someone|somebody|a person|people|my (?:wife|husband|neighbou?r|boss|mother|"
            r"father|teacher))\b"
        ),
    ),
    (
        "S11",
        re.compile(
            rf"(?:\b{_HOW}\b|\bbest way to|\bmethods? (?:of|for|to))\s*"
            r"(?:kill myself|commit suicide|end my (?:own )?life|hurt myself|self[- ]harm)\b"
        ),
    ),
    (
        "S4",
        re.compile(
            r"\b(?:child (?:porn\w*|sexual abuse material)|csam|sex(?:ual)? with "
            r"(?:a )?(?:minors?|children|a child|kids)|underage (?:sex|porn\w*|nudes?))\b"
        ),
    ),
)


class LocalModerator:
    """The offline last resort: a few patterns for clear requests to do harm. Never fails."""

    name = "local"

    async def check(self, text: str) -> Verdict:
        lowered = " ".join(text.casefold().split())
        found = tuple(dict.fromkeys(code for code, rule in _LOCAL_RULES if rule.search(lowered)))
        return Verdict(safe=not found, categories=found, moderator=self.name)


class Moderation:
    """The chain and the rule: which verdicts are refusals, and their record."""

    def __init__(
        self,
        moderators: Sequence[Moderator],
        *,
        block: Sequence[str],
        refusals: ModerationRepository | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.moderators: list[Moderator] = [*moderators, LocalModerator()]
        self.block = parse_block(block)
        self.refusals = refusals
        self.clock = clock
        self._seen: OrderedDict[str, Verdict] = OrderedDict()

    async def verdict(self, text: str) -> Verdict:
        """The first moderator's answer that came; the local list's when none did. Remote
        answers are remembered (the local list's are not: a remote one may answer later)."""
        text = text[:MAX_CHARS]
        if (known := self._seen.get(text)) is not None:
            self._seen.move_to_end(text)
            return known
        for moderator in self.moderators[:-1]:
            try:
                verdict, _ = await attempt(moderator, partial(moderator.check, text))
            except ProviderError as exc:
                logger.warning("moderation: %s failed, trying the next: %s", moderator.name, exc)
                continue
            self._seen[text] = verdict
            if len(self._seen) > CACHED:
                self._seen.popitem(last=False)
            return verdict
        return await self.moderators[-1].check(text)

    async def check(
        self, text: str, *, kind: Kind, owner: str | None = None, job_id: str | None = None
    ) -> None:
        """Return if ``text`` may be made into a reel; else record and raise ``Refused``."""
        verdict = await self.verdict(text)
        if verdict.safe:
            return
        flagged = verdict.categories or (OTHER,)
        refused = [c for c in flagged if c in self.block or c not in CATEGORIES]
        if not refused:
            logger.info(
                "moderation: %s flagged a %s as %s, not refused here",
                verdict.moderator,
                kind,
                ",".join(flagged),
            )
            return
        category = refused[0] if refused[0] in CATEGORIES else OTHER
        logger.warning(
            "moderation: %s refused a %s of %s (%s)", verdict.moderator, kind, owner, category
        )
        if self.refusals is not None:
            await self.refusals.record(
                at=self.clock(),
                kind=kind,
                category=category,
                moderator=verdict.moderator,
                owner_id=owner,
                job_id=job_id,
            )
        raise Refused(category, kind=kind, moderator=verdict.moderator)

    async def refusals_since(self, since: datetime) -> dict[str, int]:
        """Refusals per category from ``since`` on (for admins' stats)."""
        return await self.refusals.counts_since(since) if self.refusals is not None else {}

    async def check_topic(self, topic: str, *, owner: str | None = None) -> None:
        await self.check(topic_text(topic), kind="topic", owner=owner)

    async def check_script(
        self, script: Script, *, kind: Kind, owner: str | None = None, job_id: str | None = None
    ) -> None:
        await self.check(script_text(script), kind=kind, owner=owner, job_id=job_id)


__all__ = [
    "CATEGORIES",
    "OTHER",
    "LocalModerator",
    "Moderation",
    "Refused",
    "parse_block",
    "script_text",
    "topic_text",
]
