"""``reelfactory worker``: take renders from the Redis queue (REELFACTORY_REDIS_URL) until
SIGINT/SIGTERM. Needs the render settings, the shared data folder and the Redis URL only."""

from __future__ import annotations

import argparse

from ..settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="render reels from the Redis render queue")
    worker.add_argument("--id", default=None, help="this worker's name (default: a UUID)")
    worker.set_defaults(run=run, long_running=True)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..adapters.saq_worker import run_worker

    await run_worker(settings, worker_id=args.id)
    return 0
