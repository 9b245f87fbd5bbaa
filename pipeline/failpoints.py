"""Crash tests' hooks: ``failpoint(name)`` kills the process where a power cut would hurt."""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

FAILPOINT_ENV = "REELFACTORY_FAILPOINT"


def failpoint(name: str) -> None:
    """Inert unless ``REELFACTORY_FAILPOINT`` equals ``name``: then the process kills itself
    with SIGKILL right here, as a power cut would, with no clean-up.

    Points: ``voice`` (the voice's files are written, its stage run is still ``running``),
    ``before_reel_upload`` (the render is done and every other asset is confirmed in the
    store) and ``delivered`` (posted and recorded, the job not settled).
    """
    if os.environ.get(FAILPOINT_ENV) == name:
        logger.warning("failpoint %s: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)
