"""The Telegram language screen: seven interface and seven narration languages on rows short
enough for a phone, each group on rows of its own, the chosen ones ticked."""

from __future__ import annotations

from bot.preferences import Setting, screen
from bot.presenters import HTML
from bot.telegram.handlers.settings import keyboard
from locales import ENDONYMS, LOCALES, translator
from pipeline.app import App
from pipeline.providers import build_offline
from pipeline.settings import Settings
from pipeline.studio import NARRATION_LANGUAGES, UI_LANGUAGES, Studio

# Four labels like "✓ 🖥 Português" still fit a phone's row; five would be cut short.
MOST_PER_ROW = 4


async def test_the_language_keyboard_fits_a_phone(settings: Settings) -> None:
    async with await App.open(settings, build_offline(settings)) as app:
        studio = Studio(app)
        prefs = await studio.preferences("telegram:1")
        for locale in LOCALES:
            view = screen(Setting.LANGUAGE, prefs, translator(locale), HTML, studio)
            rows = [[button.text for button in row] for row in keyboard(view).inline_keyboard]

            assert all(1 <= len(row) <= MOST_PER_ROW for row in rows), rows
            groups = [{label.split()[-2] for label in row} for row in rows]
            assert all(len(group) == 1 for group in groups), rows  # 🖥 and 🎙 never share a row
            interface = [label for row in rows for label in row if "🖥" in label]
            narration = [label for row in rows for label in row if "🎙" in label]
            assert [label.split()[-1] for label in interface] == [
                ENDONYMS[code] for code in UI_LANGUAGES
            ]
            assert [label.split()[-1] for label in narration] == [
                ENDONYMS[code] for code in NARRATION_LANGUAGES
            ]
            assert [label for label in interface if label.startswith("✓")] == [
                f"✓ 🖥 {ENDONYMS[locale]}"
            ]
            assert [label for label in narration if label.startswith("✓")] == [
                f"✓ 🎙 {ENDONYMS[prefs.language]}"
            ]
