"""The share pages in headless Chromium (Debian's chromium and chromium-driver, installed by
.ci/run), served from moto as from R2: the video's size, play/pause on a tap, unmuting without
leaving the page, and scrolling that snaps to the next reel, which loads on the way.

Screenshots go to the test's tmp_path (phone-sized window)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.app import App
from pipeline.share import write_channel

from .helpers import hostile_script, post_daily, publish_job

# CHROMIUM / CHROMEDRIVER in the environment point at other builds.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = (
    os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
)
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=412,860",
]
WAIT = 20.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"browser test not run: {' and '.join(MISSING)} missing "
        "(apt-get install chromium chromium-driver; .ci/run does)",
    ),
]


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    browser.set_page_load_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()


def until(browser: Any, script: str, what: str) -> Any:
    """Poll ``script`` in the page until it returns something truthy."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT, poll_frequency=0.1).until(
        lambda b: b.execute_script(script), message=f"timed out waiting for {what}"
    )


VIDEO = "document.querySelector('#{id} video')"
PLAYING = VIDEO + ".currentTime > 0.2 && !" + VIDEO + ".paused"


def state(browser: Any, section: str) -> dict[str, Any]:
    result: dict[str, Any] = browser.execute_script(
        "const r=document.getElementById(arguments[0]), v=r.querySelector('video');"
        "return {w: v.videoWidth, h: v.videoHeight, paused: v.paused, muted: v.muted,"
        " src: v.hasAttribute('src'), shown: r.classList.contains('paused'),"
        " href: location.href, marker: window.__marker || null,"
        " top: document.querySelector('main').scrollTop, screen: window.innerHeight,"
        " current: document.body.dataset.current || null}",
        section,
    )
    return result


def shot(browser: Any, path: Path) -> Path:
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    return path


def share_page(browser: Any, url: str, out: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(url)
    until(browser, "return " + PLAYING.format(id="r0"), "the muted autoplay")
    first = state(browser, "r0")
    assert (first["w"], first["h"]) == (720, 1280)
    assert first["muted"] and not first["shown"]
    shot(browser, out / "share-playing.png")

    video = browser.find_element(By.CSS_SELECTOR, "#r0 video")
    ActionChains(browser).move_to_element(video).click().perform()  # a tap: pause
    until(browser, "return " + VIDEO.format(id="r0") + ".paused", "the pause")
    assert state(browser, "r0")["shown"]  # the play sign is up
    shot(browser, out / "share-paused.png")
    ActionChains(browser).move_to_element(video).click().perform()  # again: play
    until(browser, "return !" + VIDEO.format(id="r0") + ".paused", "play again")

    browser.execute_script("window.__marker = 'still here'")
    browser.find_element(By.CSS_SELECTOR, "#r0 .sound").click()
    until(browser, "return !" + VIDEO.format(id="r0") + ".muted", "the unmute")
    after = state(browser, "r0")
    assert after["href"] == url and after["marker"] == "still here"  # no navigation
    assert not after["paused"]
    shot(browser, out / "share-unmuted.png")


def channel(browser: Any, url: str, out: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
    from selenium.webdriver.common.by import By

    browser.get(url)
    until(browser, "return " + PLAYING.format(id="r0"), "the first reel")
    assert state(browser, "r1")["src"]  # the next one is already loading
    assert not state(browser, "r2")["src"]  # the one after is not, yet
    shot(browser, out / "channel-first.png")

    main = browser.find_element(By.TAG_NAME, "main")
    origin = ScrollOrigin.from_element(main)
    # A swipe of 60% of a screen: it stops nowhere in between but snaps to the next reel.
    swipe = int(state(browser, "r0")["screen"] * 0.6)
    ActionChains(browser).scroll_from_origin(origin, 0, swipe).perform()
    until(browser, "return document.body.dataset.current === 'r1'", "the second reel in view")
    until(browser, "return " + PLAYING.format(id="r1"), "the second reel playing")
    until(
        browser,
        "const m=document.querySelector('main'); return m.scrollTop === window.innerHeight",
        "the snap to the second reel",
    )
    second = state(browser, "r1")
    assert (second["w"], second["h"]) == (720, 1280)
    assert second["top"] == second["screen"]  # snapped: exactly one screen down
    assert state(browser, "r0")["paused"]
    assert state(browser, "r2")["src"]  # the next one loads as you scroll
    shot(browser, out / "channel-second.png")


async def test_share_and_channel_pages_play_in_chromium(
    cdn_app: App, clips: list[Path], tmp_path: Path, driver: Any
) -> None:
    published = []
    for day, clip in enumerate(clips, start=1):
        job_id, result = await publish_job(cdn_app, hostile_script(f"Reel {day}"), clip)
        moment = datetime(2025, 3, day, tzinfo=UTC)
        await post_daily(cdn_app, job_id, "telegram:-100123", date(2025, 3, day), at=moment)
        published.append(result)
    channel_url = await write_channel(
        cdn_app.runner.store, cdn_app.db, "telegram:-100123", tmp_path / "pages"
    )
    drive: list[Callable[[], None]] = [
        lambda: share_page(driver, published[0]["page_url"], tmp_path),
        lambda: channel(driver, channel_url, tmp_path),
    ]
    for step in drive:
        await asyncio.to_thread(step)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "channel-first.png",
        "channel-second.png",
        "share-paused.png",
        "share-playing.png",
        "share-unmuted.png",
    ]
