""" "Also in …" under a delivered reel: a press dubs it into that language (owner only; others
get the usual refusal from the errors router). The dub is produced like any render and
arrives as a reply to the original; a second press for the same language points at it."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.productions import Productions
from locales import ENDONYMS, Translator
from pipeline.studio import Studio

from ..callbacks import DubAction


async def dub(
    query: CallbackQuery,
    callback_data: DubAction,
    t: Translator,
    studio: Studio,
    owner: str,
    productions: Productions,
) -> None:
    language = ENDONYMS.get(callback_data.lang, callback_data.lang)
    started = await studio.start_dub(owner, callback_data.job, callback_data.lang)
    if started.fresh:
        productions.start(started.job, t)
        await query.answer(t("dub.started", language=language))
    else:
        await query.answer(t("dub.exists", language=language), show_alert=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(dub, DubAction.filter())
    return router
