"""The Telegram side of making a reel: the progress message, telling the chat, and posting the
reel in the form the pipeline chose (``pipeline.delivery.Post``): the video with its preview
and caption, the link alone over the Bot API's upload limit, or the link in a short message
when an earlier post was cut off. Implements ``bot.productions.ReelFront``."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError
from aiogram.types import FSInputFile, InlineKeyboardMarkup, Message, ReplyParameters

from bot.presenters import HTML, Markup, reel_caption, reel_note
from bot.progress import Edit
from locales import Translator
from pipeline.delivery import Deliverer, Post, PostForm
from pipeline.errors import NotSent
from pipeline.studio import JobRecord, Studio, dub_languages

from . import keyboards
from .progress import chat_action
from .texts import telegram_translator

logger = logging.getLogger(__name__)

UPLOAD_LIMIT = 50 * 1024 * 1024  # api.telegram.org; settings.telegram.upload_limit_mb overrides
CAPTION_LIMIT = 1024


def chat_of(job: JobRecord) -> int:
    if job.chat_id is None:
        raise NotSent(f"job {job.id} has no chat to post to")
    return int(job.chat_id)


class TelegramReels:
    markup: Markup = HTML

    def __init__(self, bot: Bot, studio: Studio, *, upload_limit: int = UPLOAD_LIMIT) -> None:
        self.bot = bot
        self.studio = studio
        self.upload_limit = upload_limit

    async def open_progress(self, job: JobRecord, text: str) -> Edit | None:
        chat_id = chat_of(job)
        try:
            message = await self.bot.send_message(chat_id, text)
        except TelegramAPIError as exc:
            logger.warning("job %s: no progress message: %s", job.id, exc)
            return None

        async def edit(new_text: str) -> None:
            try:
                await self.bot.edit_message_text(
                    text=new_text, chat_id=chat_id, message_id=message.message_id
                )
            except TelegramBadRequest as exc:
                logger.debug("progress edit refused: %s", exc)  # e.g. "message is not modified"
            except TelegramAPIError as exc:
                logger.warning("progress edit failed: %s", exc)

        return edit

    async def tell(self, job: JobRecord, text: str) -> None:
        try:
            await self.bot.send_message(chat_of(job), text)
        except (TelegramAPIError, NotSent) as exc:
            logger.warning("could not tell chat %s about job %s: %s", job.chat_id, job.id, exc)

    def deliverer(self, t: Translator) -> Deliverer:
        """A deliverer that captions in ``t``'s language (the requester's, known at render)."""

        async def deliver(post: Post) -> None:
            await self.post(post, t)

        return deliver

    async def resumed(self, post: Post) -> None:
        """The deliverer for jobs resumed at start-up: the language comes from the user's
        stored choice, else the narration's."""
        job = post.job
        ui = (await self.studio.preferences(job.owner_id)).ui_language if job.owner_id else None
        await self.post(post, telegram_translator(ui, job.language))

    async def post_to(self, chat: str, post: Post) -> None:
        """Post to ``chat`` (a channel or group: ``-100…`` or ``@username``) rather than the
        job's own chat, captioned in the reel's language with its credit line (the daily
        reels, see ``pipeline.studio.making``)."""
        chat_id: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
        facts = await self.studio.destination(post.job.id)
        credit = str(facts.get("credit") or "")
        await self._post_in(chat_id, post, telegram_translator(None, post.job.language), credit)

    async def post(self, post: Post, t: Translator) -> None:
        """In the job's own chat: an original with its "Also in …" buttons, a dub as a reply
        to its original, captioned as dubbed."""
        job = post.job
        facts = await self.studio.destination(job.id)
        dub = await self.studio.dub_of(job.id)
        reply_to = facts.get("reply_to") if dub is not None else None
        markup = (
            None
            if dub is not None
            else keyboards.dubs(job.id, dub_languages(job), t, youtube=self.studio.youtube_ready)
        )
        sent = await self._post_in(
            chat_of(job),
            post,
            t,
            dubbed_from=dub.source if dub is not None else None,
            reply_to=reply_to if isinstance(reply_to, int) else None,
            markup=markup,
        )
        if sent is not None:
            await self.studio.note_destination(job.id, message=sent.message_id)

    async def _post_in(
        self,
        chat_id: int | str,
        post: Post,
        t: Translator,
        credit: str = "",
        *,
        dubbed_from: str | None = None,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message | None:
        job, published = post.job, post.published
        credits = "\n".join(line for line in (published.credit, credit) if line)
        script = self.studio.script_of(job)
        caption = reel_caption(
            script,
            published.url,
            t,
            HTML,
            credit=credits or None,
            dubbed_from=dubbed_from,
            disclosure=self.studio.settings.ai_disclosure,
        )
        form = post.form(self.upload_limit)
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        try:
            if form is PostForm.VIDEO:
                async with chat_action(self.bot, chat_id, ChatAction.UPLOAD_VIDEO):
                    sent = await self.bot.send_video(
                        chat_id=chat_id,
                        video=FSInputFile(published.reel),
                        width=published.width,
                        height=published.height,
                        duration=max(1, round(published.duration)),
                        supports_streaming=True,
                        thumbnail=FSInputFile(published.thumb_small),
                        caption=caption,
                        reply_parameters=reply,
                        reply_markup=markup,
                    )
            else:
                note = reel_note(form, published, self.upload_limit, t)
                sent = await self.bot.send_message(
                    chat_id,
                    f"{HTML.escape(note)}\n\n{caption}",
                    reply_parameters=reply,
                    reply_markup=markup,
                )
        except TelegramNetworkError:
            raise  # the post may have gone out: the outcome is unknown
        except TelegramAPIError as exc:
            raise NotSent(f"the platform refused the reel: {exc}") from exc
        logger.info("job %s: reel posted to chat %s (%s)", job.id, chat_id, form)
        return sent
