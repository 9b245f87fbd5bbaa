"""Word timings in the script's own words, from whatever timing a voice engine reports.

Two sources: per-character times for the exact text sent (ElevenLabs), and a recogniser's words
(Whisper), which may be spelled differently, split, merged, missing or extra. Either way the
result has one ``WordTiming`` per word of ``script_words(script)``, in order, with starts that
never go back, no overlaps and ``end > start``: the subtitle writer can rely on that.

Pure functions, no SDKs: adapters turn their vendor's answer into plain lists first.
"""

from __future__ import annotations

import io
import unicodedata
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .models import Script, WordTiming
from .text import ScriptWord, normalise, script_words

# Interpolated words get at least this long; below it a karaoke step is not seen.
MIN_WORD = 0.08
# ASS times are centiseconds: words closer than this collapse into one karaoke step.
MIN_STEP = 0.01
# Speaking pace assumed for words that have no neighbour to take a time from.
SECONDS_PER_CHAR = 0.07

Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Heard:
    key: str
    start: float
    end: float


def words_from_characters(
    script: Script,
    characters: Sequence[str],
    starts: Sequence[float],
    ends: Sequence[float],
) -> list[WordTiming]:
    """Word timings from per-character times of the text that was spoken, ``script.narration``.

    A word spans its letters' first start to last end (punctuation is timed loosely by TTS
    engines, so it counts only for words made of nothing else). If the engine's characters
    differ from the narration (trimmed or normalised), they are matched to it character by
    character and words left without characters are interpolated.
    Raises ``ValueError`` if the three lists differ in length.
    """
    if not len(characters) == len(starts) == len(ends):
        raise ValueError(
            f"alignment lists differ in length: {len(characters)} characters,"
            f" {len(starts)} starts, {len(ends)} ends"
        )
    words = script_words(script)
    if not words:
        return []
    narration = script.narration
    spoken = "".join(characters)
    # Each character of the joined text points back at the list entry it came from.
    owner = [index for index, chars in enumerate(characters) for _ in chars]
    if spoken == narration:
        position: dict[int, int] = {i: i for i in range(len(narration))}
    else:
        position = {}
        matcher = SequenceMatcher(None, narration, spoken, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                position[block.a + k] = block.b + k

    spans: list[Span | None] = []
    for word in words:
        mapped = [i for i in range(word.start, word.end) if i in position]
        letters = [i for i in mapped if narration[i].isalnum()]
        chosen = letters or mapped
        if not chosen:
            spans.append(None)
            continue
        first, last = owner[position[chosen[0]]], owner[position[chosen[-1]]]
        spans.append((float(starts[first]), float(ends[last])))
    end_hint = max((float(end) for end in ends), default=None)
    return _timings(words, spans, end_hint)


def match_recognised(
    script: Script,
    recognised: Sequence[tuple[str, float, float]],
    *,
    duration: float | None = None,
) -> list[WordTiming]:
    """Map a recogniser's ``(word, start, end)`` onto the script's words.

    Words are matched by normalised text (case, punctuation, diacritics and ё/е ignored).
    Runs that differ (misspellings, one word heard as two, two heard as one, numbers said
    differently) are matched letter by letter inside the run; script words the recogniser
    missed are interpolated between their neighbours, proportionally to their length.
    ``duration`` (of the audio) bounds words missed at the very end.
    """
    words = script_words(script)
    if not words:
        return []
    heard = [
        _Heard(key, float(start), max(float(start), float(end)))
        for text, start, end in recognised
        if (key := _key(text))
    ]
    keys = [_key(word.text) for word in words]
    spans: list[Span | None] = [None] * len(words)
    matcher = SequenceMatcher(None, keys, [h.key for h in heard], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for offset in range(i2 - i1):
                h = heard[j1 + offset]
                spans[i1 + offset] = (h.start, h.end)
        elif tag == "replace":
            spans[i1:i2] = _match_letters(keys[i1:i2], heard[j1:j2])
    end_hint = duration
    if end_hint is None and heard:
        end_hint = max(h.end for h in heard)
    return _timings(words, spans, end_hint)


def _key(text: str) -> str:
    """Matching key: ``normalise`` plus no diacritics, so 'está'/'esta' and 'ёж'/'еж' meet."""
    decomposed = unicodedata.normalize("NFKD", normalise(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _match_letters(keys: Sequence[str], heard: Sequence[_Heard]) -> list[Span | None]:
    """Spans for a run of script words against a run of heard words that differ in count.

    Each heard word's time is spread evenly over its letters; a script word takes the times of
    the heard letters its own letters matched.
    """
    script_text = "".join(keys)
    heard_text = "".join(h.key for h in heard)
    # For each letter of heard_text: (its start, its end) in seconds.
    letter_times: list[Span] = []
    for h in heard:
        step = (h.end - h.start) / len(h.key)
        letter_times.extend(
            (h.start + step * k, h.start + step * (k + 1)) for k in range(len(h.key))
        )
    matched: dict[int, int] = {}
    matcher = SequenceMatcher(None, script_text, heard_text, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            matched[block.a + k] = block.b + k
    spans: list[Span | None] = []
    offset = 0
    for key in keys:
        hits = [matched[i] for i in range(offset, offset + len(key)) if i in matched]
        offset += len(key)
        spans.append((letter_times[hits[0]][0], letter_times[hits[-1]][1]) if hits else None)
    return spans


def _weight(word: ScriptWord) -> int:
    return max(len(_key(word.text)), 1)


def _timings(
    words: Sequence[ScriptWord], spans: Sequence[Span | None], end_hint: float | None
) -> list[WordTiming]:
    filled = _interpolate(words, list(spans), end_hint)
    timings: list[WordTiming] = []
    previous_end = 0.0
    for word, (start, end) in zip(words, filled, strict=True):
        start = max(start, previous_end)
        end = max(end, start + MIN_STEP)
        timings.append(
            WordTiming(text=word.text, start=round(start, 3), end=round(end, 3), scene=word.scene)
        )
        previous_end = timings[-1].end
    return timings


def _interpolate(
    words: Sequence[ScriptWord], spans: list[Span | None], end_hint: float | None
) -> list[Span]:
    """Fill every ``None`` run from its neighbours, borrowing time from them when the gap is
    too short for the missing words."""
    total = len(words)
    index = 0
    while index < total:
        if spans[index] is not None:
            index += 1
            continue
        run_end = index
        while run_end < total and spans[run_end] is None:
            run_end += 1
        group = list(range(index, run_end))
        left = spans[index - 1] if index > 0 else None
        right = spans[run_end] if run_end < total else None
        needed = sum(max(MIN_WORD, _weight(words[i]) * SECONDS_PER_CHAR / 2) for i in group)
        lo = left[1] if left else 0.0
        if right is not None:
            hi = right[0]
        elif end_hint is not None and end_hint - lo >= needed:
            hi = end_hint
        else:
            hi = lo + sum(_weight(words[i]) * SECONDS_PER_CHAR for i in group)
        if hi - lo < needed and left is not None:
            # Share the left neighbour's time with the missing words.
            group.insert(0, index - 1)
            lo = left[0]
        if hi - lo < needed and right is not None:
            group.append(run_end)
            hi = right[1]
        hi = max(hi, lo + MIN_STEP * len(group))
        for i, span in zip(group, _share(lo, hi, [_weight(words[i]) for i in group]), strict=True):
            spans[i] = span
        index = run_end
    return [span if span is not None else (0.0, 0.0) for span in spans]


def _share(lo: float, hi: float, weights: Sequence[int]) -> list[Span]:
    total = sum(weights)
    spans: list[Span] = []
    cursor = lo
    for weight in weights:
        end = cursor + (hi - lo) * weight / total
        spans.append((cursor, end))
        cursor = end
    return spans


def wav_duration(audio: bytes) -> float | None:
    """Seconds of a WAV file's audio, or None if the bytes are not a readable WAV."""
    try:
        with wave.open(io.BytesIO(audio)) as reader:
            return reader.getnframes() / reader.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        return None
