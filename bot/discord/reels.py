"""The Discord side of making a reel (``bot.productions.ReelFront``): the progress message,
telling the channel, and posting the reel in the form the pipeline chose.

While the Render press's interaction token lives (15 minutes) messages go out as its
followups, which need no channel permission; after that, or after a restart, through the
channel itself. The requester is mentioned on delivery, and nobody else is ever pinged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord

from bot.presenters import MARKDOWN, Markup, reel_caption, reel_note
from bot.progress import Edit
from locales import Translator
from pipeline.delivery import Deliverer, Post, PostForm
from pipeline.errors import NotSent
from pipeline.studio import JobRecord, Studio, dub_languages

from .texts import CONTENT_LIMIT, discord_translator
from .views import dubs_view

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 10 * 1024 * 1024  # discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
TOKEN_GONE = {10015, 50027}  # unknown webhook, invalid webhook token
CAPTION_LIMIT = 1500  # of the 2000: room for the mention and a note


class DiscordReels:
    markup: Markup = MARKDOWN

    def __init__(self, client: discord.Client, studio: Studio) -> None:
        self.client = client
        self.studio = studio
        self._interactions: dict[str, discord.Interaction] = {}

    def remember(self, job_id: str, interaction: discord.Interaction) -> None:
        self._interactions[job_id] = interaction

    def _interaction(self, job: JobRecord) -> discord.Interaction | None:
        interaction = self._interactions.get(job.id)
        return interaction if interaction is not None and not interaction.is_expired() else None

    async def _send(
        self,
        job: JobRecord,
        content: str,
        *,
        file: Callable[[], discord.File] | None = None,
        mentions: discord.AllowedMentions | None = None,
        view: discord.ui.View | None = None,
        reply_to: int | None = None,
    ) -> discord.Message:
        """Through the interaction while its token lives, else through the channel (always
        for a reply: a followup cannot reply to a message)."""
        mentions = mentions or discord.AllowedMentions.none()
        content = content[:CONTENT_LIMIT]
        interaction = self._interaction(job) if reply_to is None else None
        extra: dict[str, Any] = {} if view is None else {"view": view}
        if interaction is not None:
            try:
                if file is None:
                    return await interaction.followup.send(
                        content, allowed_mentions=mentions, wait=True, **extra
                    )
                return await interaction.followup.send(
                    content, file=file(), allowed_mentions=mentions, wait=True, **extra
                )
            except discord.HTTPException as exc:
                if exc.code not in TOKEN_GONE and exc.status != 401:
                    raise
                logger.info("job %s: interaction token gone; posting to the channel", job.id)
                self._interactions.pop(job.id, None)
        if job.chat_id is None:
            raise NotSent(f"job {job.id} has no channel")
        channel = self.client.get_partial_messageable(int(job.chat_id))
        if reply_to is not None:
            extra["reference"] = discord.MessageReference(
                message_id=reply_to, channel_id=channel.id, fail_if_not_exists=False
            )
        if file is None:
            return await channel.send(content, allowed_mentions=mentions, **extra)
        return await channel.send(content, file=file(), allowed_mentions=mentions, **extra)

    async def open_progress(self, job: JobRecord, text: str) -> Edit | None:
        try:
            message = await self._send(job, text)
        except (discord.HTTPException, NotSent) as exc:
            logger.warning("job %s: no progress message: %s", job.id, exc)
            return None

        async def edit(new_text: str) -> None:
            try:
                await message.edit(content=new_text[:CONTENT_LIMIT])
            except discord.HTTPException as exc:
                logger.warning("progress edit failed: %s", exc)

        return edit

    async def tell(self, job: JobRecord, text: str) -> None:
        try:
            await self._send(job, text)
        except (discord.HTTPException, NotSent) as exc:
            logger.warning("could not tell channel %s about job %s: %s", job.chat_id, job.id, exc)

    def deliverer(self, t: Translator) -> Deliverer:
        async def deliver(post: Post) -> None:
            await self.post(post, t)

        return deliver

    async def resumed(self, post: Post) -> None:
        job = post.job
        ui = (await self.studio.preferences(job.owner_id)).ui_language if job.owner_id else None
        await self.post(post, discord_translator(ui, job.language))

    async def _limit(self, job: JobRecord) -> int:
        interaction = self._interaction(job)
        if interaction is not None:
            return interaction.filesize_limit
        noted = (await self.studio.destination(job.id)).get("limit")
        return noted if isinstance(noted, int) and noted > 0 else DEFAULT_LIMIT

    async def post_to(self, channel_id: str, post: Post) -> None:
        """Post to the channel ``channel_id`` rather than the job's own, mentioning nobody,
        captioned in the reel's language with its credit line (the daily reels). The file
        when it fits the channel's limit (known once the gateway has sent the guild), else
        the link."""
        job, published = post.job, post.published
        channel = self.client.get_channel(int(channel_id))
        guild = getattr(channel, "guild", None)
        limit = guild.filesize_limit if guild is not None else DEFAULT_LIMIT
        form = post.form(limit)
        t = discord_translator(None, job.language)
        credit = str((await self.studio.destination(job.id)).get("credit") or "")
        credits = "\n".join(line for line in (published.credit, credit) if line)
        caption = reel_caption(
            self.studio.script_of(job),
            published.url,
            t,
            MARKDOWN,
            limit=CAPTION_LIMIT,
            credit=credits or None,
            disclosure=self.studio.settings.ai_disclosure,
        )
        target = self.client.get_partial_messageable(int(channel_id))
        mentions = discord.AllowedMentions.none()
        try:
            if form is PostForm.VIDEO:
                file = discord.File(published.reel, filename="reel.mp4")
                await target.send(caption, file=file, allowed_mentions=mentions)
            else:
                note = MARKDOWN.escape(reel_note(form, published, limit, t))
                await target.send(f"{note}\n\n{caption}"[:CONTENT_LIMIT], allowed_mentions=mentions)
        except discord.DiscordServerError:
            raise  # the post may have gone out: the outcome is unknown
        except discord.HTTPException as exc:
            raise NotSent(f"the platform refused the reel: {exc}") from exc
        logger.info("job %s: reel posted to channel %s (%s)", job.id, channel_id, form)

    async def post(self, post: Post, t: Translator) -> None:
        """In the job's channel, mentioning its requester: an original with its "Also in …"
        select, a dub as a reply to its original, captioned as dubbed."""
        job, published = post.job, post.published
        limit = await self._limit(job)
        form = post.form(limit)
        dub = await self.studio.dub_of(job.id)
        noted = (await self.studio.destination(job.id)).get("reply_to")
        reply_to = noted if dub is not None and isinstance(noted, int) else None
        view = (
            None
            if dub is not None
            else dubs_view(job.id, dub_languages(job), t, youtube=self.studio.youtube_ready)
        )
        caption = reel_caption(
            self.studio.script_of(job),
            published.url,
            t,
            MARKDOWN,
            limit=CAPTION_LIMIT,
            credit=published.credit,
            dubbed_from=dub.source if dub is not None else None,
            disclosure=self.studio.settings.ai_disclosure,
        )
        requester = _user_id(job.owner_id)
        mention = f"<@{requester}>\n" if requester else ""
        mentions = discord.AllowedMentions(
            everyone=False,
            roles=False,
            replied_user=False,
            users=[discord.Object(requester)] if requester else False,
        )
        try:
            if form is PostForm.VIDEO:
                sent = await self._send(
                    job,
                    mention + caption,
                    file=lambda: discord.File(published.reel, filename="reel.mp4"),
                    mentions=mentions,
                    view=view,
                    reply_to=reply_to,
                )
            else:
                note = MARKDOWN.escape(reel_note(form, published, limit, t))
                sent = await self._send(
                    job,
                    f"{mention}{note}\n\n{caption}",
                    mentions=mentions,
                    view=view,
                    reply_to=reply_to,
                )
        except discord.DiscordServerError:
            raise  # the post may have gone out: the outcome is unknown
        except discord.HTTPException as exc:
            raise NotSent(f"the platform refused the reel: {exc}") from exc
        finally:
            self._interactions.pop(job.id, None)
        await self.studio.note_destination(job.id, message=sent.id)
        logger.info("job %s: reel posted to channel %s (%s)", job.id, job.chat_id, form)


def _user_id(owner: str | None) -> int | None:
    platform, _, user_id = (owner or "").partition(":")
    return int(user_id) if platform == "discord" and user_id.isdigit() else None
