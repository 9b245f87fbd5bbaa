"""Daily destinations: typed values, clear errors for bad entries."""

from __future__ import annotations

import pytest

from pipeline.destinations import (
    Destination,
    DestinationError,
    Platform,
    parse_destination,
    parse_destinations,
)


def test_entries_become_typed_destinations() -> None:
    found = parse_destinations(
        ["telegram:-1001234567890@en", " discord:112233445566778899@ES ", "telegram:@reel_news"]
    )
    assert found == [
        Destination(Platform.TELEGRAM, "-1001234567890", "en"),
        Destination(Platform.DISCORD, "112233445566778899", "es"),
        Destination(Platform.TELEGRAM, "@reel_news", "en"),
    ]
    assert found[1].key == "discord:112233445566778899"
    assert str(found[1]) == "discord:112233445566778899@es"
    assert parse_destination("telegram:@reel_news@ru") == Destination(
        Platform.TELEGRAM, "@reel_news", "ru"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("slack:123", "must be telegram or discord"),
        ("telegram", "id is missing"),
        ("discord:", "id is missing"),
        ("telegram:-100123@english", "not a language code"),
        ("telegram:chat", "numeric chat id"),
        ("discord:12345", "channel id of 15-20 digits"),
        ("discord:1122334455667788990000", "channel id"),
        ("telegram:@ab", "public @username"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry: str, message: str) -> None:
    with pytest.raises(DestinationError, match=message) as caught:
        parse_destination(entry)
    assert caught.value.code == "error.input"
    assert caught.value.params == {"entry": entry}


def test_the_same_chat_twice_is_an_error_not_two_posts() -> None:
    with pytest.raises(DestinationError, match="already listed"):
        parse_destinations(["telegram:-100123@en", "telegram:-100123@es"])


def test_a_youtube_destination_names_the_user_who_linked_the_channel() -> None:
    from pipeline.destinations import Platform

    found = parse_destination("youtube:telegram:123456789@es")
    assert (found.platform, found.target, found.language) == (
        Platform.YOUTUBE,
        "telegram:123456789",
        "es",
    )
    assert found.key == "youtube:telegram:123456789"
    assert parse_destination("youtube:discord:80351110224678912").language == "en"
    with pytest.raises(DestinationError, match="the user who linked the channel"):
        parse_destination("youtube:UCabc123")
