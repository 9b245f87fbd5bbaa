"""How fast a button press is answered while a render runs, measured against the fake Bot API.

    python -m tests.bot.latency [--presses 40]

Alice's reel renders (espeak + ffmpeg, ~25 s of narration); meanwhile Bob presses Swap on his
own contact sheet, one press every 100 ms. A press's latency is from the moment its update is
queued behind getUpdates to the moment answerCallbackQuery for it reaches the fake: long
polling, aiogram's HTTP layer, the middlewares, the studio and the database included. Only
presses answered while ffmpeg held the render slot count.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from pipeline.settings import Settings
from tests.bot.conftest import ALICE, BOB, World
from tests.fakes.groq import FakeGroq
from tests.fakes.telegram import Call, FakeTelegram

SCENE = "The octopus can taste with its arms and see colour with its skin, which is strange."


@dataclass(frozen=True, slots=True)
class Figures:
    presses: int
    p50: float
    p95: float
    worst: float
    render_seconds: float  # until the reel was posted, or until measuring stopped


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: an observed value."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _answering(query: str) -> Callable[[Call], bool]:
    return lambda call: call.params["callback_query_id"] == query


async def measure(
    base: Settings, *, presses: int = 40, scenes: int = 8, finish: bool = True
) -> Figures:
    """``finish``: wait for the reel too (else the bot stops mid-render, as on SIGTERM)."""
    async with FakeTelegram() as tg, FakeGroq() as groq:
        settings = base.model_copy(
            update={
                "telegram": base.telegram.model_copy(
                    update={"bot_token": SecretStr(FakeTelegram.TOKEN), "api_base": tg.base_url}
                ),
            }
        )
        world = World(tg, groq, settings)
        async with world.bot() as front:
            long_script = "/script " + "\n\n".join([SCENE] * scenes)
            alice = await world.said(ALICE, long_script)
            _, alice_sheet = await world.pressed(
                ALICE, tg.message_of(alice), "Approve", "sendPhoto"
            )
            bob = await world.said(BOB, "/script One.\n\nTwo.\n\nThree.")
            _, bob_sheet = await world.pressed(BOB, tg.message_of(bob), "Approve", "sendPhoto")
            render = tg.button(tg.message_of(alice_sheet), "Render")
            job_id = render.split(":")[-1]
            tg.press(ALICE, tg.message_of(alice_sheet), render)
            async with asyncio.timeout(60):
                while job_id not in front.app.queue.running:
                    await asyncio.sleep(0.01)
            started = time.monotonic()
            latencies: list[float] = []
            for n in range(presses):
                if job_id not in front.app.queue.running:
                    break
                message = tg.message_of(bob_sheet)
                update = tg.press(BOB, message, tg.button(message, f"Swap {n % 3 + 1}"))
                query: str = update["callback_query"]["id"]
                await tg.wait_for("answerCallbackQuery", _answering(query))
                if job_id in front.app.queue.running:
                    latencies.append(tg.answered_at[query] - tg.pushed_at[update["update_id"]])
                await asyncio.sleep(0.1)
            if finish:
                await tg.wait_for("sendVideo", timeout=120)
            rendered = time.monotonic() - started
    if not latencies:
        raise RuntimeError("the render ended before any press was measured")
    return Figures(
        presses=len(latencies),
        p50=statistics.median(latencies),
        p95=percentile(latencies, 0.95),
        worst=max(latencies),
        render_seconds=rendered,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--scenes", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, data_dir=Path(folder))
        figures = asyncio.run(measure(settings, presses=args.presses, scenes=args.scenes))
    print(
        f"button press while rendering: p50 {figures.p50 * 1000:.0f} ms, "
        f"p95 {figures.p95 * 1000:.0f} ms, worst {figures.worst * 1000:.0f} ms "
        f"over {figures.presses} presses (render ran {figures.render_seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
