"""What every stage gets: the job's script, its work folder, choices, and a progress callback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import SubtitleStyle
from ..files import write_json

__all__ = ["JobContext", "read_json", "write_json"]
from ..models import ProgressEvent, Script, VoiceChoice
from ..ports import ProgressCallback
from ..settings import Settings


async def _ignore(_: ProgressEvent) -> None:
    return None


@dataclass(slots=True)
class JobContext:
    job_id: str
    script: Script
    work: Path
    voice: VoiceChoice
    style: SubtitleStyle
    settings: Settings
    progress: ProgressCallback = _ignore

    def path(self, *parts: str) -> Path:
        return self.work.joinpath(*parts)

    async def report(
        self,
        stage: str,
        fraction: float | None = None,
        *,
        position: int | None = None,
        eta: float | None = None,
    ) -> None:
        await self.progress(ProgressEvent(stage, fraction, position, eta))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
