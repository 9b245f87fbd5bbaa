"""The ``reelfactory`` command: the pipeline's commands plus ``serve``, which runs the chat
fronts until SIGINT/SIGTERM (same as ``python -m bot``). It lives here so that the pipeline
never imports its fronts."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pipeline import cli
from pipeline.cli.common import console
from pipeline.settings import Settings

logger = logging.getLogger(__name__)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve", help="run every configured front (Telegram, Discord) in one process"
    )
    serve.set_defaults(run=run, long_running=True)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot import MissingSettings, serve

    try:
        await serve(settings)
    except MissingSettings as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from bot import scheduled

    return cli.main(argv, extra=(sys.modules[__name__], scheduled))


if __name__ == "__main__":
    sys.exit(main())
