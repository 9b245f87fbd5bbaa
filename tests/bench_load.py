"""``python -m tests.bench --only load``: many people at once, from topic to reel (issue 15).

The bot runs as ``serve`` does, in a child process of its own (so its peak RSS is the bot's
and its renders' alone), against fakes served here: the fake Bot API for ``--users`` Telegram
users, the fake Discord for ``--discord`` more, and provider fakes as fast as the issue's run
(LLM 0.5 s, TTS 0.5 s, search 0.2 s, download 0.1 s). Every user starts within the first few
seconds and goes: topic -> script -> Approve -> contact sheet -> Swap 2 -> Render -> video.

Figures (p50/p95/max): press -> answer (Telegram's answerCallbackQuery, Discord's ack),
message -> first reply, Approve -> sheet, Render -> video; reels a minute; FIFO inversions
(pairs whose videos came in the other order than their Render presses); the loop lag and
query latency the bot reports on /metrics; the peak RSS of the bot's process tree (and its
PSS, which counts pages the processes share once). It checks
that every user got exactly one reel, and every press exactly one answer.

``BENCH_BOT`` replaces ``-m bot`` in the child's command line, to run the bot under a
profiler: ``BENCH_BOT="-m memray run --native -o bot.bin -m bot"``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from pipeline.lag import percentile
from tests.fakes.discord import DcChannel, DcMessage, DcUser, FakeDiscord
from tests.fakes.discord.interactions import DcInteraction
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.gemini import FakeGemini
from tests.fakes.google_search import FakeGoogleSearch
from tests.fakes.telegram import Call, FakeTelegram, TgUser

LLM, TTS, SEARCH, DOWNLOAD = 0.5, 0.5, 0.2, 0.1
START_WITHIN = 5.0  # seconds over which the users' first messages are spread
POLL = 0.02


@dataclass
class Figures:
    press: list[float] = field(default_factory=list)
    render_press: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)
    sheet: list[float] = field(default_factory=list)
    video: list[float] = field(default_factory=list)
    renders: list[tuple[float, float]] = field(default_factory=list)  # (pressed, video came)
    problems: list[str] = field(default_factory=list)


class Inbox:
    """The fake Bot API's calls, sorted by chat as they arrive (read once each, not rescanned
    by every waiting user)."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.by_chat: defaultdict[int, list[Call]] = defaultdict(list)
        self._seen = 0

    async def run(self) -> None:
        while True:
            calls = self.tg.calls
            for call in calls[self._seen :]:
                chat = call.params.get("chat_id")
                if call.status == 200 and chat is not None:
                    self.by_chat[int(chat)].append(call)
            self._seen = len(calls)
            await asyncio.sleep(POLL)

    async def next(self, chat: int, method: str, after: int, timeout: float = 900) -> Call:
        """The first ``method`` call to ``chat`` among its calls from index ``after`` on."""
        async with asyncio.timeout(timeout):
            while True:
                for call in self.by_chat[chat][after:]:
                    if call.method == method:
                        return call
                await asyncio.sleep(POLL)


async def _answered(tg: FakeTelegram, update: dict[str, Any]) -> float:
    query = update["callback_query"]["id"]
    async with asyncio.timeout(120):
        while query not in tg.answered_at:
            await asyncio.sleep(POLL / 4)
    return tg.answered_at[query] - tg.pushed_at[update["update_id"]]


async def telegram_user(
    tg: FakeTelegram, inbox: Inbox, n: int, figures: Figures, *, offset: float
) -> None:
    user = TgUser(10_000 + n, f"User {n}", "en")
    await asyncio.sleep(offset)
    sent = tg.send_text(user, f"why octopuses have three hearts, take {n}")
    pushed = tg.pushed_at[sent["update_id"]]
    first = await _first_call(inbox, user.id)
    figures.reply.append(first.at - pushed)
    script = await inbox.next(user.id, "sendMessage", 0)
    message = tg.message_of(script)

    seen = len(inbox.by_chat[user.id])
    approve = tg.press(user, message, tg.button(message, "Approve"))
    figures.press.append(await _answered(tg, approve))
    sheet = await inbox.next(user.id, "sendPhoto", seen)
    figures.sheet.append(sheet.at - tg.pushed_at[approve["update_id"]])
    sheet_message = tg.message_of(sheet)

    seen = len(inbox.by_chat[user.id])
    swap = tg.press(user, sheet_message, tg.button(sheet_message, "Swap 2"))
    figures.press.append(await _answered(tg, swap))
    await inbox.next(user.id, "editMessageMedia", seen)

    sheet_message = tg.message_of(sheet)
    render = tg.press(user, sheet_message, tg.button(sheet_message, "Render"))
    pressed = tg.pushed_at[render["update_id"]]
    answer = await _answered(tg, render)
    figures.press.append(answer)
    figures.render_press.append(answer)
    video = await inbox.next(user.id, "sendVideo", seen)
    figures.video.append(video.at - pressed)
    figures.renders.append((pressed, video.at))


async def _first_call(inbox: Inbox, chat: int) -> Call:
    async with asyncio.timeout(120):
        while not inbox.by_chat[chat]:
            await asyncio.sleep(POLL / 4)
    return inbox.by_chat[chat][0]


async def _until(predicate: Any, timeout: float = 900) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := predicate()):
            await asyncio.sleep(POLL * 2)
    return value


class Expired(Exception):
    """Discord gave up on an interaction the bot did not acknowledge within 3 s."""


async def _acked(handle: DcInteraction, deadline: float = 3.0) -> None:
    # Past the deadline the fake refuses the acknowledgement (404/10062): stop waiting.
    await _until(lambda: handle.acked_at or time.monotonic() - handle.created > deadline + 2)
    if handle.acked_at is None:
        raise Expired(f"interaction {handle.id} was not acknowledged within Discord's 3 s")


def _mono(message: DcMessage) -> float:
    """When the fake made ``message``, on the monotonic clock."""
    return message.created_at.timestamp() - (time.time() - time.monotonic())


async def discord_user(
    dc: FakeDiscord, channel: DcChannel, n: int, figures: Figures, *, offset: float
) -> None:
    user = DcUser(50_000 + n, f"dc{n}")
    await asyncio.sleep(offset)
    ask = dc.slash(
        user, "reel", {"topic": f"why octopuses have blue blood, take {n}"}, channel=channel
    )
    await _acked(ask)
    figures.reply.append(ask.acked_at - ask.created)  # type: ignore[operator]
    script = await _until(lambda: next((m for m in ask.messages if m.components), None))

    approve = dc.press(user, script, script.button("Approve"))
    await _acked(approve)
    figures.press.append(approve.acked_at - approve.created)  # type: ignore[operator]
    sheet = await _until(lambda: next((m for m in approve.messages if m.attachments), None))
    figures.sheet.append(_mono(sheet) - approve.created)
    job = sheet.button("Render").rsplit(":", 1)[-1]

    swap = dc.select(user, sheet, f"reel-pick:swap:{job}", ["1"])
    await _acked(swap)
    figures.press.append(swap.acked_at - swap.created)  # type: ignore[operator]
    before = sheet.attachments[0].data
    await _until(lambda: dc.message(sheet.id).attachments[0].data != before)

    render = dc.press(user, dc.message(sheet.id), sheet.button("Render"))
    await _acked(render)
    answer = render.acked_at - render.created  # type: ignore[operator]
    figures.press.append(answer)
    figures.render_press.append(answer)
    video = await _until(
        lambda: next(
            (m for m in dc.messages(channel) if m.content.startswith("<@") and m.attachments),
            None,
        )
    )
    figures.video.append(_mono(video) - render.created)
    figures.renders.append((render.created, _mono(video)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            words = handle.read().split(b"\0")
    except OSError:
        return "?"
    program = Path(words[0].decode(errors="replace")).name
    return f"{program} {' '.join(w.decode(errors='replace') for w in words[1:4])}"[:60]


class TreeRss:
    """The peak RSS of a process and its descendants, sampled every 100 ms in a thread; and
    their peak PSS, where pages shared between them (every ffmpeg's ~18 MB of code) count once
    instead of once per process."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.own_peak = pid, 0, 0  # the tree's, the process's own
        self.peak_pss = 0
        self.at_peak: list[tuple[str, int]] = []  # (process, MB) when the peak was seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        from tests.bench import _children, _pss, _rss

        while not self._stop.is_set():
            parts, todo, pss = [], [(self.pid, "")], 0
            while todo:
                pid, parent = todo.pop()
                name = _name(pid)
                # A child forked and not yet exec'd shares its parent's pages: not memory.
                if name != parent:
                    parts.append((name, _rss(pid)))
                    pss += _pss(pid)
                todo += [(child, name) for child in _children(pid)]
            self.peak_pss = max(self.peak_pss, pss)
            total = sum(size for _, size in parts)
            self.own_peak = max(self.own_peak, parts[0][1] if parts else 0)
            if total > self.peak:
                self.peak = total
                self.at_peak = sorted(((n, s >> 20) for n, s in parts), key=lambda p: -p[1])
            self._stop.wait(0.1)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _metrics(port: int) -> dict[str, dict[str, float]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        if family.name == "reelfactory_loop_lag_seconds":
            for sample in family.samples:
                found["loop_lag"][sample.labels["quantile"]] = sample.value
        elif family.name == "reelfactory_db_query_seconds":
            for sample in family.samples:
                found[f"db_{sample.labels['kind']}"][sample.labels["quantile"]] = sample.value
    return found


def _ms(values: list[float]) -> dict[str, int]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 0.5) * 1000),
        "p95": round(percentile(values, 0.95) * 1000),
        "max": round(max(values) * 1000),
    }


def _inversions(renders: list[tuple[float, float]]) -> tuple[int, int]:
    ordered = [came for _, came in sorted(renders)]
    pairs = len(ordered) * (len(ordered) - 1) // 2
    return sum(1 for i, a in enumerate(ordered) for b in ordered[i + 1 :] if b < a), pairs


async def measure(users: int, discord: int, extra: dict[str, str]) -> dict[str, object]:
    figures = Figures()
    async with (
        FakeTelegram() as tg,
        FakeDiscord(ack_deadline=3.0) as dc,
        FakeGemini(latency={"text": LLM}) as gemini,
        FakeElevenLabs(latency=TTS) as eleven,
        FakeGoogleSearch(latency=SEARCH, download_latency=DOWNLOAD) as google,
    ):
        guild = dc.add_guild("Load", channels=tuple(f"c{n}" for n in range(max(1, discord))))
        for n in range(discord):
            dc.add_member(guild, DcUser(50_000 + n, f"dc{n}"))
        port = _free_port()
        with tempfile.TemporaryDirectory(prefix="reelbench-load-") as folder:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")},
                "REELFACTORY_DATA_DIR": folder,
                "REELFACTORY_HTTP_PORT": str(port),
                "REELFACTORY_HTTP_HOST": "127.0.0.1",
                "REELFACTORY_TELEGRAM_BOT_TOKEN": FakeTelegram.TOKEN,
                "REELFACTORY_TELEGRAM_API_BASE": tg.base_url,
                "REELFACTORY_DISCORD_BOT_TOKEN": FakeDiscord.TOKEN,
                "REELFACTORY_DISCORD_API_BASE": dc.base_url,
                "REELFACTORY_DISCORD_GATEWAY_URL": dc.gateway.url,
                "REELFACTORY_GEMINI_API_KEY": "bench",
                "REELFACTORY_GEMINI_BASE_URL": gemini.base_url,
                "REELFACTORY_ELEVENLABS_API_KEY": "bench",
                "REELFACTORY_ELEVENLABS_BASE_URL": eleven.base_url,
                "REELFACTORY_GOOGLE_SEARCH_API_KEY": "bench",
                "REELFACTORY_GOOGLE_SEARCH_CX": "bench",
                "REELFACTORY_GOOGLE_SEARCH_BASE_URL": google.base_url,
                "REELFACTORY_FETCH_ALLOW_HOSTS": "127.0.0.1",
                "REELFACTORY_SCRIPT_CHAIN": "gemini",
                "REELFACTORY_VOICE_CHAIN": "elevenlabs,espeak",
                "REELFACTORY_IMAGE_CHAIN": "google_search,cards",
                "REELFACTORY_DRAFTS_PER_HOUR": "1000",
                **extra,
            }
            log = Path(tempfile.gettempdir()) / "reelbench-load-bot.log"  # kept for a look
            with log.open("w") as out:
                bot = subprocess.Popen(
                    [sys.executable, *os.environ.get("BENCH_BOT", "-m bot").split()],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                with TreeRss(bot.pid) as rss:
                    inbox = Inbox(tg)
                    reading = asyncio.create_task(inbox.run())
                    await _until(lambda: tg.of("getUpdates") and _commands(dc), timeout=180)
                    started = time.monotonic()
                    spread = START_WITHIN / max(1, discord)
                    try:
                        outcomes = await asyncio.gather(
                            *(
                                telegram_user(
                                    tg, inbox, n, figures, offset=n * START_WITHIN / users
                                )
                                for n in range(users)
                            ),
                            *(
                                discord_user(
                                    dc, guild.channel(f"c{n}"), n, figures, offset=n * spread
                                )
                                for n in range(discord)
                            ),
                            return_exceptions=True,
                        )
                    finally:
                        reading.cancel()
                    # A user who could not go on (an interaction Discord gave up on, a step
                    # that never came) is a problem to report, not the end of the run.
                    figures.problems += [
                        f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException)
                    ]
                    wall = time.monotonic() - started
                    reported = await _metrics(port)
            except BaseException:
                print(log.read_text()[-4000:], file=sys.stderr)
                raise
            finally:
                bot.send_signal(signal.SIGTERM)
                try:
                    bot.wait(30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    bot.wait()
        _check(tg, dc, users, [guild.channel(f"c{n}") for n in range(discord)], figures)
    inversions, pairs = _inversions(figures.renders)
    return {
        "users": {"telegram": users, "discord": discord},
        "latency_s": {"llm": LLM, "tts": TTS, "search": SEARCH, "download": DOWNLOAD},
        "press_to_answer_ms": _ms(figures.press),
        "render_press_to_answer_ms": _ms(figures.render_press),
        "message_to_first_reply_ms": _ms(figures.reply),
        "approve_to_sheet_ms": _ms(figures.sheet),
        "render_to_video_ms": _ms(figures.video),
        "reels_per_minute": round(len(figures.renders) / wall * 60, 1),
        "fifo_inversions": f"{inversions} of {pairs} pairs",
        "loop_lag_ms": {q: round(v * 1000, 1) for q, v in reported.get("loop_lag", {}).items()},
        "db_read_ms": {q: round(v * 1000, 2) for q, v in reported.get("db_read", {}).items()},
        "db_write_ms": {q: round(v * 1000, 2) for q, v in reported.get("db_write", {}).items()},
        "peak_rss_tree_mb": round(rss.peak / 2**20),
        "peak_rss_bot_mb": round(rss.own_peak / 2**20),
        "peak_pss_tree_mb": round(rss.peak_pss / 2**20),
        "bot_env": extra,
        "at_peak_mb": rss.at_peak[:8],
        "wall_s": round(wall, 1),
        "bot_log": str(Path(tempfile.gettempdir()) / "reelbench-load-bot.log"),
        "problems": figures.problems,
    }


def _commands(dc: FakeDiscord) -> bool:
    return any(c["name"] == "reel" for commands in dc.commands.values() for c in commands)


def _check(
    tg: FakeTelegram, dc: FakeDiscord, users: int, channels: list[DcChannel], figures: Figures
) -> None:
    """Exactly one reel per user, exactly one answer per press."""
    videos: defaultdict[int, int] = defaultdict(int)
    for call in tg.of("sendVideo"):
        if call.status == 200:
            videos[int(call.params["chat_id"])] += 1
    for n in range(users):
        got = videos.get(10_000 + n, 0)
        if got != 1:
            figures.problems.append(f"telegram user {n} got {got} reels")
    answers: defaultdict[str, int] = defaultdict(int)
    for call in tg.of("answerCallbackQuery"):
        answers[str(call.params["callback_query_id"])] += 1
    figures.problems += [f"press {q} answered {k} times" for q, k in answers.items() if k != 1]
    for n, channel in enumerate(channels):
        reels = [m for m in dc.messages(channel) if m.content.startswith("<@") and m.attachments]
        if len(reels) != 1:
            figures.problems.append(f"discord user {n} got {len(reels)} reels")


def bench_load(
    users: int = 40, discord: int = 10, extra: dict[str, str] | None = None
) -> dict[str, object]:
    """``users`` on Telegram and ``discord`` more on Discord, all at once; ``extra`` adds to
    (or overrides) the bot's environment."""
    return asyncio.run(measure(users, discord, extra or {}))
