"""Which narration language a text is in, or None when that cannot be said with confidence.

The model is py3langid's (the langid.py naive Bayes model, 4.5 MB, shipped inside the wheel),
restricted to the narration languages. It is a draft check: a wrong answer rejects a good draft,
while None only lets a draft through, so every doubt answers None:

- too few letters to judge (a word or two);
- the whole text's probability below ``MIN_CONFIDENCE``;
- mixed text: the sentences the model is sure about disagree, and the main language holds
  less than ``MIN_SHARE`` of their letters.

Loading the model takes about half a second (an xz-compressed numpy archive), so it happens
once, on first use; code on the event loop awaits ``ready()`` first, which loads it in a thread.
A classification then takes well under a millisecond.

The model's byte automaton is a 37 MB transition table, of which a text reads one entry per
byte. It is written once to a file in the temporary folder and read entry by entry (``pread``,
~1 µs each: a few ms for a script), so it stays in the page cache, not in the bot's memory.
Mapping the file instead cost 22 MB of resident pages for a single sentence (the kernel maps
16 pages around every fault).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .catalog import LANGUAGES
from .files import atomic_write

logger = logging.getLogger(__name__)

# Fewer letters than this (about four words) and any guess is noise: "Hola", "OK", "Paris".
MIN_LETTERS = 20
# The model's probabilities are normalised over the seven languages. Real sentences of 5-10
# words score 0.79-1.0 for their language; featureless or foreign text spreads out (1/7 each).
MIN_CONFIDENCE = 0.9
# In mixed text, the main language's share of the letters of the sentences the model is sure of.
MIN_SHARE = 0.75

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

_lock = threading.Lock()
_identifier: Any = None


def load() -> Any:
    """The identifier, loaded on first call (thread-safe). Blocks for ~0.5 s the first time."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            began = time.perf_counter()
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LANGUAGES))
            # The unrestricted model (27 MB) is kept only to restrict it again: never here.
            identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
            identifier.tk_nextmove = _on_disk(identifier.tk_nextmove)
            _identifier = identifier
            logger.info("language model loaded in %.2f s", time.perf_counter() - began)
        return _identifier


class _FileTable:
    """A read-only array of unsigned ints in a file, indexed like the array it was made from."""

    def __init__(self, path: Path, itemsize: int) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._itemsize = itemsize

    def __getitem__(self, index: int) -> int:
        raw = os.pread(self._fd, self._itemsize, index * self._itemsize)
        if len(raw) != self._itemsize:
            raise IndexError(index)
        return int.from_bytes(raw, sys.byteorder)


def _on_disk(table: Any, folder: Path | None = None) -> _FileTable:
    """``table`` (an ``array.array`` of unsigned ints) in a file named by its bytes' hash:
    written once (atomically) and shared by every process on the machine."""
    data = table.tobytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = (folder or Path(tempfile.gettempdir())) / f"reelfactory-langid-{digest}.bin"
    if not path.is_file() or path.stat().st_size != len(data):
        atomic_write(path, data)
    return _FileTable(path, table.itemsize)


async def ready() -> None:
    """Load the model in a thread if it is not loaded yet, so the loop never waits on it."""
    if _identifier is None:
        await asyncio.to_thread(load)


def detect_language(text: str) -> str | None:
    """The narration language ``text`` is written in, or None when unsure (see the module)."""
    if _letters(text) < MIN_LETTERS:
        return None
    identifier = load()
    language, confidence = identifier.classify(text)
    if confidence < MIN_CONFIDENCE:
        logger.debug("language unsure: %s at %.2f", language, confidence)
        return None
    sure: Counter[str] = Counter()
    for sentence in _SENTENCE_END.split(text):
        letters = _letters(sentence)
        if letters < MIN_LETTERS:
            continue
        said, certainty = identifier.classify(sentence)
        if certainty >= MIN_CONFIDENCE:
            sure[said] += letters
    total = sum(sure.values())
    if total and sure[language] / total < MIN_SHARE:
        logger.debug("language unsure: mixed %s", dict(sure))
        return None
    return str(language)


def _letters(text: str) -> int:
    return sum(char.isalpha() for char in text)
