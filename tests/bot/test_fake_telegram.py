"""The fake refuses what Telegram refuses, so the bot's escaping is really tested."""

from __future__ import annotations

import pytest

from tests.fakes.telegram import check_html, plain


@pytest.mark.parametrize(
    "text",
    ["<b>bold</b> &amp; <i>it</i>", '<a href="https://x.test/?a=1&amp;b=2">link</a>', "1 &lt; 2"],
)
def test_valid_html(text: str) -> None:
    assert check_html(text) is None


@pytest.mark.parametrize("text", ["a < b", "Tom & Jerry", "<script>x</script>", "<b>open"])
def test_invalid_html(text: str) -> None:
    assert check_html(text) is not None


def test_plain_is_what_users_see() -> None:
    assert plain("<b>a &lt;b&gt;</b> &amp; c") == "a <b> & c"
