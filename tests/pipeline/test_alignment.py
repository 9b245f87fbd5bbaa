from __future__ import annotations

import random

import pytest

from pipeline.alignment import match_recognised, words_from_characters
from pipeline.models import Scene, Script, WordTiming
from pipeline.text import script_words


def make_script(*scenes: str, language: str = "en") -> Script:
    return Script(title="t", language=language, scenes=[Scene(narration=s) for s in scenes])


def assert_well_formed(script: Script, timings: list[WordTiming]) -> None:
    words = script_words(script)
    assert [(t.text, t.scene) for t in timings] == [(w.text, w.scene) for w in words]
    previous_end = 0.0
    for timing in timings:
        assert timing.start >= previous_end, timing
        assert timing.end > timing.start, timing
        previous_end = timing.end


def uniform(text: str, step: float = 0.1) -> tuple[list[str], list[float], list[float]]:
    """Character i spoken from i*step to (i+1)*step."""
    return (
        list(text),
        [i * step for i in range(len(text))],
        [(i + 1) * step for i in range(len(text))],
    )


def spans(timings: list[WordTiming]) -> list[tuple[str, float, float]]:
    return [(t.text, t.start, t.end) for t in timings]


# --- characters (ElevenLabs)


def test_characters_map_to_words_across_punctuation_and_scenes() -> None:
    script = make_script("Hello, world!", "Second scene.")
    timings = words_from_characters(script, *uniform(script.narration))
    assert_well_formed(script, timings)
    # "Hello," is timed by its letters: the comma's time is the pause after it.
    assert spans(timings) == [
        ("Hello,", 0.0, 0.5),
        ("world!", 0.7, 1.2),
        ("Second", 1.5, 2.1),
        ("scene.", 2.2, 2.7),
    ]
    assert [t.scene for t in timings] == [0, 0, 1, 1]


def test_characters_in_cyrillic() -> None:
    script = make_script("Ёжик в тумане.", "Всё хорошо!", language="ru")
    timings = words_from_characters(script, *uniform(script.narration))
    assert_well_formed(script, timings)
    assert spans(timings)[0] == ("Ёжик", 0.0, 0.4)
    assert spans(timings)[3] == ("Всё", 1.6, 1.9)


def test_multi_character_entries() -> None:
    script = make_script("ab cd")
    timings = words_from_characters(script, ["ab", " ", "cd"], [0.0, 0.5, 0.6], [0.5, 0.6, 1.0])
    assert spans(timings) == [("ab", 0.0, 0.5), ("cd", 0.6, 1.0)]


def test_characters_that_differ_from_the_text_are_matched() -> None:
    # The engine dropped the scene break and spelled out the number.
    script = make_script("It has 8 legs.", "Really.")
    spoken = "It has eight legs. Really."
    timings = words_from_characters(script, *uniform(spoken))
    assert_well_formed(script, timings)
    by_word = {t.text: t for t in timings}
    assert (by_word["legs."].start, by_word["legs."].end) == (1.3, 1.7)
    assert (by_word["Really."].start, by_word["Really."].end) == (1.9, 2.5)
    # "8" had no characters of its own: it fills the gap between its neighbours.
    assert by_word["has"].end <= by_word["8"].start < by_word["8"].end <= by_word["legs."].start


def test_punctuation_only_word_gets_a_time() -> None:
    script = make_script("Wait — what?")
    timings = words_from_characters(script, *uniform(script.narration))
    assert_well_formed(script, timings)
    assert spans(timings)[1] == ("—", 0.5, 0.6)


def test_characters_lists_of_different_length_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        words_from_characters(make_script("a b"), ["a", " ", "b"], [0.0, 0.1], [0.1, 0.2, 0.3])


def test_empty_script_gives_no_words() -> None:
    assert words_from_characters(make_script("  "), [" ", " "], [0.0, 0.1], [0.1, 0.2]) == []


def test_disordered_engine_times_still_give_well_formed_timings() -> None:
    script = make_script("one two three")
    characters, starts, ends = uniform(script.narration)
    starts[4], ends[6] = 5.0, 0.2  # nonsense for "two"
    assert_well_formed(script, words_from_characters(script, characters, starts, ends))


# --- recognised words (Whisper)

SENTENCE = "Octopuses have three hearts, and to the surprise of many, blue blood."


def heard(*items: tuple[str, float, float]) -> list[tuple[str, float, float]]:
    return list(items)


def test_exact_recognition_keeps_times_and_script_spelling() -> None:
    script = make_script("Hello, World!")
    timings = match_recognised(script, heard(("hello", 0.1, 0.4), ("world", 0.5, 0.9)))
    assert spans(timings) == [("Hello,", 0.1, 0.4), ("World!", 0.5, 0.9)]


def test_misspelled_words_keep_their_slot() -> None:
    script = make_script("The octopus has three hearts")
    recognised = heard(
        ("The", 0.0, 0.2), ("octopuss", 0.2, 0.8), ("has", 0.8, 1.0), ("tree", 1.0, 1.3),
        ("hearts", 1.3, 1.8),
    )  # fmt: skip
    timings = match_recognised(script, recognised)
    assert spans(timings) == [
        ("The", 0.0, 0.2),
        ("octopus", 0.2, 0.8),
        ("has", 0.8, 1.0),
        ("three", 1.0, 1.3),
        ("hearts", 1.3, 1.8),
    ]


def test_merged_words_are_split_by_their_letters() -> None:
    script = make_script("go to the sea")
    timings = match_recognised(
        script, heard(("go", 0.0, 0.3), ("tothe", 0.4, 0.9), ("sea", 1.0, 1.4))
    )
    assert_well_formed(script, timings)
    assert spans(timings)[1] == ("to", 0.4, 0.6)
    assert spans(timings)[2] == ("the", 0.6, 0.9)


def test_split_word_spans_both_pieces() -> None:
    script = make_script("a football match")
    timings = match_recognised(
        script,
        heard(("a", 0.0, 0.1), ("foot", 0.2, 0.5), ("ball", 0.5, 0.8), ("match", 0.9, 1.3)),
    )
    assert spans(timings)[1] == ("football", 0.2, 0.8)


def test_missing_words_are_interpolated_between_neighbours() -> None:
    script = make_script("one two three four")
    timings = match_recognised(script, heard(("one", 0.0, 0.3), ("four", 1.5, 1.9)))
    assert_well_formed(script, timings)
    two, three = timings[1], timings[2]
    assert 0.3 <= two.start < two.end <= three.start < three.end <= 1.5
    # Proportional to length: "three" is longer than "two".
    assert three.end - three.start > two.end - two.start


def test_missing_word_with_no_gap_borrows_time_from_its_neighbour() -> None:
    script = make_script("a big whale")
    timings = match_recognised(script, heard(("a", 0.0, 0.1), ("whale", 0.1, 0.6)))
    assert_well_formed(script, timings)
    assert timings[1].end - timings[1].start >= 0.05


def test_extra_recognised_words_are_ignored() -> None:
    script = make_script("blue blood")
    recognised = heard(("um", 0.0, 0.2), ("blue", 0.3, 0.6), ("uh", 0.6, 0.7), ("blood", 0.8, 1.1))
    assert spans(match_recognised(script, recognised)) == [
        ("blue", 0.3, 0.6),
        ("blood", 0.8, 1.1),
    ]


def test_numbers_said_as_words_take_their_span() -> None:
    script = make_script("in 1969 they landed")
    recognised = heard(
        ("in", 0.0, 0.2), ("nineteen", 0.3, 0.7), ("sixty", 0.7, 1.0), ("nine", 1.0, 1.3),
        ("they", 1.4, 1.6), ("landed", 1.6, 2.0),
    )  # fmt: skip
    timings = match_recognised(script, recognised)
    assert_well_formed(script, timings)
    assert (timings[1].start, timings[1].end) == (0.2, 1.4)


def test_cyrillic_with_yo_and_case_differences() -> None:
    script = make_script("Всё хорошо, Ёжик!", "Идём домой.", language="ru")
    recognised = heard(
        ("все", 0.0, 0.3), ("хорошо", 0.3, 0.8), ("ежик", 0.9, 1.3), ("идем", 1.8, 2.1),
        ("до", 2.1, 2.2), ("мой", 2.2, 2.5),
    )  # fmt: skip
    timings = match_recognised(script, recognised)
    assert_well_formed(script, timings)
    assert spans(timings) == [
        ("Всё", 0.0, 0.3),
        ("хорошо,", 0.3, 0.8),
        ("Ёжик!", 0.9, 1.3),
        ("Идём", 1.8, 2.1),
        ("домой.", 2.1, 2.5),
    ]
    assert [t.scene for t in timings] == [0, 0, 0, 1, 1]


def test_nothing_recognised_spreads_words_over_the_audio() -> None:
    script = make_script("one two three", "four")
    timings = match_recognised(script, [], duration=2.0)
    assert_well_formed(script, timings)
    assert timings[0].start == 0.0 and timings[-1].end == pytest.approx(2.0)


def test_missing_first_and_last_words() -> None:
    script = make_script(SENTENCE)
    words = [w.text for w in script_words(script)]
    recognised = [(word, 0.5 + i * 0.3, 0.5 + i * 0.3 + 0.25) for i, word in enumerate(words)]
    timings = match_recognised(script, recognised[1:-1], duration=5.0)
    assert_well_formed(script, timings)
    assert timings[0].end <= recognised[1][1]
    assert timings[-1].start >= recognised[-2][2] and timings[-1].end <= 5.0


def test_recognised_punctuation_tokens_are_skipped() -> None:
    script = make_script("yes, no")
    timings = match_recognised(script, heard(("yes", 0.0, 0.3), (",", 0.3, 0.3), ("no", 0.4, 0.6)))
    assert spans(timings) == [("yes,", 0.0, 0.3), ("no", 0.4, 0.6)]


def test_overlapping_recognised_times_are_made_consecutive() -> None:
    script = make_script("one two three")
    recognised = heard(("one", 0.0, 0.5), ("two", 0.4, 0.45), ("three", 0.3, 0.9))
    assert_well_formed(script, match_recognised(script, recognised))


@pytest.mark.parametrize("seed", range(40))
def test_random_recognitions_always_give_well_formed_timings(seed: int) -> None:
    rng = random.Random(seed)
    script = make_script(SENTENCE, "Всё хорошо — 42 раза!", "y 3 más.", language="ru")
    recognised: list[tuple[str, float, float]] = []
    cursor = rng.uniform(0.0, 0.5)
    for word in script_words(script):
        choice = rng.random()
        if choice < 0.15:
            continue  # dropped
        text = word.text if choice < 0.7 else word.text[::-1] if choice < 0.85 else "uh"
        length = rng.uniform(0.0, 0.4)
        recognised.append((text, cursor, cursor + length))
        cursor += length + rng.uniform(-0.1, 0.2)  # sometimes overlapping
    if seed % 5 == 0:
        rng.shuffle(recognised)  # a recogniser out of order
    assert_well_formed(script, match_recognised(script, recognised, duration=cursor + 0.5))
    characters, starts, ends = uniform(script.narration)
    keep = sorted(rng.sample(range(len(characters)), k=len(characters) // 2))
    timings = words_from_characters(
        script, [characters[i] for i in keep], [starts[i] for i in keep], [ends[i] for i in keep]
    )
    assert_well_formed(script, timings)
