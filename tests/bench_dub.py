"""``make bench`` entry "dub": seconds from the "Also in …" press to the delivered video, with
the fakes answering as slowly as the real services do (LLM 4 s, TTS 5 s per request).

Two paths, each from a delivered three-scene English reel into Spanish:
- ``translate_tts``: the script translated by the LLM (scenes side by side), voiced by the
  ElevenLabs TTS fake, rendered (no ElevenLabs Dubbing configured);
- ``elevenlabs_dubbing``: the same translation, then ElevenLabs Dubbing (create, one poll that
  says ``dubbing``, one that says ``dubbed``, the download) and forced alignment, each request
  taking the TTS latency, then the render.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from pipeline.app import App
from pipeline.delivery import Post
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.studio import Studio
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.groq import FakeGroq
from tests.fakes.scripts import OCTOPUS

LLM, TTS = 4.0, 5.0
OWNER = "telegram:1"


async def _one(folder: Path, *, dubbing: bool) -> dict[str, float]:
    async with FakeElevenLabs() as eleven, FakeGroq() as groq:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=folder,
            groq_api_key=SecretStr("gsk-bench"),
            groq_base_url=groq.base_url,
            elevenlabs_api_key=SecretStr("xi-bench"),
            elevenlabs_base_url=eleven.base_url,
            music_enabled=False,
            sound_effects=False,
            dub_poll_interval=0.5,
        )
        app = await App.open(settings, build(settings))
        posts: list[Post] = []

        async def deliver(post: Post) -> None:
            posts.append(post)

        try:
            studio = Studio(app)
            text = "\n\n".join(OCTOPUS["en"][:3])
            started = await studio.own_script(OWNER, text, "bench:parent", chat_id="1")
            await studio.approve(OWNER, started.job.id)
            await studio.render(OWNER, started.job.id, deliver)
            if not dubbing:
                app.providers.dubbers.clear()
            eleven.dubbing.polls = 1
            groq.latency, eleven.latency = LLM, TTS
            began = time.perf_counter()
            dub = await studio.start_dub(OWNER, started.job.id, "es")
            await studio.produce(dub.job.id, deliver)
            wall = time.perf_counter() - began
            stages = {
                run.stage: round((run.duration_ms or 0) / 1000, 2)
                for run in await app.runs.for_job(dub.job.id)
                if run.outcome == "ok"
            }
        finally:
            await app.close()
    return {"press_to_video_s": round(wall, 2), **{f"{k}_s": v for k, v in stages.items()}}


def bench_dub() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="reelbench-dub-") as folder:
        tts_path = asyncio.run(_one(Path(folder) / "tts", dubbing=False))
        dub_path = asyncio.run(_one(Path(folder) / "dub", dubbing=True))
    return {
        "latency_s": {"llm": LLM, "tts_and_every_elevenlabs_request": TTS},
        "translate_tts": tts_path,
        "elevenlabs_dubbing": dub_path,
    }
