"""What both fronts say about YouTube: the code to enter, the outcome of linking, the privacy
choices, the posted link, and the AI line a reel's description ends with (in the reel's own
language, since the description is for its viewers, not for the chat)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from locales import Translator, translator
from pipeline.adapters.youtube import DeviceCode
from pipeline.delivery import Post
from pipeline.errors import NotSent, ReelError
from pipeline.studio import JobRecord, Studio
from pipeline.youtube import PRIVACY, Linked, Posted

from .presenters import HTML, Markup, error_text

ASK = "ask"  # the button under a reel: asks for the privacy first
SERVICES = ("youtube",)

Say = Callable[[str], Awaitable[None]]


_URL = "URLHERE"  # survives every markup's escaping, then becomes the bare link


def _with_link(text: str, url: str, m: Markup) -> str:
    """``text`` escaped for ``m``, its link left bare so that the client makes it clickable
    (an escaped ``https\\://`` is not)."""
    return m.escape(text).replace(_URL, HTML.escape(url) if m is HTML else url)


def connect_text(device: DeviceCode, t: Translator, m: Markup) -> str:
    text = t(
        "youtube.connect",
        url=_URL,
        code=device.user_code,
        minutes=max(1, round(device.expires_in / 60)),
    )
    return _with_link(text, device.verification_url, m)


def outcome_text(outcome: Linked | ReelError, t: Translator) -> str:
    if isinstance(outcome, Linked):
        return t("youtube.linked", channel=outcome.channel_title or "YouTube")
    return error_text(outcome, t)


def privacy_label(privacy: str, t: Translator) -> str:
    return t(f"youtube.privacy.{privacy}")


def privacy_options(current: str, t: Translator) -> list[tuple[str, str]]:
    """(privacy, label) for each choice, the current one ticked."""
    return [
        (p, f"✓ {privacy_label(p, t)}" if p == current else privacy_label(p, t)) for p in PRIVACY
    ]


def posted_text(posted: Posted, t: Translator, m: Markup) -> str:
    if not posted.fresh:
        return _with_link(t("youtube.already", url=_URL), posted.url, m)
    label = privacy_label(posted.privacy, t).split(" ", 1)[-1]
    return _with_link(t("youtube.posted", privacy=label, url=_URL), posted.url, m)


def disclosure_for(studio: Studio, job: JobRecord) -> str | None:
    """The AI line of the caption, in the reel's language; None when it is switched off."""
    if not studio.settings.ai_disclosure:
        return None
    return translator(job.language)("reel.ai_disclosure")


def told(say: Say, t: Translator) -> Callable[[Linked | ReelError], Awaitable[None]]:
    """The studio's callback once linking ends: the outcome, said to the user."""

    async def tell(outcome: Linked | ReelError) -> None:
        await say(outcome_text(outcome, t))

    return tell


def youtube_poster(studio: Studio) -> Callable[[str, Post], Awaitable[None]]:
    """Posts a daily reel to the channel ``owner`` linked (destination ``youtube:<owner>``),
    captioned in the reel's language with its credit line. Its own record (one post per job
    and channel, with the resumable session) keeps it at most once, so any failure is
    ``NotSent``: the next run may try again and finishes an upload cut short."""

    async def post_to(owner: str, post: Post) -> None:
        job = post.job
        credit = str((await studio.destination(job.id)).get("credit") or "") or None
        try:
            await studio.upload_to_youtube(
                job,
                post.published.reel,
                owner,
                disclosure=disclosure_for(studio, job),
                credit=credit,
            )
        except ReelError as exc:
            raise NotSent(f"not on the YouTube channel of {owner}: {exc}") from exc

    return post_to


__all__ = [
    "ASK",
    "SERVICES",
    "connect_text",
    "disclosure_for",
    "outcome_text",
    "posted_text",
    "privacy_options",
    "told",
    "youtube_poster",
]
