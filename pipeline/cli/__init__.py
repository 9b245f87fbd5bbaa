"""The ``reelfactory`` command. Each subcommand lives in its own module with ``add_parser``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Protocol

from ..errors import ReelError
from ..logs import setup_logging_for
from ..settings import Settings
from . import doctor, dub, fake_youtube, jobs, make, render, share_server, worker
from .common import console


class Command(Protocol):
    """A subcommand module: ``add_parser`` registers it and sets its ``run`` default."""

    def add_parser(self, commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


COMMANDS: tuple[Command, ...] = (
    render,
    make,
    dub,
    doctor,
    jobs,
    share_server,
    worker,
    fake_youtube,
)


def parser(extra: Sequence[Command] = ()) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="reelfactory", description="Short vertical videos.")
    root.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = root.add_subparsers(dest="command", required=True)
    for command in (*COMMANDS, *extra):
        command.add_parser(commands)
    return root


def main(argv: Sequence[str] | None = None, *, extra: Sequence[Command] = ()) -> int:
    """``extra`` commands come from the fronts (``bot.cli`` adds ``serve``)."""
    args = parser(extra).parse_args(argv)
    # Long-running commands (serve) log what they do; short ones only warnings.
    long_running = getattr(args, "long_running", False)
    settings = Settings()
    setup_logging_for(settings, logging.INFO if args.verbose or long_running else logging.WARNING)
    try:
        code: int = asyncio.run(args.run(args, settings))
    except ReelError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True, markup=True)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
