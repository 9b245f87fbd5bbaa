"""Script review: Approve, Edit (scene buttons, then ForceReply), Rewrite, Cancel."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.presenters import HTML, sheet_caption
from locales import Translator
from pipeline.studio import MAX_SCENE_CHARS, StaleJob, Studio

from .. import keyboards
from ..callbacks import EditScene, ScriptAction, ScriptStep
from ..progress import chat_action
from ..states import Flow
from .common import cancel, chat_of, drop_keyboard, message_id_of, say, show_script

logger = logging.getLogger(__name__)


async def approve(
    query: CallbackQuery,
    callback_data: ScriptAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    job = await studio.authorize(owner, callback_data.job, "approve")
    await query.answer(t("approve.working"))
    async with chat_action(bot, chat_of(job), ChatAction.UPLOAD_PHOTO):
        job = await studio.approve(owner, job.id)
        sheet = await studio.contact_sheet(job)
    script = studio.script_of(job)
    await bot.send_photo(
        chat_of(job),
        BufferedInputFile(sheet, filename="sheet.jpg"),
        caption=sheet_caption(script, t, HTML),
        reply_markup=keyboards.sheet_review(job.id, len(script.scenes), t),
    )
    await drop_keyboard(bot, chat_of(job), message_id_of(query))


async def pick_scene(
    query: CallbackQuery,
    callback_data: ScriptAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    job = await studio.authorize(owner, callback_data.job, "edit")
    await query.answer(t("edit.pick"))
    if query.message is not None:
        markup = keyboards.scene_picker(job.id, len(studio.script_of(job).scenes), t)
        await bot.edit_message_reply_markup(
            chat_id=chat_of(job), message_id=query.message.message_id, reply_markup=markup
        )


async def back(
    query: CallbackQuery,
    callback_data: ScriptAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    job = await studio.authorize(owner, callback_data.job, "edit")
    await query.answer()
    if query.message is not None:
        markup = keyboards.script_review(job.id, t, can_rewrite=studio.has_writer)
        await bot.edit_message_reply_markup(
            chat_id=chat_of(job), message_id=query.message.message_id, reply_markup=markup
        )


async def ask_for_text(
    query: CallbackQuery,
    callback_data: EditScene,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
    state: FSMContext,
) -> None:
    job = await studio.authorize(owner, callback_data.job, "edit")
    await query.answer()
    scene = callback_data.scene
    await state.set_state(Flow.editing)
    message_id = message_id_of(query)
    await state.set_data({"job": job.id, "scene": scene, "message": message_id})
    await bot.send_message(
        chat_of(job),
        say(t, "edit.ask", scene=scene, limit=MAX_SCENE_CHARS),
        reply_markup=keyboards.force_reply(t("edit.placeholder", scene=scene)),
    )


async def new_text(
    message: Message, bot: Bot, t: Translator, studio: Studio, owner: str, state: FSMContext
) -> None:
    assert message.text is not None
    data = await state.get_data()
    try:
        job = await studio.edit_scene(owner, data["job"], int(data["scene"]), message.text)
    except StaleJob:
        await state.clear()
        raise
    await state.clear()
    await show_script(bot, job, t, studio, message_id=data.get("message"))
    await message.answer(say(t, "edit.done", scene=data["scene"]))


async def rewrite(
    query: CallbackQuery,
    callback_data: ScriptAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    job = await studio.authorize(owner, callback_data.job, "rewrite")
    await query.answer(t("rewrite.working"))
    async with chat_action(bot, chat_of(job)):
        job = await studio.rewrite(owner, job.id)
    message_id = message_id_of(query)
    await show_script(bot, job, t, studio, message_id=message_id)


def create_router() -> Router:
    router = Router(name=__name__)
    on_press = router.callback_query.register
    on_press(approve, ScriptAction.filter(F.step == ScriptStep.APPROVE))
    on_press(pick_scene, ScriptAction.filter(F.step == ScriptStep.EDIT))
    on_press(back, ScriptAction.filter(F.step == ScriptStep.BACK))
    on_press(rewrite, ScriptAction.filter(F.step == ScriptStep.REWRITE))
    on_press(cancel, ScriptAction.filter(F.step == ScriptStep.CANCEL))
    on_press(ask_for_text, EditScene.filter())
    router.message.register(new_text, Flow.editing, F.text & ~F.text.startswith("/"))
    return router
