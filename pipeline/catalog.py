"""Model ids, voices and style presets: code, not environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ElevenLabsModel:
    """An ElevenLabs TTS model: the languages it speaks, and whether it takes ``language_code``
    (ISO 639-1, which fixes the language instead of guessing it from the text)."""

    languages: frozenset[str]
    takes_language_code: bool


# The 29 languages of the v2 models (ISO 639-1, "fil" for Filipino).
_ELEVENLABS_V2_LANGUAGES = frozenset(
    {
        "en", "ja", "zh", "de", "hi", "fr", "ko", "pt", "it", "es", "id", "nl", "tr", "fil", "pl",
        "sv", "bg", "ro", "ar", "cs", "el", "fi", "hr", "ms", "sk", "da", "ta", "uk", "ru",
    }
)  # fmt: skip
# The SDK says ``language_code`` "is not supported for multilingual_v2 models": ignored by the
# service, or (one report) refused with a 400. It is sent only to models that take it.
ELEVENLABS_MODELS: dict[str, ElevenLabsModel] = {
    "eleven_multilingual_v2": ElevenLabsModel(_ELEVENLABS_V2_LANGUAGES, takes_language_code=False),
    "eleven_flash_v2_5": ElevenLabsModel(
        _ELEVENLABS_V2_LANGUAGES | {"hu", "no", "vi"}, takes_language_code=True
    ),
}


@dataclass(frozen=True, slots=True)
class LanguageVoices:
    """Who can speak one narration language, per voice engine; the first voice is the default.

    ElevenLabs and Gemini voices are multilingual (the same voice reads every language);
    espeak-ng has a voice per language and accent (names from espeak-ng-data/lang).
    """

    espeak: tuple[str, ...]
    elevenlabs: tuple[str, ...]
    elevenlabs_language_code: str
    gemini: tuple[str, ...]


# Premade ElevenLabs voices (all speak the multilingual models' languages) and their names.
ELEVENLABS_VOICE_NAMES: dict[str, str] = {
    "21m00Tcm4TlvDq8ikWAM": "Rachel",
    "EXAVITQu4vr4xnSDxMaL": "Sarah",
    "pNInz6obpgDQGcFmaJgB": "Adam",
    "ErXwobaYiN019PkySvjV": "Antoni",
}
ELEVENLABS_DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"
# The prebuilt voices of Gemini TTS, which detects the language from the text.
GEMINI_VOICES = (
    "Kore", "Puck", "Charon", "Aoede", "Fenrir", "Leda", "Zephyr", "Orus", "Callirrhoe",
    "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib",
    "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima",
    "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)  # fmt: skip
GEMINI_DEFAULT_VOICE = "Kore"


def _voices(language: str, *espeak: str) -> LanguageVoices:
    return LanguageVoices(
        espeak=espeak,
        elevenlabs=tuple(ELEVENLABS_VOICE_NAMES),
        elevenlabs_language_code=language,
        gemini=GEMINI_VOICES,
    )


VOICES: dict[str, LanguageVoices] = {
    "en": _voices("en", "en-us", "en", "en-gb-x-rp", "en-gb-scotland"),
    "ru": _voices("ru", "ru", "ru-lv"),
    "es": _voices("es", "es", "es-419"),
    "de": _voices("de", "de"),
    # espeak-ng's French voice is "fr" (France); "fr-fr" is not a voice name it knows.
    "fr": _voices("fr", "fr", "fr-be", "fr-ch"),
    "it": _voices("it", "it"),
    "pt": _voices("pt", "pt-br", "pt"),
}
LANGUAGES = tuple(VOICES)
# espeak-ng's default voice per narration language.
ESPEAK_VOICES: dict[str, str] = {language: voices.espeak[0] for language, voices in VOICES.items()}

GEMINI_SCRIPT_MODEL = "gemini-3-flash-preview"
GEMINI_TTS_MODEL = "gemini-2.5-flash-preview-tts"
GEMINI_IMAGE_MODEL = "gemini-2.5-flash-image"
# Llama 4 Maverick, our Groq writer until Groq decommissioned it on 2026-03-09; gpt-oss-120b is
# its successor (a reasoning model: the adapter asks for little reasoning and none returned).
GROQ_CHAT_MODEL = "openai/gpt-oss-120b"
GROQ_WHISPER_MODEL = "whisper-large-v3-turbo"
GROQ_TRANSLATE_MODEL = "openai/gpt-oss-120b"  # dubs: a script translated scene by scene
# Safety models: Llama Guard 4 where the account still lists it, else its successor.
GROQ_LLAMA_GUARD_MODEL = "meta-llama/llama-guard-4-12b"
GROQ_SAFEGUARD_MODEL = "openai/gpt-oss-safeguard-20b"
GEMINI_MODERATION_MODEL = "gemini-2.5-flash-lite"  # its safety feedback, when Groq has none
# Ids the services retired, and what replaced them: said when one is still configured.
RETIRED_MODELS: dict[str, str] = {
    "meta-llama/llama-4-maverick-17b-128e-instruct": "openai/gpt-oss-120b",
    "moonshotai/kimi-k2-instruct-0905": "openai/gpt-oss-120b",
    "meta-llama/llama-4-scout-17b-16e-instruct": "openai/gpt-oss-120b",
    "llama-3.3-70b-versatile": "openai/gpt-oss-120b",
    "llama-3.1-8b-instant": "openai/gpt-oss-20b",
    "meta-llama/llama-guard-4-12b": "openai/gpt-oss-safeguard-20b",
}
ELEVENLABS_TTS_MODEL = "eleven_multilingual_v2"

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
