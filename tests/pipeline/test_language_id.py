"""Language identification on real sentences: the seven narration languages, and "unsure"
(None) for mixed or too-short text rather than a wrong language."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipeline import language_id
from pipeline.language_id import detect_language
from tests.fakes.scripts import OCTOPUS

# Two everyday sentences per language (the length of one scene), on other topics than the
# fakes' octopus script.
SCENES = {
    "en": "The museum opens at nine every morning. My brother lives near the old harbour.",
    "ru": "Музей открывается в девять утра. Мой брат живёт возле старого порта.",
    "es": "El museo abre a las nueve cada mañana. Mi hermano vive cerca del puerto viejo.",
    "de": "Das Museum öffnet jeden Morgen um neun. Mein Bruder wohnt in der Nähe des alten Hafens.",
    "fr": "Le musée ouvre à neuf heures chaque matin. Mon frère habite près du vieux port.",
    "it": "Il museo apre alle nove ogni mattina. Mio fratello abita vicino al vecchio porto.",
    "pt": "O museu abre às nove todas as manhãs. Meu irmão mora perto do porto antigo.",
}
MORE = {
    "en": "Bees can recognise human faces. Honey never spoils if it is sealed.",
    "ru": "Пчёлы умеют узнавать лица людей. Мёд не портится, если его хорошо закрыть.",
    "es": "Las abejas reconocen caras humanas. La miel nunca se estropea si está cerrada.",
    "de": "Bienen können menschliche Gesichter erkennen. Honig verdirbt nie, wenn er gut"
    " verschlossen ist.",
    "fr": "Les abeilles reconnaissent les visages humains. Le miel ne se gâte jamais s'il est"
    " bien fermé.",
    "it": "Le api riconoscono i volti umani. Il miele non si guasta mai se è ben chiuso.",
    "pt": "As abelhas reconhecem rostos humanos. O mel nunca estraga se estiver bem fechado.",
}


@pytest.mark.parametrize("language", sorted(SCENES))
def test_each_narration_language(language: str) -> None:
    assert detect_language(SCENES[language]) == language
    assert detect_language(MORE[language]) == language
    # A whole script, scenes joined as validate() joins them.
    assert detect_language("\n".join(OCTOPUS[language])) == language


@pytest.mark.parametrize(
    "language",
    # The regex guess took German, French and Portuguese drafts for Spanish (or English).
    ["de", "fr", "pt"],
)
def test_languages_the_old_guess_confused(language: str) -> None:
    assert detect_language(" ".join(OCTOPUS[language])) == language


@pytest.mark.parametrize(
    "text",
    [
        # Sentence by sentence, two languages, half and half.
        "Octopuses have three hearts and blue blood. Ein Oktopus hat drei Herzen und blaues Blut.",
        "El pulpo tiene tres corazones y la sangre azul. O polvo tem três corações e sangue azul.",
        "Une pieuvre a trois cœurs et le sang bleu. Il polpo ha tre cuori e il sangue blu.",
        "У осьминога три сердца и голубая кровь. Octopuses have three hearts and blue blood.",
        # Scene by scene.
        "Octopuses have three hearts.\n\nУ осьминога три сердца и голубая кровь.",
        "Two hearts pump blood to the gills. Zwei Herzen pumpen das Blut zu den Kiemen."
        " The third one sends it to the body.",
        # Within one sentence.
        "Der Oktopus hat drei Herzen, mais son sang est bleu.",
    ],
)
def test_mixed_text_is_unsure(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n ",
        "OK",
        "Да",
        "Hola amigo",
        "Ciao a tutti",
        "Merci beaucoup",
        "Guten Tag",
        "Obrigado!",
        "Octopus!",
        "The end.",
        "Привет, как дела?",
        "12345 !!! 678",
        "🐙🐙🐙 🌊",
    ],
)
def test_short_text_is_unsure(text: str) -> None:
    assert detect_language(text) is None


def test_text_in_no_narration_language_is_not_forced_into_one() -> None:
    # Dutch and Polish look like German and Russian's neighbours; the model is restricted to
    # the seven languages, so only its confidence keeps it from naming one of them.
    dutch = "De octopus heeft drie harten en blauw bloed. Twee harten pompen bloed naar de kieuwen."
    polish = "Ośmiornica ma trzy serca i niebieską krew. Dwa serca pompują krew do skrzeli."
    assert detect_language(dutch) is None
    assert detect_language(polish) is None


async def test_ready_loads_the_model_once_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(language_id, "_identifier", None)
    threads: list[threading.Thread] = []
    real_load = language_id.load

    def watched_load() -> object:
        threads.append(threading.current_thread())
        return real_load()

    monkeypatch.setattr(language_id, "load", watched_load)
    await language_id.ready()
    await language_id.ready()
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert language_id._identifier is not None
    assert detect_language(SCENES["it"]) == "it"


def test_the_automaton_is_read_from_a_file_with_the_same_answers(tmp_path: Path) -> None:
    """The 37 MB transition table lives in a file (the page cache), not in the process: the
    file holds the same entries, and a table read from it classifies as the array did."""
    import array

    table = array.array("I", [7, 0, 104_582, 2**32 - 1])
    on_disk = language_id._on_disk(table, tmp_path)
    assert [on_disk[i] for i in range(len(table))] == list(table)
    with pytest.raises(IndexError):
        on_disk[len(table)]
    # Written once: a second load names the same file and leaves it alone.
    [written] = list(tmp_path.iterdir())
    stamp = written.stat().st_mtime_ns
    language_id._on_disk(table, tmp_path)
    assert [p.stat().st_mtime_ns for p in tmp_path.iterdir()] == [stamp]

    identifier = language_id.load()
    assert isinstance(identifier.tk_nextmove, language_id._FileTable)
    assert (
        language_id.detect_language(
            "Octopuses have three hearts and blue blood, which helps them survive in cold water."
        )
        == "en"
    )
