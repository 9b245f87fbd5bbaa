"""``reelfactory fake-youtube``: the mock Google and YouTube the tests use (tests/fakes/youtube.py),
on a port of this machine, approving every device code after a few seconds, so anyone can try
/connect youtube -> "Post to YouTube" with no Google account. It prints the settings that
point the bot at it (with a fresh token key). The mock lives with the tests, so this command
works from a source checkout."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import sys
from pathlib import Path
from types import ModuleType

from cryptography.fernet import Fernet

from ..errors import ReelError
from ..settings import Settings
from .common import console

CHECKOUT = Path(__file__).resolve().parents[2]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fake = commands.add_parser(
        "fake-youtube", help="run a mock YouTube to try connect -> post without a Google account"
    )
    fake.add_argument("--host", default="127.0.0.1", help="address to listen on")
    fake.add_argument("--port", type=int, default=8790, help="port to listen on")
    fake.add_argument(
        "--approve-after", type=float, default=5.0, help="seconds until a code is approved"
    )
    fake.set_defaults(run=run, long_running=True)


def _mock() -> ModuleType:
    if not (CHECKOUT / "tests" / "fakes" / "youtube.py").is_file():
        raise ReelError(
            "the mock YouTube ships with the source checkout (tests/fakes/youtube.py); "
            "run this command from a clone of the repository"
        )
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    return importlib.import_module("tests.fakes.youtube")


def settings_lines(base: str, key: str) -> list[str]:
    """The .env lines that send the bot's YouTube traffic to the mock at ``base``."""
    return [
        "REELFACTORY_YOUTUBE_CLIENT_ID=demo-client",
        f"REELFACTORY_YOUTUBE_TOKEN_KEY={key}",
        f"REELFACTORY_YOUTUBE_OAUTH_BASE={base}",
        f"REELFACTORY_YOUTUBE_API_BASE={base}",
    ]


async def run(args: argparse.Namespace, settings: Settings) -> int:
    mock = _mock()
    base = f"http://{args.host}:{args.port}"
    key = (
        settings.youtube_token_key.get_secret_value()
        if settings.youtube_token_key is not None
        else Fernet.generate_key().decode()
    )
    console.print(f"Mock YouTube on {base}; codes are approved after {args.approve_after:g} s.")
    console.print("Point the bot at it (in .env), then run `reelfactory serve`:", highlight=False)
    for line in settings_lines(base, key):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print("Uploads are kept in memory only. Ctrl-C stops it.")
    with contextlib.suppress(asyncio.CancelledError):
        await mock.serve_forever(args.host, args.port, args.approve_after)
    return 0
