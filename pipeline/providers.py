"""Which adapter serves each port, built once from Settings.

Chains follow the order in settings (``script_chain``, ``voice_chain``, ``image_chain``); a
provider without its key is left out. Vendor SDKs are imported only when their key is set, so
the offline path (``render``, ``make demo``) never pays for them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from . import language_id
from .adapters.cards import CardSource
from .adapters.espeak import EspeakSynth
from .adapters.local_fs import LocalBlobStore
from .fetch import ImageFetcher
from .ports import (
    Aligner,
    BlobStore,
    Dubber,
    ImageSource,
    Moderator,
    ScriptWriter,
    SpeechSynth,
    Translator,
)
from .settings import Settings
from .stages.images import MediaFetcher
from .stages.music import AudioFetch, SoundMaker, looks_like_audio

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Providers:
    writers: list[ScriptWriter] = field(default_factory=list)
    synths: list[SpeechSynth] = field(default_factory=list)
    aligners: list[Aligner] = field(default_factory=list)
    images: list[ImageSource] = field(default_factory=list)
    store: BlobStore | None = None
    fetch_media: MediaFetcher | None = None
    sounds: list[SoundMaker] = field(default_factory=list)  # music and effects, in order
    fetch_audio: AudioFetch | None = None
    # Dubbing a delivered reel: translators follow the script chain; the dubber is ElevenLabs.
    translators: list[Translator] = field(default_factory=list)
    dubbers: list[Dubber] = field(default_factory=list)

    # Remote moderators in order; pipeline.moderation adds the local list after them.
    moderators: list[Moderator] = field(default_factory=list)
    closers: AsyncExitStack = field(default_factory=AsyncExitStack)

    def describe(self) -> dict[str, list[str]]:
        return {
            "script": [w.name for w in self.writers],
            "voice": [s.name for s in self.synths],
            "align": [a.name for a in self.aligners],
            "images": [i.name for i in self.images],
            "music": [m.name for m in self.sounds],
            "translate": [t.name for t in self.translators],
            "dub": [d.name for d in self.dubbers],
            "storage": [self.store.name] if self.store else [],
            "moderation": [*(m.name for m in self.moderators), "local"],
        }

    async def aclose(self) -> None:
        await self.closers.aclose()


def _closing(providers: Providers, adapter: Any) -> Any:
    closer = getattr(adapter, "aclose", None)
    if closer is not None:
        providers.closers.push_async_callback(closer)
    return adapter


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_offline(settings: Settings) -> Providers:
    """Everything that works with no keys and no network."""
    return build(settings, offline=True)


@dataclass(frozen=True, slots=True)
class _Keys:
    gemini: str | None
    groq: str | None
    eleven: str | None
    search: str | None

    @classmethod
    def of(cls, settings: Settings, *, offline: bool = False) -> _Keys:
        values = (
            settings.gemini_api_key,
            settings.groq_api_key,
            settings.elevenlabs_api_key,
            settings.google_search_api_key,
        )
        return cls(*(None if offline else _secret(value) for value in values))


Part = Literal["script", "media", "storage"]
PARTS: tuple[Part, ...] = ("script", "media", "storage")


def build(
    settings: Settings, *, offline: bool = False, parts: tuple[Part, ...] = PARTS
) -> Providers:
    """The providers for ``parts``: "script" (writers), "media" (voice, alignment, images),
    "storage". ``extend`` adds the rest later."""
    providers = Providers()
    extend(providers, settings, parts, offline=offline)
    return providers


def extend(
    providers: Providers, settings: Settings, parts: tuple[Part, ...], *, offline: bool = False
) -> None:
    keys = _Keys.of(settings, offline=offline)
    if "script" in parts:
        _writers(providers, settings, keys)
        _translators(providers, settings, keys)
        _moderators(providers, settings, keys)
    if "media" in parts:
        fetcher = _closing(
            providers,
            ImageFetcher(
                cache_dir=settings.cache_dir,
                allow_hosts=settings.fetch_allow_hosts,
                max_bytes=settings.fetch_max_bytes,
                concurrency=settings.fetch_concurrency,
            ),
        )
        providers.fetch_media = fetcher.fetch
        providers.fetch_audio = partial(
            fetcher.download,
            kind="audio track",
            sniff=looks_like_audio,
            max_bytes=settings.music_max_bytes,
        )
        _voices(providers, settings, keys)
        _images(providers, settings, keys, fetcher)
        _sounds(providers, settings, keys)
        _dubbers(providers, settings, keys)
    if "storage" in parts:
        if settings.blob_store == "r2":
            from .adapters.r2 import R2BlobStore

            providers.store = _closing(providers, R2BlobStore.from_settings(settings))
        else:
            providers.store = LocalBlobStore(settings.blobs_dir)


def preload(settings: Settings, parts: tuple[Part, ...]) -> None:
    """Import the vendor SDKs ``parts`` will need (the slow part of building them), e.g. in a
    thread while a script is being drafted. Constructing the adapters stays on the loop."""
    keys = _Keys.of(settings)
    modules: list[str] = []
    remote = "script" in parts or "media" in parts
    if remote and keys.gemini:
        modules.append("pipeline.adapters.gemini")
    if remote and keys.groq:
        modules.append("pipeline.adapters.groq")
        modules.append("pipeline.adapters.groq_moderation")
    if "script" in parts and keys.gemini:
        modules.append("pipeline.adapters.gemini.moderation")
    if "media" in parts:
        modules.append("pipeline.tts_cache")
        if keys.eleven:
            modules.append("pipeline.adapters.elevenlabs")
            modules.append("pipeline.adapters.elevenlabs_alignment")
            modules.append("pipeline.adapters.elevenlabs_audio")
            modules.append("pipeline.adapters.elevenlabs_dubbing")
        if keys.search:
            modules.append("pipeline.adapters.google_search")
    if "storage" in parts and settings.blob_store == "r2":
        modules.append("pipeline.adapters.r2")
    for module in modules:
        importlib.import_module(module)
    if "script" in parts and (keys.gemini or keys.groq):
        # Drafts are checked for their language; the model takes ~0.5 s to load.
        language_id.load()


def _llm_adapters(
    providers: Providers,
    settings: Settings,
    keys: _Keys,
    chain: Sequence[str],
    *,
    gemini: str,
    groq: str,
    timeout: float,
    attempts: int,
) -> list[Any]:
    """One adapter per LLM of ``chain`` that has a key, in order. ``gemini`` and ``groq``
    name the adapter classes (``module:Class``), imported only when they are configured."""
    made: list[Any] = []
    for name in chain:
        key, base_url, target = {
            "gemini": (keys.gemini, settings.gemini_base_url, gemini),
            "groq": (keys.groq, settings.groq_base_url, groq),
        }.get(name, (None, None, ""))
        if not key:
            continue
        module, _, cls = target.partition(":")
        adapter_class = getattr(importlib.import_module(module), cls)
        adapter = adapter_class(key, base_url=base_url, timeout=timeout, attempts=attempts)
        made.append(_closing(providers, adapter))
    return made


def _writers(providers: Providers, settings: Settings, keys: _Keys) -> None:
    providers.writers += _llm_adapters(
        providers,
        settings,
        keys,
        settings.script_chain,
        gemini="pipeline.adapters.gemini:GeminiScriptWriter",
        groq="pipeline.adapters.groq:GroqScriptWriter",
        timeout=settings.provider_timeout,
        attempts=settings.provider_retries,
    )


def _translators(providers: Providers, settings: Settings, keys: _Keys) -> None:
    """The LLMs that translate a script for a dub, in the script chain's order."""
    providers.translators += _llm_adapters(
        providers,
        settings,
        keys,
        settings.script_chain,
        gemini="pipeline.adapters.gemini.translate:GeminiTranslator",
        groq="pipeline.adapters.groq_translate:GroqTranslator",
        timeout=settings.provider_timeout,
        attempts=settings.provider_retries,
    )


def _dubbers(providers: Providers, settings: Settings, keys: _Keys) -> None:
    if keys.eleven:
        from .adapters.elevenlabs_dubbing import ElevenLabsDubber

        dubber = ElevenLabsDubber(
            keys.eleven,
            base_url=settings.elevenlabs_base_url,
            request_timeout=settings.provider_timeout,
            timeout=settings.dub_timeout,
            poll_interval=settings.dub_poll_interval,
            ffmpeg=settings.ffmpeg_binary,
        )
        providers.dubbers.append(_closing(providers, dubber))


def _moderators(providers: Providers, settings: Settings, keys: _Keys) -> None:
    # A check runs before every draft: a short timeout and one retry, then the next one.
    providers.moderators += _llm_adapters(
        providers,
        settings,
        keys,
        settings.moderation_chain,
        gemini="pipeline.adapters.gemini.moderation:GeminiModerator",
        groq="pipeline.adapters.groq_moderation:GroqModerator",
        timeout=min(settings.provider_timeout, 20.0),
        attempts=min(settings.provider_retries, 2),
    )


def _voices(providers: Providers, settings: Settings, keys: _Keys) -> None:
    from .tts_cache import CachedSynth

    timeout, attempts = settings.provider_timeout, settings.provider_retries
    # Forced alignment first: it aligns the known script; Whisper transcribes and matches back.
    if keys.eleven:
        from .adapters.elevenlabs_alignment import ElevenLabsAligner

        forced = ElevenLabsAligner(
            keys.eleven, base_url=settings.elevenlabs_base_url, timeout=timeout, attempts=attempts
        )
        providers.aligners.append(_closing(providers, forced))
    if keys.groq:
        from .adapters.groq import GroqWhisperAligner

        aligner = GroqWhisperAligner(
            keys.groq, base_url=settings.groq_base_url, timeout=timeout, attempts=attempts
        )
        providers.aligners.append(_closing(providers, aligner))
    for name in settings.voice_chain:
        synth: SpeechSynth
        if name == "elevenlabs" and keys.eleven:
            from .adapters.elevenlabs import ElevenLabsSynth

            synth = ElevenLabsSynth(
                keys.eleven,
                base_url=settings.elevenlabs_base_url,
                timeout=timeout,
                attempts=attempts,
            )
        elif name == "gemini" and keys.gemini:
            if not providers.aligners:
                # Gemini TTS gives no word timings; without an aligner there are no subtitles.
                logger.info(
                    "voice: gemini TTS skipped (it needs an aligner:"
                    " REELFACTORY_ELEVENLABS_API_KEY or REELFACTORY_GROQ_API_KEY)"
                )
                continue
            from .adapters.gemini import GeminiSpeech

            synth = GeminiSpeech(
                keys.gemini, base_url=settings.gemini_base_url, timeout=timeout, attempts=attempts
            )
        else:
            continue
        providers.synths.append(_closing(providers, CachedSynth(synth, settings.cache_dir)))
    # The offline voice is always the last resort.
    providers.synths.append(EspeakSynth())


def _sounds(providers: Providers, settings: Settings, keys: _Keys) -> None:
    """Music and effects makers, each behind the sound cache; the offline synthesiser last
    (when the chain names it), which never fails."""
    from .adapters.sound_cache import CachedSounds
    from .adapters.synth_audio import SynthSounds

    for name in settings.music_chain:
        maker: SoundMaker
        if name == "elevenlabs" and keys.eleven:
            from .adapters.elevenlabs_audio import ElevenLabsSounds

            maker = ElevenLabsSounds(
                keys.eleven,
                base_url=settings.elevenlabs_base_url,
                timeout=settings.music_timeout,
                attempts=settings.provider_retries,
            )
        elif name == "synth":
            maker = SynthSounds()
        else:
            continue
        providers.sounds.append(_closing(providers, CachedSounds(maker, settings.cache_dir)))


def _images(providers: Providers, settings: Settings, keys: _Keys, fetcher: ImageFetcher) -> None:
    timeout, attempts = settings.provider_timeout, settings.provider_retries
    for name in settings.image_chain:
        source: ImageSource
        if name == "google_search" and keys.search and settings.google_search_cx:
            from .adapters.google_search import GoogleSearchImages

            source = GoogleSearchImages(
                keys.search,
                settings.google_search_cx,
                fetcher=fetcher,
                base_url=settings.google_search_base_url,
                timeout=timeout,
                attempts=attempts,
                rate=settings.google_search_rate,
            )
        elif name == "gemini" and keys.gemini:
            from .adapters.gemini import GeminiImages

            source = GeminiImages(
                keys.gemini, base_url=settings.gemini_base_url, timeout=timeout, attempts=attempts
            )
        else:
            continue
        providers.images.append(_closing(providers, source))
    # Cards never fail: the last fallback.
    providers.images.append(CardSource())
