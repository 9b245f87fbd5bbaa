"""Offline music and effects, synthesised by the project itself (no recording, no licence).

The bed is a short, loopable-feeling piece: one chord per bar from a few common progressions,
played by three soft layers and a light pulse:

- a pad (detuned, gently rolled-off harmonics, slow attack) holding the chord;
- a bass on the root, half notes, warm (sine and a touch of its octave);
- a plucked arpeggio (electric-piano-like: bright attack, quick decay) on the eighths;
- after the intro, a soft kick on beats 1 and 3 and a quiet shaker on the off-beats.

Everything goes through a short synthetic room (convolution with decaying noise) and stays
in the mid register, where it leaves room for a voice. The recipe (progression, key, tempo,
arpeggio pattern) comes from a seed, so the same reel always gets the same bed, and different
reels get different ones. Effects: a filtered-noise whoosh for cuts and a soft low hit for
the title.
"""

from __future__ import annotations

import asyncio
import logging
import random
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .. import cpu
from ..files import atomic_write

logger = logging.getLogger(__name__)

PROVIDER = "synth"
RATE = 48_000
_TAU = 2 * np.pi

# Chords as (semitones above the key's root, minor?) per bar.
PROGRESSIONS: dict[str, tuple[tuple[int, bool], ...]] = {
    "I-V-vi-IV": ((0, False), (7, False), (9, True), (5, False)),
    "vi-IV-I-V": ((9, True), (5, False), (0, False), (7, False)),
    "I-vi-IV-V": ((0, False), (9, True), (5, False), (7, False)),
    "IV-I-V-vi": ((5, False), (0, False), (7, False), (9, True)),
    "i-VI-III-VII": ((0, True), (8, False), (3, False), (10, False)),
}
# Which progressions suit a mood; the seed picks among them.
MOOD_PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "uplifting": ("I-V-vi-IV", "I-vi-IV-V", "IV-I-V-vi"),
    "curious": ("vi-IV-I-V", "I-V-vi-IV", "IV-I-V-vi"),
    "calm": ("I-vi-IV-V", "IV-I-V-vi"),
    "serious": ("i-VI-III-VII", "vi-IV-I-V"),
}
MOOD_TEMPOS: dict[str, tuple[int, ...]] = {
    "uplifting": (96, 104),
    "curious": (88, 96),
    "calm": (76, 84),
    "serious": (80, 88),
}
# Key roots as MIDI notes (C4 = 60): F3..A3, so the pad sits around middle C.
_ROOTS = (53, 55, 57, 58, 60)
_ARPEGGIOS = ((0, 1, 2, 1, 3, 2, 1, 2), (0, 2, 1, 2, 3, 2, 1, 0), (0, 1, 2, 3, 2, 1, 2, 1))


@dataclass(frozen=True, slots=True)
class Recipe:
    progression: str
    root: int  # MIDI note
    tempo: int  # beats per minute, 4/4, one chord per bar
    arpeggio: tuple[int, ...]

    @classmethod
    def choose(cls, mood: str, seed: int) -> Recipe:
        rng = random.Random(seed)
        names = MOOD_PROGRESSIONS.get(mood, MOOD_PROGRESSIONS["curious"])
        tempos = MOOD_TEMPOS.get(mood, MOOD_TEMPOS["curious"])
        return cls(
            progression=rng.choice(names),
            root=rng.choice(_ROOTS),
            tempo=rng.choice(tempos),
            arpeggio=rng.choice(_ARPEGGIOS),
        )

    def describe(self) -> str:
        return f"{self.progression}@{self.root}/{self.tempo}bpm/{''.join(map(str, self.arpeggio))}"


def _hz(note: float) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def _chord_notes(root: int, offset: int, minor: bool) -> list[int]:
    """A close voicing kept between the key's root and an octave and a fifth above it."""
    base = root + offset
    if base >= root + 7:
        base -= 12  # keep the pad in one register: voice-lead down, not up
    third = 3 if minor else 4
    return [base, base + third, base + 7, base + 12]


_TABLE = 4096


@lru_cache(maxsize=256)
def _tone(freq: float, n: int, harmonics: tuple[float, ...], detune: float = 0.0) -> np.ndarray:
    """``n`` samples of a harmonic tone, read from one period's wavetable (a handful of
    sines per sample would dominate the bed's cost). Cached: a loop repeats its notes."""
    period = np.arange(_TABLE) / _TABLE
    table = np.zeros(_TABLE)
    for k, amp in enumerate(harmonics, start=1):
        if freq * k >= RATE / 2.5:
            break
        # Fixed, unaligned phases: no sharp attack from all the harmonics peaking at once.
        table += amp * np.sin(_TAU * k * period + (k * 0.7) % 1.0 * _TAU)
    step = freq * (1 + detune) / RATE * _TABLE
    index = (np.arange(n) * step).astype(np.int64) % _TABLE
    tone = table[index]
    tone.flags.writeable = False
    return tone


def _envelope(n: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(n)
    a, r = min(int(attack * RATE), n // 2), min(int(release * RATE), n // 2)
    if a:
        env[:a] = np.sin(np.linspace(0, np.pi / 2, a)) ** 2
    if r:
        env[n - r :] *= np.cos(np.linspace(0, np.pi / 2, r)) ** 2
    return env


def _decay(n: int, seconds: float, attack: float = 0.004) -> np.ndarray:
    t = np.arange(n) / RATE
    env = np.exp(-t / seconds)
    a = int(attack * RATE)
    if a:
        env[:a] *= np.linspace(0, 1, a)
    return env


def _add(track: np.ndarray, start: int, sound: np.ndarray) -> None:
    end = min(start + len(sound), len(track))
    if end > start:
        track[start:end] += sound[: end - start]


_PAD = (1.0, 0.35, 0.16, 0.07, 0.03)
_BASS = (1.0, 0.25, 0.05)
_PLUCK = (1.0, 0.5, 0.12, 0.06)


def _room(dry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small synthetic room: circular convolution with 1.1 s of exponentially decaying
    noise. Circular, because ``dry`` is one loop of the piece: its tail wraps into its start
    exactly as it would when the loop repeats."""
    n = int(1.1 * RATE)
    ir = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.28 * RATE))
    ir[: int(0.012 * RATE)] = 0.0  # pre-delay keeps the attacks dry and clear
    ir /= np.sqrt(np.sum(ir**2))
    # Linear convolution at a power-of-two size (fast), then folded: circular convolution.
    size = 1 << int(np.ceil(np.log2(len(dry) + n)))
    linear = np.fft.irfft(np.fft.rfft(dry, size) * np.fft.rfft(ir, size), size)
    wet = _wrap(linear[: len(dry) + n], len(dry))
    return 0.78 * dry + 0.32 * wet


def _wrap(track: np.ndarray, length: int) -> np.ndarray:
    """Fold everything past ``length`` back onto the start: one seamless loop."""
    loop = track[:length].copy()
    for start in range(length, len(track), length):
        part = track[start : start + length]
        loop[: len(part)] += part
    return loop


def _bar_layers(
    track: np.ndarray, bar: int, notes: list[int], recipe: Recipe, rng: np.random.Generator
) -> None:
    beat = 60.0 / recipe.tempo
    bar_n = round(4 * beat * RATE)
    start = bar * bar_n
    # Pad: the chord over the bar, overlapping the next one a little so changes are legato.
    pad_n = int(bar_n * 1.15)
    pad_env = _envelope(pad_n, 0.35, 0.45)
    for note in notes:
        for detune in (-0.0025, 0.0025):
            _add(track, start, 0.05 * pad_env * _tone(_hz(note), pad_n, _PAD, detune))
    # Bass: the root on beats 1 and 3.
    half = bar_n // 2
    bass = _tone(_hz(notes[0] - 12), half, _BASS) * _envelope(half, 0.02, 0.25)
    bass *= _decay(half, 1.6 * beat, 0.0)
    for step in range(2):
        _add(track, start + step * half, 0.16 * bass)
    # Arpeggio: eighth notes an octave up, velocities a little uneven, like a player's. The
    # second half of the loop plays the pattern backwards, for some variety.
    eighth = bar_n // 8
    pattern = recipe.arpeggio if bar < 4 else recipe.arpeggio[::-1]
    length = int(0.9 * RATE)
    decay = _decay(length, 0.32)
    for step, index in enumerate(pattern):
        note = notes[index % len(notes)] + 12
        velocity = 0.055 * (0.8 + 0.35 * rng.random()) * (1.15 if step % 4 == 0 else 1.0)
        _add(track, start + step * eighth, velocity * _tone(_hz(note), length, _PLUCK) * decay)


def _pulse(bar_n: int, rng: np.random.Generator) -> np.ndarray:
    """One bar of a soft kick on beats 1 and 3 and a quiet shaker on the off-beats."""
    beat_n, eighth = bar_n // 4, bar_n // 8
    bar = np.zeros(bar_n + RATE)
    kick_n = int(0.3 * RATE)
    t = np.arange(kick_n) / RATE
    kick = 0.22 * np.sin(_TAU * (48 * t + 1.5 * (1 - np.exp(-t / 0.05)))) * _decay(kick_n, 0.09)
    shaker_n = int(0.07 * RATE)
    for step in range(4):
        if step % 2 == 0:
            _add(bar, step * beat_n, kick)
        noise = np.diff(rng.standard_normal(shaker_n + 1))  # differencing: a bright hiss
        _add(bar, step * beat_n + eighth, 0.012 * noise * _decay(shaker_n, 0.02, 0.003))
    return _wrap(bar, bar_n)


def _tile(loop: np.ndarray, total: int) -> np.ndarray:
    return np.tile(loop, total // len(loop) + 1)[:total]


def synth_bed(mood: str, seed: int, seconds: float) -> np.ndarray:
    """``seconds`` of music (float mono at ``RATE``), peak-normalised to -6 dBFS.

    Two passes of the progression (8 bars) are synthesised once as a seamless loop and
    repeated; the pulse comes in after two bars and leaves for the last one.
    """
    recipe = Recipe.choose(mood, seed)
    rng = np.random.default_rng(seed)
    total = max(int(seconds * RATE), 1)
    chords = PROGRESSIONS[recipe.progression]
    bar_n = round(4 * 60.0 / recipe.tempo * RATE)
    loop_bars = 2 * len(chords)
    track = np.zeros(loop_bars * bar_n + 2 * RATE)
    for bar in range(loop_bars):
        offset, minor = chords[bar % len(chords)]
        _bar_layers(track, bar, _chord_notes(recipe.root, offset, minor), recipe, rng)
    music = _tile(_room(_wrap(track, loop_bars * bar_n), rng), total)
    pulse = _tile(_room(_pulse(bar_n, rng), rng), total)
    # The pulse: in after two bars (over an eighth), out at the start of the last whole bar
    # (over 30 ms, before that bar's kick), so it never stops mid-sound.
    on, off = 2 * bar_n, (int(np.ceil(total / bar_n)) - 1) * bar_n
    mask = np.zeros(total)
    mask[on:off] = 1.0
    ramp_in = len(mask[on : min(on + bar_n // 8, off)])
    mask[on : on + ramp_in] = np.linspace(0, 1, ramp_in)
    ramp_out = min(int(0.03 * RATE), max(off - on - ramp_in, 0))
    if ramp_out and off <= total:
        mask[off - ramp_out : off] *= np.linspace(1, 0, ramp_out)
    out = music + mask * pulse
    peak = float(np.max(np.abs(out))) or 1.0
    return out * (0.5 / peak)


def synth_whoosh(seconds: float, seed: int = 7) -> np.ndarray:
    """Noise swept through a resonant band that rises then falls; the loudest point is at
    40% of the sound, which is where the cut should land."""
    rng = np.random.default_rng(seed)
    n = max(int(seconds * RATE), 64)
    noise = rng.standard_normal(n)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    # One band-pass per slice of the sound; slices overlap-added with a Hann window.
    out = np.zeros(n)
    hop = 1024
    window = np.hanning(2 * hop)
    for start in range(0, n - hop, hop):
        position = start / n
        centre = 500 + 2500 * np.sin(np.pi * min(position / 0.8, 1.0))
        band = np.exp(-0.5 * ((freqs - centre) / (0.35 * centre)) ** 2)
        segment = np.fft.irfft(spectrum * band, n)[start : start + 2 * hop]
        out[start : start + len(segment)] += segment * window[: len(segment)]
    t = np.arange(n) / n
    envelope = np.where(t < 0.4, (t / 0.4) ** 2, np.exp(-(t - 0.4) / 0.15))
    out *= envelope
    return out * (0.5 / (float(np.max(np.abs(out))) or 1.0))


def synth_hit(seconds: float, seed: int = 11) -> np.ndarray:
    """A soft low hit: a pitched-down sine thump with a felt-like noise attack and a long
    tail, no sharp transient (it sits under the title, not on top of it)."""
    rng = np.random.default_rng(seed)
    n = max(int(seconds * RATE), 64)
    t = np.arange(n) / RATE
    phase = _TAU * (55 * t + 40 * 0.08 * (1 - np.exp(-t / 0.08)))
    body = np.sin(phase) * np.exp(-t / 0.55)
    shimmer = 0.25 * np.sin(_TAU * 220 * t) * np.exp(-t / 0.25)
    noise = np.convolve(rng.standard_normal(n), np.ones(24) / 24, mode="same")
    attack = 0.6 * noise * np.exp(-t / 0.03)
    out = (body + shimmer + attack) * np.minimum(t / 0.008, 1.0)
    out *= _envelope(n, 0.0, min(0.3, seconds / 3))
    return out * (0.5 / (float(np.max(np.abs(out))) or 1.0))


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16-bit mono WAV at ``RATE``, written atomically."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()

    def write(out: BinaryIO) -> None:
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(RATE)
            writer.writeframes(pcm)

    atomic_write(path, write)
    return path


# Effect prompts the offline maker knows; anything else gets the whoosh.
HIT_PROMPTS = ("hit", "boom", "impact")


class SynthSounds:
    """SoundMaker: the offline bed and effects. Never fails on valid input.

    A bed takes about 100 MB of arrays while it is made (a minute at 48 kHz, several layers)
    and a core for a second or so: one is made at a time, so fifty jobs approved at once
    queue for it instead of holding 600 MB and every thread of the default pool."""

    name = PROVIDER

    def __init__(self) -> None:
        self._one_bed = asyncio.Lock()

    def music_prompt(self, mood: str, seed: int) -> str:
        return f"{mood}:{Recipe.choose(mood, seed).describe()}"

    async def music(self, prompt: str, *, mood: str, seed: int, seconds: float, out: Path) -> Path:
        async with self._one_bed:
            samples = await cpu.run(synth_bed, mood, seed, seconds)
            logger.info("synth: %.1f s bed %s", seconds, prompt)
            return await asyncio.to_thread(write_wav, out.with_suffix(".wav"), samples)

    async def effect(self, prompt: str, *, seconds: float, out: Path) -> Path:
        hit = any(word in prompt.lower() for word in HIT_PROMPTS)
        samples = await asyncio.to_thread(synth_hit if hit else synth_whoosh, seconds)
        return await asyncio.to_thread(write_wav, out.with_suffix(".wav"), samples)
