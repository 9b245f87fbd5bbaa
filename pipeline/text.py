"""Words of a script, with their scene and position in the joined narration.

Every voice engine reports timings against some text; mapping them onto these words keeps the
subtitles in the script's own spelling whatever the engine heard or merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Script

SCENE_SEPARATOR = "\n\n"
# A word is a run of non-space characters; punctuation stays attached so subtitles read well.
_WORD = re.compile(r"\S+")
_LETTERS = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ScriptWord:
    text: str
    scene: int
    start: int  # character offset in Script.narration
    end: int


def script_words(script: Script) -> list[ScriptWord]:
    words: list[ScriptWord] = []
    offset = 0
    for index, scene in enumerate(script.scenes):
        for match in _WORD.finditer(scene.narration):
            words.append(
                ScriptWord(match.group(), index, offset + match.start(), offset + match.end())
            )
        offset += len(scene.narration) + len(SCENE_SEPARATOR)
    return words


def normalise(word: str) -> str:
    """Lower-case letters and digits only, for matching a recogniser's words to the script's."""
    return _LETTERS.sub("", word.casefold())
