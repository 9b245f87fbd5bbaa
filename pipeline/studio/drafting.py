"""Asking the script writers for a draft, recorded as a ``script`` stage run (so /stats sees
its timings), and cleaning what users type."""

from __future__ import annotations

import logging
import re
import unicodedata

from storage import JobRecord

from ..app import App
from ..models import Script, StageTiming
from ..stages import script as script_stage

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """One line of user text: control and format characters dropped, whitespace collapsed."""
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    return _SPACES.sub(" ", kept).strip()


async def write_script(
    app: App, job: JobRecord, *, seconds: int, timings: list[StageTiming] | None = None
) -> Script:
    """First success over the configured writers; raises ProviderUnavailable when none
    answers (the chain's retries and timeouts apply to each). ``timings`` gets the stage's."""
    async with app.runner.record(job.id, "script", [] if timings is None else timings) as run:
        served = await script_stage.draft(
            app.providers.writers, job.topic, language=job.language, seconds=seconds
        )
        run.provider, run.attempts = served.provider, served.attempts
        logger.info("job %s: %s drafted the script", job.id, served.provider)
        return served.value
