"""Offline narration: espeak-ng through ctypes, with word timings from its own WORD events.

espeak keeps global state and is not thread-safe, so the process has one engine, initialised on
first use, and every call into it holds ``_lock``. Synthesis blocks, so it runs in a worker thread.
"""

from __future__ import annotations

import array
import asyncio
import ctypes
import logging
import operator
import sys
import threading
import time
import unicodedata
import wave
from bisect import bisect_right
from ctypes import c_char_p, c_int, c_size_t, c_uint, c_void_p
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import espeakng_loader

from .. import catalog
from ..errors import InputError, ProviderError
from ..files import atomic_write
from ..models import Script, VoiceChoice, Voiceover, WordTiming
from ..text import SCENE_SEPARATOR, ScriptWord, script_words

logger = logging.getLogger(__name__)

PROVIDER = "espeak"

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
# Without it a missing data folder makes espeak call exit() inside our process.
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EE_OK = 0
_RATE_MIN, _RATE_MAX = 80, 450

# espeak's pauses are digital zeros, so a low threshold separates them from quiet fricatives.
_SILENCE_RMS = 64
_FRAME = 0.01
# Shorter silences are stop closures inside speech; keep the word lit through them.
_MIN_PAUSE = 0.1
_HANGOVER = 0.02
_MIN_WORD = 0.08
# The scene pause is exact only if espeak's own trailing silence is cut first.
_SCENE_TAIL = 0.05
# ASS times are centiseconds: words closer than this would collapse into one karaoke step.
_MIN_GAP = 0.01
# Kept as text, they are the layout of the scene; any other control character is hostile
# (NUL would end the C string early) and is replaced by a space so character offsets still hold.
_KEPT_CONTROLS = frozenset("\t\n\r")


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", c_int),
        ("unique_identifier", c_uint),
        ("text_position", c_int),
        ("length", c_int),
        ("audio_position", c_int),
        ("sample", c_int),
        ("user_data", c_void_p),
        ("id", c_void_p),
    ]


# Raw pointers as ints keep the callback's signature free of ctypes' private generic types.
_SynthCallback = ctypes.CFUNCTYPE(c_int, c_void_p, c_int, c_void_p)


# Declared so ctypes passes size_t and pointers at their real width instead of as int.
_SIGNATURES: dict[str, tuple[type | None, list[type]]] = {
    "espeak_Initialize": (c_int, [c_int, c_int, c_char_p, c_int]),
    "espeak_SetSynthCallback": (None, [_SynthCallback]),
    "espeak_SetVoiceByName": (c_int, [c_char_p]),
    "espeak_SetParameter": (c_int, [c_int, c_int, c_int]),
    # text, size, position, position type, end position, flags, unique id, user data
    "espeak_Synth": (
        c_int,
        [c_char_p, c_size_t, c_uint, c_int, c_uint, c_uint, c_void_p, c_void_p],
    ),
    "espeak_Synchronize": (c_int, []),
}


@dataclass(slots=True)
class _Take:
    """One scene as espeak spoke it: samples and (0-based character index, ms) per WORD event."""

    samples: array.array[int]
    events: list[tuple[int, int]]


class _Engine:
    """The process's espeak instance. Every method must be called with ``_lock`` held."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise ProviderError(f"cannot load libespeak-ng: {exc}", provider=PROVIDER) from exc
        for function, (restype, argtypes) in _SIGNATURES.items():
            getattr(lib, function).restype = restype
            getattr(lib, function).argtypes = argtypes

        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise ProviderError(f"espeak_Initialize failed ({rate})", provider=PROVIDER)
        self._lib = lib
        self.sample_rate: int = rate
        self._take = _Take(array.array("h"), [])
        self._failure: Exception | None = None
        # espeak keeps only the raw function pointer; this reference keeps the thunk alive.
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)
        logger.info("espeak-ng initialised at %d Hz from %s", rate, data_path)

    def _on_synth(self, wav: int | None, count: int, events: int | None) -> int:
        # An exception cannot cross the C frames above us: keep it, ask espeak to stop (1).
        try:
            if wav and count > 0:
                self._take.samples.frombytes(ctypes.string_at(wav, count * 2))
            address = events
            while address:
                event = _Event.from_address(address)
                if event.type == _EVENT_LIST_TERMINATED:
                    break
                if event.type == _EVENT_WORD:
                    self._take.events.append((event.text_position - 1, event.audio_position))
                address += ctypes.sizeof(_Event)
        except Exception as exc:
            self._failure = exc
            return 1
        return 0

    def select(self, names: list[str], rate: int) -> str:
        """Sets the first voice espeak knows out of ``names``; returns its name."""
        chosen = next((name for name in names if self._set_voice(name)), None)
        if chosen is None:
            raise InputError(f"espeak has no voice {names[-1]!r}", params={"voice": names[-1]})
        clamped = min(max(rate, _RATE_MIN), _RATE_MAX)
        if clamped != rate:
            logger.warning("espeak rate %d wpm clamped to %d", rate, clamped)
        self._lib.espeak_SetParameter(_PARAM_RATE, clamped, 0)
        return chosen

    def _set_voice(self, name: str) -> bool:
        # ctypes would silently cut a name at NUL and could pick a voice nobody asked for.
        found = "\x00" not in name and name.isascii()
        if found:
            found = self._lib.espeak_SetVoiceByName(name.encode()) == _EE_OK
        if not found:
            logger.warning("espeak has no voice %r", name)
        return found

    def speak(self, text: str) -> _Take:
        self._take = _Take(array.array("h"), [])
        self._failure = None
        data = text.encode()
        status = self._lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self._lib.espeak_Synchronize()
        if self._failure is not None:
            raise ProviderError(
                f"synthesis callback failed: {self._failure}", provider=PROVIDER
            ) from self._failure
        if status != _EE_OK:
            raise ProviderError(f"espeak_Synth returned {status}", provider=PROVIDER)
        return self._take


_lock = threading.Lock()
_engine: _Engine | None = None


def _engine_locked() -> _Engine:
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


class EspeakSynth:
    """SpeechSynth adapter: espeak-ng voices, real word timings, scenes split by a pause."""

    name = PROVIDER

    def __init__(self, *, scene_pause: float = 0.45) -> None:
        self._scene_pause = max(scene_pause, 0.0)

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover:
        names = [voice.voice] if voice.voice else []
        default = catalog.ESPEAK_VOICES.get(voice.language)
        if default is not None:
            # A voice picked for a cloud engine means nothing to espeak, and as the last
            # fallback it must still speak.
            names.append(default)
        if not names:
            raise InputError(
                f"no espeak voice for language {voice.language!r}",
                code="error.language",
                params={"language": voice.language},
            )
        words = script_words(script)
        if not words:
            raise InputError("the script has no narration to speak")
        began = time.perf_counter()
        voiceover = await asyncio.to_thread(
            self._synthesize, script, words, names, voice.rate, out_dir / "voice.wav"
        )
        logger.info(
            "espeak spoke %d words, %.1f s of audio in %.2f s",
            len(words),
            voiceover.duration,
            time.perf_counter() - began,
        )
        return voiceover

    def _synthesize(
        self, script: Script, words: list[ScriptWord], names: list[str], rate: int, path: Path
    ) -> Voiceover:
        scenes = sorted({word.scene for word in words})
        with _lock:
            engine = _engine_locked()
            chosen = engine.select(names, rate)
            takes = [engine.speak(_speakable(script.scenes[i].narration)) for i in scenes]
        sample_rate = engine.sample_rate
        offsets = _scene_offsets(script)
        pause = array.array("h", bytes(2 * round(self._scene_pause * sample_rate)))

        samples: array.array[int] = array.array("h")
        starts: list[float] = []
        events = 0
        for scene, take in zip(scenes, takes, strict=True):
            chunk = _trim_tail(take.samples, sample_rate)
            if samples and chunk:
                samples.extend(pause)
            spans = [
                (w.start - offsets[scene], w.end - offsets[scene])
                for w in words
                if w.scene == scene
            ]
            origin = len(samples) / sample_rate
            local = _local_starts(spans, take.events, len(chunk) / sample_rate)
            starts.extend(origin + start for start in local)
            samples.extend(chunk)
            events += len(take.events)
        if not samples:
            raise InputError("espeak found nothing to say in the script")

        duration = len(samples) / sample_rate
        starts = _settle(starts, duration)
        ends = _ends(samples, sample_rate, starts, duration)
        _write_wav(path, samples, sample_rate)
        logger.debug("espeak voice %s: %d WORD events for %d words", chosen, events, len(words))
        return Voiceover(
            audio_path=path,
            duration=duration,
            words=[
                WordTiming(text=word.text, start=start, end=end, scene=word.scene)
                for word, start, end in zip(words, starts, ends, strict=True)
            ],
            provider=PROVIDER,
            sample_rate=sample_rate,
        )


def _speakable(text: str) -> str:
    """The text as espeak may see it, one character for each of the script's characters."""
    return "".join(
        " " if (unicodedata.category(char) in ("Cc", "Cs") and char not in _KEPT_CONTROLS) else char
        for char in text
    )


def _scene_offsets(script: Script) -> list[int]:
    """Where each scene starts in Script.narration, the text ScriptWord offsets point into."""
    offsets, position = [], 0
    for scene in script.scenes:
        offsets.append(position)
        position += len(scene.narration) + len(SCENE_SEPARATOR)
    return offsets


def _local_starts(
    spans: list[tuple[int, int]], events: list[tuple[int, int]], speech_end: float
) -> list[float]:
    """Seconds into the scene's audio at which each word (given by its character span) starts.

    A WORD event anchors the word whose characters hold its text position. espeak merges short
    words into a neighbour ("of the" is one event) and a number can raise several events, so
    words without an anchor share the time between the anchors around them by character count.
    """
    begins = [begin for begin, _ in spans]
    anchors: dict[int, float] = {}
    last_index, last_time = -1, 0.0
    for position, ms in events:
        index = bisect_right(begins, position) - 1
        # Events in the gaps between words (an emoji's spoken name) or out of order carry no start.
        if index <= last_index or position >= spans[index][1] or ms / 1000 < last_time:
            continue
        anchors[index] = last_time = ms / 1000
        last_index = index

    points = sorted(anchors.items())
    if not points or points[0][0] != 0:
        points.insert(0, (0, 0.0))
    points.append((len(spans), max(speech_end, points[-1][1])))
    starts: list[float] = []
    for (first, begin), (stop, end) in zip(points, points[1:], strict=False):
        weights = [spans[i][1] - spans[i][0] + 1 for i in range(first, stop)]
        total, done = sum(weights), 0
        for weight in weights:
            starts.append(begin + (end - begin) * done / total)
            done += weight
    return starts


def _settle(starts: list[float], duration: float) -> list[float]:
    """Strictly increasing starts, at least a small gap apart, that leave room before the end."""
    gap = min(_MIN_GAP, duration / (len(starts) + 1))
    settled: list[float] = []
    floor = 0.0
    for start in starts:
        settled.append(max(start, floor))
        floor = settled[-1] + gap
    ceiling = duration
    for index in range(len(settled) - 1, -1, -1):
        settled[index] = ceiling = min(settled[index], ceiling - gap)
    return settled


def _ends(
    samples: array.array[int], sample_rate: int, starts: list[float], duration: float
) -> list[float]:
    """Each word ends where the next begins, or earlier where the audio falls silent before it."""
    frame = max(1, round(sample_rate * _FRAME))
    ends: list[float] = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else duration
        low, high = int(start * sample_rate), int(limit * sample_rate)
        silent_from = _silence_before(samples, low, high, frame)
        end = limit
        if high - silent_from >= _MIN_PAUSE * sample_rate:
            end = silent_from / sample_rate + _HANGOVER
        ends.append(min(max(end, start + _MIN_WORD), limit))
    return ends


def _trim_tail(samples: array.array[int], sample_rate: int) -> array.array[int]:
    """The take without its trailing silence, so the scene pause alone sets the gap; a take that
    is all silence (punctuation only) becomes empty rather than a stray pause."""
    speech_end = _silence_before(samples, 0, len(samples), max(1, round(sample_rate * _FRAME)))
    if speech_end == 0:
        return samples[:0]
    return samples[: min(len(samples), speech_end + round(_SCENE_TAIL * sample_rate))]


def _silence_before(samples: array.array[int], low: int, high: int, frame: int) -> int:
    """The sample index where the silence that runs up to ``high`` begins (``high`` if none)."""
    position = high
    threshold = _SILENCE_RMS * _SILENCE_RMS
    while position > low:
        begin = max(low, position - frame)
        window = samples[begin:position]
        if sum(map(operator.mul, window, window)) > threshold * len(window):
            break
        position = begin
    # Frames alone would let pauses drift by up to 10 ms between runs; settle on the sample.
    while position > low and abs(samples[position - 1]) <= _SILENCE_RMS:
        position -= 1
    return position


def _write_wav(path: Path, samples: array.array[int], sample_rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()

    def write(out: BinaryIO) -> None:
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.tobytes())

    # A job resumed after a crash must never find a half-written voice.wav.
    atomic_write(path, write)
