"""A bot process that approves a script and is killed while its segments are encoded ahead
(tests/pipeline/test_speculating.py). Run as ``python -m tests.pipeline.speculation_child
DATA_DIR FFMPEG``; it prints the job id, then waits to be killed.

:func:`gated_ffmpeg` writes an ffmpeg that holds every segment encode until a gate file
exists: an encode "under way" for as long as a test needs, on any machine."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pipeline.app import App
from pipeline.providers import build_offline
from pipeline.settings import DiscordSettings, Settings, TelegramSettings
from pipeline.studio import Studio

PLAIN = "Octopuses have three hearts.\n\nTwo of them pump blood to the gills.\n\nBlue blood!"


def gated_ffmpeg(folder: Path) -> tuple[Path, Path]:
    """(an ffmpeg wrapper, its gate): segment encodes wait for the gate file, the rest run."""
    from pipeline.render import resolve_ffmpeg

    gate = folder / "gate"
    wrapper = folder / "ffmpeg"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *{segments_marker()}*) while [ ! -e "{gate}" ]; do sleep 0.02; done;; esac\n'
        f'exec "{resolve_ffmpeg()}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper, gate


def segments_marker() -> str:
    from pipeline.render import segments

    return f"/{segments.FOLDER}/"


def settings_for(data: Path, ffmpeg: str | None = None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data,
        music_enabled=False,
        ffmpeg_binary=ffmpeg,
        telegram=TelegramSettings(_env_file=None),  # type: ignore[call-arg]
        discord=DiscordSettings(_env_file=None),  # type: ignore[call-arg]
    )


async def main(data: Path, ffmpeg: str) -> None:
    settings = settings_for(data, ffmpeg)
    async with await App.open(settings, build_offline(settings)) as app:
        studio = Studio(app)
        job = (await studio.own_script("telegram:1", PLAIN, "k")).job
        await studio.approve("telegram:1", job.id)
        print(job.id, flush=True)
        await asyncio.Event().wait()  # speculation runs until the kill


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
