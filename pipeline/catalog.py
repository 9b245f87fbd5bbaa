"""Model ids, voices and style presets: code, not environment."""

from __future__ import annotations

from dataclasses import dataclass

# espeak-ng voice per narration language (names from espeak-ng-data/lang).
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us",
    "ru": "ru",
    "es": "es",
    "de": "de",
    "fr": "fr",
    "it": "it",
    "pt": "pt-br",
}
LANGUAGES = tuple(ESPEAK_VOICES)

GEMINI_SCRIPT_MODEL = "gemini-3-flash-preview"
GEMINI_TTS_MODEL = "gemini-2.5-flash-preview-tts"
GEMINI_IMAGE_MODEL = "gemini-2.5-flash-image"
GROQ_CHAT_MODEL = "meta-llama/llama-4-maverick-17b-128e-instruct"
GROQ_WHISPER_MODEL = "whisper-large-v3-turbo"
ELEVENLABS_TTS_MODEL = "eleven_multilingual_v2"
ELEVENLABS_DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"
GEMINI_DEFAULT_VOICE = "Kore"

FONT_BOLD = "NotoSans-Bold.ttf"
FONT_REGULAR = "NotoSans-Regular.ttf"
FONT_DISPLAY = "NotoSerifDisplay-Bold.ttf"
# The family name libass matches against the files in fontsdir.
SUBTITLE_FONT_FAMILY = "Noto Sans"


@dataclass(frozen=True, slots=True)
class SubtitleStyle:
    """Colours are RGB hex; the subtitle writer converts them to ASS's &HAABBGGRR."""

    name: str
    text_colour: str
    highlight_colour: str
    outline_colour: str
    outline: float
    shadow: float
    font_size: int
    boxed: bool = False
    box_colour: str = "000000"
    box_alpha: int = 0x60  # 0 opaque .. 255 transparent
    uppercase: bool = False


STYLES: dict[str, SubtitleStyle] = {
    "bold-yellow": SubtitleStyle(
        name="bold-yellow",
        text_colour="FFFFFF",
        highlight_colour="FFD400",
        outline_colour="000000",
        outline=5,
        shadow=2,
        font_size=66,
        uppercase=True,
    ),
    "clean-white": SubtitleStyle(
        name="clean-white",
        text_colour="B8C0C8",
        highlight_colour="FFFFFF",
        outline_colour="1A1A1A",
        outline=2.5,
        shadow=3,
        font_size=60,
    ),
    "boxed": SubtitleStyle(
        name="boxed",
        text_colour="FFFFFF",
        highlight_colour="4FD1FF",
        outline_colour="000000",
        outline=10,
        shadow=0,
        font_size=58,
        boxed=True,
        box_colour="101018",
        box_alpha=0x40,
    ),
}
DEFAULT_STYLE = "bold-yellow"
