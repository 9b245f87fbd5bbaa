"""The offline bed and effects: deterministic, the right length, in key, free of clicks."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.adapters.synth_audio import (
    PROGRESSIONS,
    RATE,
    Recipe,
    synth_bed,
    synth_hit,
    synth_whoosh,
)


def test_the_same_reel_gets_the_same_bed_and_others_differ() -> None:
    one, again = synth_bed("curious", 42, 6.0), synth_bed("curious", 42, 6.0)
    assert np.array_equal(one, again)
    recipes = {
        Recipe.choose(mood, seed).describe() for mood in ("curious", "calm") for seed in range(12)
    }
    assert len(recipes) >= 8  # progressions x keys x tempos x patterns: reels vary


@pytest.mark.parametrize("seconds", [0.5, 3.0, 5.6, 8.1, 11.0, 37.3])
def test_the_bed_is_exactly_as_long_as_asked_and_well_behaved(seconds: float) -> None:
    bed = synth_bed("uplifting", 7, seconds)
    assert len(bed) == int(seconds * RATE)
    assert abs(float(np.max(np.abs(bed))) - 0.5) < 1e-9  # -6 dBFS peak: headroom, no clipping
    # No clicks: a note cut off mid-wave jumps by its amplitude (0.2-0.5 here); the largest
    # step between samples is the shaker's hiss, well under that.
    assert float(np.max(np.abs(np.diff(bed)))) < 0.1


def test_the_bed_plays_the_chords_of_its_key() -> None:
    recipe = Recipe.choose("calm", 3)
    bar = round(4 * 60 / recipe.tempo * RATE)
    bed = synth_bed("calm", 3, 4 * bar / RATE)
    offset, minor = PROGRESSIONS[recipe.progression][1]
    # The second bar's strongest pitch classes are its chord's (root, third, fifth).
    segment = bed[bar + bar // 4 : 2 * bar - bar // 8]
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    freqs = np.fft.rfftfreq(len(segment), 1 / RATE)
    band = (freqs > 100) & (freqs < 1200)
    strongest = freqs[band][np.argsort(spectrum[band])[-6:]]
    classes = {round(12 * np.log2(f / 440.0) + 69) % 12 for f in strongest}
    root = (recipe.root + offset) % 12
    chord = {root, (root + (3 if minor else 4)) % 12, (root + 7) % 12}
    assert classes <= chord, (classes, chord)


def test_effects_have_their_shape() -> None:
    whoosh, hit = synth_whoosh(1.0), synth_hit(2.0)
    assert len(whoosh) == RATE and len(hit) == 2 * RATE
    envelope = np.abs(whoosh).reshape(20, -1).max(axis=1)
    assert 4 <= int(np.argmax(envelope)) <= 12  # swells to ~40%, then fades
    assert envelope[-1] < 0.1 * envelope.max()
    tail = np.abs(hit[int(1.5 * RATE) :]).max()
    assert tail < 0.1 * np.abs(hit).max()  # a hit, not a drone
