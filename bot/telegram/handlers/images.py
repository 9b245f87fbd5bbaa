"""Image review on one contact sheet: Swap N, Render, Cancel."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InputMediaPhoto

from bot.presenters import HTML, sheet_caption
from bot.productions import Productions
from locales import Translator
from pipeline.concurrency import KeyedLocks
from pipeline.studio import Studio, Swapped

from .. import keyboards
from ..callbacks import SheetAction, SheetStep, SwapScene
from .common import cancel, chat_of, drop_keyboard, message_id_of

logger = logging.getLogger(__name__)


async def swap(
    query: CallbackQuery,
    callback_data: SwapScene,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
    locks: KeyedLocks,
) -> None:
    job_id, scene = callback_data.job, callback_data.scene
    waiting = studio.alternates_pending(job_id, scene)
    if waiting:
        # Said at once, before the wait for this scene's pictures (checked first).
        await studio.authorize(owner, job_id, "swap")
        await query.answer(t("swap.waiting", scene=scene))

    async def decided(choice: Swapped) -> None:
        if not waiting:  # the choice, said before it is written and the sheet redrawn
            await query.answer(
                t("swap.done", scene=choice.scene, choice=choice.choice, options=choice.options)
            )

    swapped = await studio.swap(owner, job_id, scene, decided=decided)
    if query.message is None:
        return
    # Quick presses may overlap: each edit shows the job as it is when the edit is made, so
    # the last one on screen is the latest choice.
    async with locks.hold(f"sheet:{swapped.job.id}"):
        job = await studio.job(swapped.job.id)
        sheet = await studio.contact_sheet(job)
        script = studio.script_of(job)
        await bot.edit_message_media(
            chat_id=chat_of(job),
            message_id=query.message.message_id,
            media=InputMediaPhoto(
                media=BufferedInputFile(sheet, filename="sheet.jpg"),
                caption=sheet_caption(script, t, HTML),
            ),
            reply_markup=keyboards.sheet_review(job.id, len(script.scenes), t),
        )


async def render(
    query: CallbackQuery,
    callback_data: SheetAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
    productions: Productions,
) -> None:
    await studio.may_render(owner, callback_data.job)  # reads only: a refusal is the answer
    await query.answer(t("render.queued"))
    job = await studio.queue_render(owner, callback_data.job)
    productions.start(job, t)
    await drop_keyboard(bot, chat_of(job), message_id_of(query))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(swap, SwapScene.filter())
    router.callback_query.register(render, SheetAction.filter(F.step == SheetStep.RENDER))
    router.callback_query.register(cancel, SheetAction.filter(F.step == SheetStep.CANCEL))
    return router
