"""/reel and everything its messages' buttons, selects and modal do: drafting, the script
review (approve, edit, rewrite, cancel), the image review (swap, render, cancel).

Every press is checked by the studio first (owner, step, busy), so a refusal is one quick
ephemeral answer and the owner's message stays as it was; only then is the press deferred
and the slow work done, the result replacing the message in place.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.presenters import MARKDOWN, script_text, sheet_caption
from locales import ENDONYMS, Translator
from pipeline.errors import BadButton, InputError
from pipeline.studio import MAX_SCENE_CHARS, Studio, message_key

from ..texts import CONTENT_LIMIT, FRONT, owner_of, refuse, reply, user_translator
from ..views import script_review, sheet_review

if TYPE_CHECKING:
    from ..client import ReelBot

logger = logging.getLogger(__name__)

MODAL_TITLE = 45
TEXT_INPUT = 4000  # Discord's most; the studio refuses more than a scene allows, clearly
NONE = discord.AllowedMentions.none()


class EditScene(discord.ui.Modal):
    def __init__(self, cog: Review, job: str, scene: int, current: str, t: Translator) -> None:
        super().__init__(title=t("edit.modal_title", scene=scene)[:MODAL_TITLE], timeout=900)
        self.cog, self.job, self.scene, self.t = cog, job, scene, t
        self.text: discord.ui.TextInput[EditScene] = discord.ui.TextInput(
            label=t("edit.label", limit=MAX_SCENE_CHARS)[:45],
            style=discord.TextStyle.long,
            default=current[:TEXT_INPUT],
            max_length=TEXT_INPUT,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.edited(interaction, self.job, self.scene, self.text.value, self.t)


class Review(commands.Cog):
    def __init__(self, bot: ReelBot) -> None:
        self.bot = bot
        self.studio: Studio = bot.studio

    # --- starting a job --------------------------------------------------------------

    @app_commands.command(name="reel", description="Make a short vertical video with subtitles")
    @app_commands.describe(
        topic="What the reel is about",
        script="Your own narration instead: one paragraph per scene",
        music="Your own track under the voice (MP3, M4A, WAV, OGG, FLAC)",
    )
    async def reel(
        self,
        interaction: discord.Interaction,
        topic: str | None = None,
        script: str | None = None,
        music: discord.Attachment | None = None,
    ) -> None:
        t = await user_translator(self.studio, interaction)
        if not (topic or script):
            await reply(interaction, MARKDOWN.escape(t("draft.ask_topic")))
            return
        owner, chat = owner_of(interaction.user), str(interaction.channel_id)
        key = message_key(FRONT, chat, interaction.id)
        await interaction.response.defer(thinking=True)
        try:
            if script:
                started = await self.studio.own_script(owner, script, key, chat_id=chat)
            else:
                assert topic is not None
                started = await self.studio.draft(owner, topic, key, chat_id=chat)
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        job = started.job
        view = script_review(
            job.id, len(self.studio.script_of(job).scenes), t, can_rewrite=self.studio.has_writer
        )
        text = script_text(self.studio.script_of(job), t, MARKDOWN, limit=CONTENT_LIMIT)
        await interaction.followup.send(text, view=view, allowed_mentions=NONE)
        if music is not None and started.fresh:
            await self._own_track(interaction, job.id, music, t)

    async def _own_track(
        self,
        interaction: discord.Interaction,
        job_id: str,
        music: discord.Attachment,
        t: Translator,
    ) -> None:
        try:
            limit = self.studio.settings.fetch_max_bytes
            if music.size > limit:
                raise InputError(
                    f"track of {music.size} bytes",
                    code="error.music_file",
                    params={"limit": limit >> 20},
                )
            owner = owner_of(interaction.user)
            await self.studio.set_music(owner, job_id, music.filename, await music.read())
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        await reply(interaction, MARKDOWN.escape(t("music.set", name=music.filename)))

    # --- presses ---------------------------------------------------------------------

    async def press(self, interaction: discord.Interaction, action: str, job: str) -> None:
        t = await user_translator(self.studio, interaction)
        handlers = {
            "approve": self._approve,
            "rewrite": self._rewrite,
            "cancel": self._cancel,
            "render": self._render,
        }
        try:
            handler = handlers.get(action)
            if handler is None:
                raise BadButton(f"no button {action!r}")
            await handler(interaction, job, t)
        except Exception as exc:
            await refuse(interaction, exc, t)

    async def pick(
        self, interaction: discord.Interaction, action: str, job: str, value: str
    ) -> None:
        t = await user_translator(self.studio, interaction)
        try:
            if not value.isdigit():
                raise BadButton(f"no scene {value!r}")
            if action == "edit":
                await self._ask_for_text(interaction, job, int(value), t)
            elif action == "swap":
                await self._swap(interaction, job, int(value), t)
            else:
                raise BadButton(f"no select {action!r}")
        except Exception as exc:
            await refuse(interaction, exc, t)

    async def dub(self, interaction: discord.Interaction, job_id: str, language: str) -> None:
        """ "Also in …": the owner's pick dubs the reel; others get the usual refusal."""
        t = await user_translator(self.studio, interaction)
        name = ENDONYMS.get(language, language)
        try:
            dub = await self.studio.start_dub(owner_of(interaction.user), job_id, language)
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        if dub.fresh:
            self.bot.productions.start(dub.job, t)
            await reply(interaction, MARKDOWN.escape(t("dub.started", language=name)))
        else:
            await reply(interaction, MARKDOWN.escape(t("dub.exists", language=name)))

    async def setting(self, interaction: discord.Interaction, setting: str, value: str) -> None:
        cog = self.bot.get_cog("Settings")
        handle = getattr(cog, "chosen", None)
        if handle is not None:
            await handle(interaction, setting, value)

    # --- the script review -----------------------------------------------------------

    async def _approve(self, interaction: discord.Interaction, job_id: str, t: Translator) -> None:
        owner = owner_of(interaction.user)
        await self.studio.authorize(owner, job_id, "approve")
        await interaction.response.defer()
        job = await self.studio.approve(owner, job_id)
        sheet = await self.studio.contact_sheet(job)
        script = self.studio.script_of(job)
        await interaction.edit_original_response(view=None)  # the script is approved
        await interaction.followup.send(
            sheet_caption(script, t, MARKDOWN),
            file=discord.File(io.BytesIO(sheet), filename="sheet.jpg"),
            view=sheet_review(job.id, len(script.scenes), t),
            allowed_mentions=NONE,
        )

    async def _rewrite(self, interaction: discord.Interaction, job_id: str, t: Translator) -> None:
        owner = owner_of(interaction.user)
        await self.studio.authorize(owner, job_id, "rewrite")
        await interaction.response.defer()
        job = await self.studio.rewrite(owner, job_id)
        await self._show_script(interaction, job.id, t)

    async def _cancel(self, interaction: discord.Interaction, job_id: str, t: Translator) -> None:
        owner = owner_of(interaction.user)
        await self.studio.authorize(owner, job_id, "cancel")  # a refusal is the answer
        await interaction.response.edit_message(view=None)
        await self.studio.cancel(owner, job_id)
        await interaction.followup.send(MARKDOWN.escape(t("cancel.done")), allowed_mentions=NONE)

    async def _ask_for_text(
        self, interaction: discord.Interaction, job_id: str, scene: int, t: Translator
    ) -> None:
        job = await self.studio.authorize(owner_of(interaction.user), job_id, "edit")
        scenes = self.studio.script_of(job).scenes
        if not 1 <= scene <= len(scenes):
            raise InputError(
                f"no scene {scene}",
                code="error.scene_number",
                params={"scene": scene, "count": len(scenes)},
            )
        current = scenes[scene - 1].narration
        await interaction.response.send_modal(EditScene(self, job.id, scene, current, t))

    async def edited(
        self, interaction: discord.Interaction, job_id: str, scene: int, text: str, t: Translator
    ) -> None:
        owner = owner_of(interaction.user)
        try:
            await self.studio.authorize(owner, job_id, "edit")
            # Acknowledged before the edit is checked and written (moderation may be slow).
            await interaction.response.defer()
            job = await self.studio.edit_scene(owner, job_id, scene, text)
        except Exception as exc:
            await refuse(interaction, exc, t)  # the script and its buttons stay as they were
            return
        await self._show_script(interaction, job.id, t)

    async def _show_script(
        self, interaction: discord.Interaction, job_id: str, t: Translator
    ) -> None:
        job = await self.studio.job(job_id)
        await interaction.edit_original_response(
            content=self._script(job_id, t, job),
            view=self._script_view(job_id, t, job),
            allowed_mentions=NONE,
        )

    def _script(self, job_id: str, t: Translator, job: Any) -> str:
        return script_text(self.studio.script_of(job), t, MARKDOWN, limit=CONTENT_LIMIT)

    def _script_view(self, job_id: str, t: Translator, job: Any) -> discord.ui.View:
        scenes = len(self.studio.script_of(job).scenes)
        return script_review(job_id, scenes, t, can_rewrite=self.studio.has_writer)

    # --- the image review ------------------------------------------------------------

    async def _swap(
        self, interaction: discord.Interaction, job_id: str, scene: int, t: Translator
    ) -> None:
        owner = owner_of(interaction.user)
        await self.studio.authorize(owner, job_id, "swap")
        await interaction.response.defer()
        if self.studio.alternates_pending(job_id, scene):
            await reply(interaction, MARKDOWN.escape(t("swap.waiting", scene=scene)))
        swapped = await self.studio.swap(owner, job_id, scene)
        # Quick swaps may overlap: each edit shows the job as it is when the edit is made.
        async with self.bot.locks.hold(f"sheet:{job_id}"):
            job = await self.studio.job(swapped.job.id)
            sheet = await self.studio.contact_sheet(job)
            script = self.studio.script_of(job)
            await interaction.edit_original_response(
                content=sheet_caption(script, t, MARKDOWN),
                attachments=[discord.File(io.BytesIO(sheet), filename="sheet.jpg")],
                view=sheet_review(job.id, len(script.scenes), t),
                allowed_mentions=NONE,
            )

    async def _render(self, interaction: discord.Interaction, job_id: str, t: Translator) -> None:
        owner = owner_of(interaction.user)
        await self.studio.may_render(owner, job_id)  # reads only: a refusal is the answer
        await interaction.response.edit_message(view=None)
        job = await self.studio.queue_render(owner, job_id)
        await self.studio.note_destination(job.id, limit=interaction.filesize_limit)
        self.bot.reels.remember(job.id, interaction)
        self.bot.productions.start(job, t)


async def setup(bot: ReelBot) -> None:
    review = Review(bot)
    bot.presses = review
    await bot.add_cog(review)
