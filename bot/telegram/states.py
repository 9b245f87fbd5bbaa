"""Conversation states: waiting for a scene's new text, or for the user's own narration."""

from aiogram.fsm.state import State, StatesGroup


class Flow(StatesGroup):
    editing = State()  # data: job, scene, message (the script message to update)
    narrating = State()
