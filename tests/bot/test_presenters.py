"""Chat-agnostic text: limits kept, user text escaped, errors in the user's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.presenters import (
    HTML,
    ProgressBoard,
    error_text,
    format_moment,
    reel_caption,
    script_text,
    stats_text,
)
from locales import translator
from pipeline.errors import InputError, ReelError
from pipeline.models import ProgressEvent, Scene, Script
from pipeline.studio import NotOwner, QuotaExceeded, StageFigures, Stats
from tests.fakes.telegram import check_html, plain

EN, RU = translator("en"), translator("ru")


def test_a_long_script_fits_one_message() -> None:
    script = Script(title="T <1>", scenes=[Scene(narration="w & " * 150)] * 40, hashtags=["#a"])
    text = script_text(script, EN, HTML)
    assert check_html(text) is None
    assert len(plain(text)) <= 4096
    assert "<b>40.</b> w &amp; w" in text and text.count("…") == 40


def test_the_caption_keeps_the_link_and_fits() -> None:
    script = Script(title="x" * 900, scenes=[Scene(narration="a")], hashtags=["#tag"] * 100)
    caption = reel_caption(script, "https://cdn.test/r.mp4?a=1&b=2", EN, HTML)
    assert check_html(caption) is None and len(plain(caption)) <= 1024
    link = '<a href="https://cdn.test/r.mp4?a=1&amp;b=2">Watch and share</a>'
    assert caption.endswith(f"{link}\n\n{EN('reel.ai_disclosure')}")  # the AI line is last


def test_errors_in_the_users_language() -> None:
    reset = datetime.now(UTC).replace(hour=23, minute=59)
    quota = QuotaExceeded("used", limit=5, reset=reset)
    assert error_text(quota, EN) == "Today's render quota (5) is used up. It resets at 23:59 UTC."
    assert error_text(NotOwner("x"), RU).startswith("Кнопками этого ролика")
    # Unknown codes fall back to the nearest known class, then to the generic message.
    assert error_text(InputError("?", code="error.nobody_knows"), EN) == "I can't use that input."
    assert error_text(ReelError("?", code="error.nobody_knows"), EN).startswith("Something")
    assert error_text(RuntimeError("boom"), EN).startswith("Something went wrong")


def test_moments_are_told_in_utc_with_the_date_when_not_today() -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert format_moment(now + timedelta(hours=1), now) == "13:00 UTC"
    assert format_moment(now + timedelta(days=1), now) == "2030-01-02 12:00 UTC"


def test_progress_board() -> None:
    board = ProgressBoard()
    board.update(ProgressEvent("queued", None, 2))
    assert "In the render queue: number 2" in board.text(EN, HTML)
    board.update(ProgressEvent("voice", 0.0))
    board.update(ProgressEvent("render", 0.42))
    text = board.text(EN, HTML)
    assert "✅ Voice" in text and "✅ Subtitles" in text and "⏳ Rendering 42%" in text
    assert "queue" not in text
    board.update(ProgressEvent("done", 1.0))
    assert board.text(EN, HTML).endswith("Done!")


def test_stats_text() -> None:
    stats = Stats(
        since=datetime(2030, 1, 1, tzinfo=UTC),
        jobs=3,
        by_state={"delivered": 2, "failed": 1},
        success_rate=2 / 3,
        stages=[StageFigures("render", 2, 1.5, 2.25)],
    )
    text = plain(stats_text(stats, EN, HTML))
    assert "Today, 2030-01-01 (UTC)" in text and "Success rate: 67%" in text
    assert "render: p50 1.50 s, p95 2.25 s (2 runs)" in text


def test_progress_board_tells_the_estimated_start_and_a_long_wait() -> None:
    board = ProgressBoard()
    board.update(ProgressEvent("queued", None, 3, eta=100.0))
    text = board.text(EN, HTML)
    assert "number 3, starts in about 2 min" in text and "long" not in text
    board.update(ProgressEvent("queued", None, 9, eta=900.0))
    assert "The queue is long right now: your reel should start in about 15 min" in board.text(
        EN, HTML
    )
    board.update(ProgressEvent("render", 0.0))
    assert "queue" not in board.text(EN, HTML)
