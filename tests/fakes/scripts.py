"""What the fake LLMs write: one short real script per narration language, about octopuses.

Real sentences, not filler, so the language check (``pipeline.language_id``) sees what a model
would send; short ones (8 words at most), so a scene never has to be cut at the 20-60 s sizes the
tests ask for; and the letters each language needs beyond ASCII (ß, œ, ç, ã, ё, ...) appear.
"""

from __future__ import annotations

import re

OCTOPUS: dict[str, tuple[str, ...]] = {
    "en": (
        "Octopuses have three hearts and blue blood.",
        "Two hearts pump blood to the gills.",
        "The third one sends it to the body.",
        "That heart stops when the octopus swims.",
        "So octopuses prefer to crawl instead.",
        "Their blood is blue because of copper.",
    ),
    "ru": (
        "У осьминога три сердца и голубая кровь.",
        "Два сердца гонят кровь к жабрам.",
        "Третье сердце снабжает всё тело.",
        "Оно замирает, когда осьминог плывёт.",
        "Поэтому осьминоги любят ползать по дну.",
        "Кровь голубая из-за меди в ней.",
    ),
    "es": (
        "Un pulpo pequeño ya tiene tres corazones.",
        "Dos bombean sangre hacia las branquias.",
        "El tercero la envía a todo el cuerpo.",
        "Ese corazón se detiene cuando el pulpo nada.",
        "Por eso prefiere arrastrarse por el fondo.",
        "Su sangre es azul por el cobre.",
    ),
    "de": (
        "Ein Oktopus hat drei Herzen und blaues Blut.",
        "Zwei Herzen pumpen Blut zu den Kiemen.",
        "Das dritte versorgt den übrigen Körper.",
        "Es hört auf, wenn der Oktopus schwimmt.",
        "Deshalb kriecht er lieber über den Meeresboden.",
        "Sein Blut fließt blau, weil es Kupfer enthält.",
    ),
    "fr": (
        "Une pieuvre possède trois cœurs.",
        "Deux cœurs envoient le sang aux branchies.",
        "Le troisième irrigue le reste du corps.",
        "Ce cœur s'arrête quand la pieuvre nage.",
        "Ça explique pourquoi elle préfère ramper.",
        "Son sang est bleu grâce au cuivre.",
    ),
    "it": (
        "Il polpo ha tre cuori e sangue blu.",
        "Due cuori pompano il sangue alle branchie.",
        "Il terzo lo porta a tutto il corpo.",
        "Questo cuore si ferma quando il polpo nuota.",
        "Perciò il polpo preferisce strisciare sul fondo.",
        "Il sangue è blu perché contiene rame.",
    ),
    "pt": (
        "O polvo tem três corações e sangue azul.",
        "Dois corações bombeiam sangue para as brânquias.",
        "O terceiro leva o sangue ao corpo.",
        "Esse coração para quando o polvo nada.",
        "Então ele prefere rastejar no fundo.",
        "O sangue é azul por causa do cobre.",
    ),
}


def octopus(language: str) -> tuple[str, ...]:
    """The script's sentences in ``language``; English for a language the fakes do not write."""
    return OCTOPUS.get(language, OCTOPUS["en"])


_TRANSLATE = re.compile(r"from [^(\n]*\((\w+)\) into [^(\n]*\((\w+)\).*?<<<\n(.*?)\n>>>", re.DOTALL)


def _words(text: str) -> list[str]:
    return [w.strip(".,!?;:«»\"'").casefold() for w in text.split() if w.strip(".,!?;:")]


# The word itself, for titles such as "Octopus".
OCTOPUS_WORD = {
    "en": "Octopus",
    "ru": "Осьминог",
    "es": "Pulpo",
    "de": "Oktopus",
    "fr": "Pieuvre",
    "it": "Polpo",
    "pt": "Polvo",
}


def translate(text: str, source: str, target: str) -> str:
    """What a model would answer: the same octopus sentence in ``target`` (also for a title
    that is a sentence's start); "Octopus" itself; for a text the fakes do not know, the first
    sentence cut to as many words as the text has."""
    said = _words(text)
    if said == _words(OCTOPUS_WORD.get(source, "")):
        return OCTOPUS_WORD.get(target, OCTOPUS_WORD["en"])
    sentences = octopus(source)
    index = next(
        (i for i, s in enumerate(sentences) if said and _words(s)[: len(said)] == said), None
    )
    if index is None:
        return " ".join(octopus(target)[0].split()[: max(1, len(said))])
    answer = octopus(target)[index]
    return answer if text.rstrip().endswith((".", "!", "?")) else answer.rstrip(".")


def translation_asked(prompt: str) -> str | None:
    """The answer to a translation prompt (``pipeline.translation.prompt``), else None."""
    match = _TRANSLATE.search(prompt)
    if match is None:
        return None
    source, target, text = match.groups()
    return translate(text.strip(), source, target)
