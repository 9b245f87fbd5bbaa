"""What a card says: the scene's hint, the narration's key phrase or the title, cleaned."""

from __future__ import annotations

import re
import unicodedata

from ...models import Script

_MARKUP = re.compile(r"\{[^}]*\}|<[^>]*>")
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+|[.,]\d+)*")
_SENTENCE_END = set(".!?…¡¿:;")
# en, ru and es words too common to headline a card.
_STOP_WORDS_TEXT = """
a an the and or but if of to in on at by for with from as is are was were be been being it its
this that these those there their they them he she his her we our you your i not no so than then
also into over about after before under between which who what when where why how has have had
do does did can could will would may might must should very just more most such only other some
any each all both many much one every s и в во не что он на я с со как а то все она так его но
да ты к у же вы за бы по только ее было вот от еще нет о из ему когда даже ли если уже или ни
быть был до там потом себя может они тут где есть для мы их чем была сам без тоже под будет
тогда кто этот того потому этого этом почти тем чтобы были всех можно при после над больше тот
через эти про всего них много эту этой перед такой им более всегда между это эта свой которые
который которая el la los las un una unos unas y o pero si de del al en con por para sin sobre
entre es son fue fueron ser era eran está están este esta estos estas ese esa eso lo le les se
su sus que qué como cómo cuando muy más menos también ya ni hay tiene tienen nos mi tu
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def clean_text(text: str) -> str:
    """Printable text only: no markup, controls or symbols the shipped fonts cannot draw."""
    text = _MARKUP.sub(" ", unicodedata.normalize("NFC", text))
    kept = (
        " " if unicodedata.category(ch)[0] in "CZ" else ch
        for ch in text
        if unicodedata.category(ch) not in {"So", "Cs", "Co", "Cn", "Mn"}
    )
    return " ".join("".join(kept).split())


def _clauses(text: str) -> list[list[tuple[str, str]]]:
    """Words per clause with their kind: s(top word), n(umber), c(apitalised, a name) or w(ord)."""
    clauses: list[list[tuple[str, str]]] = [[]]
    last_end, initial = 0, True
    for match in _TOKEN.finditer(text):
        gap, word = text[last_end : match.start()], match.group()
        if gap.strip() and clauses[-1]:
            clauses.append([])
        initial = initial or any(ch in _SENTENCE_END for ch in gap)
        kind = "n" if any(ch.isdigit() for ch in word) else "c" if word[0].isupper() else "w"
        clause = clauses[-1]
        if word.casefold() in STOP_WORDS:
            kind = "s"
        elif clause and clause[-1][1] == "C":  # a sentence's first word is a name if one follows
            clause[-1] = (clause[-1][0], "c" if kind == "c" else "w")
        clause.append((word, "C" if kind == "c" and initial else kind))
        initial, last_end = False, match.end()
    return [[(w, "w" if k == "C" else k) for w, k in clause] for clause in clauses]


def _joined(clause: list[tuple[str, str]], a: int, b: int) -> bool:
    """Whether words a..b are one unit that a phrase must not cut: "14 years", "University of
    Tokyo"."""
    if a < 0 or b >= len(clause):
        return False
    return "".join(kind for _, kind in clause[a : b + 1]) in {"nw", "nc", "cc", "csc"}


_SALIENCE = {"s": -0.3, "n": 3.2, "c": 2.7, "w": 0.2}


def key_phrase(narration: str) -> str:
    """The most salient run of 1-5 words inside one clause: it starts and ends on content words,
    holds at most one stop word, keeps names and numbers whole, and prefers capitals (not
    sentence-initial), numbers and a clause's end (where the object usually sits in en/ru/es)."""
    best, best_score = "", 0.0
    for clause in _clauses(clean_text(narration)):
        for i in range(len(clause)):
            if clause[i][1] == "s" or _joined(clause, i - 1, i) or _joined(clause, i - 2, i):
                continue
            for j in range(i, min(i + 5, len(clause))):
                window = clause[i : j + 1]
                if window[-1][1] == "s" or sum(kind == "s" for _, kind in window) > 1:
                    continue
                if _joined(clause, j, j + 1) or _joined(clause, j, j + 2):
                    continue
                score = sum(_SALIENCE[k] + (k != "s") * min(len(w), 12) / 20 for w, k in window)
                score += 0.3 if j == len(clause) - 1 else 0
                if score > best_score:
                    best, best_score = " ".join(word for word, _ in window), score
    return best[:1].upper() + best[1:]


def _alphabets(text: str) -> set[str]:
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


def headline_text(script: Script, scene: int) -> str:
    """The scene's hint, unless it is in another alphabet than the narration (the script writer
    words its search queries in English whatever the language); else the narration's key phrase;
    else the title."""
    narration, hint = script.scenes[scene].narration, clean_text(script.scenes[scene].visual_query)
    if hint and _alphabets(hint) <= (_alphabets(narration) or _alphabets(hint)):
        return hint[:1].upper() + hint[1:]
    return key_phrase(narration) or clean_text(script.title)
