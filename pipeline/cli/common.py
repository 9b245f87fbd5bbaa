"""What every command shares: the console and the progress view."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..models import ProgressEvent, StageTiming

console = Console(stderr=True)
STAGES = ("script", "voice", "images", "subtitles", "render", "upload")


def progress_bars() -> Progress:
    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    )


class ProgressView:
    """One rich bar per stage, fed by the runner's progress events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    async def __call__(self, event: ProgressEvent) -> None:
        if event.stage not in STAGES:
            return
        task = self.tasks.get(event.stage)
        if task is None:
            task = self.tasks[event.stage] = self.progress.add_task(event.stage, total=1.0)
        if event.fraction is not None:
            self.progress.update(task, completed=event.fraction)


def timings_table(timings: Sequence[StageTiming], total: float) -> Table:
    table = Table(title="stage timings")
    table.add_column("stage")
    table.add_column("provider")
    table.add_column("seconds", justify="right")
    table.add_column("outcome")
    for timing in timings:
        table.add_row(timing.stage, timing.provider, f"{timing.seconds:.2f}", timing.outcome)
    table.add_row("total", "", f"{total:.2f}", "", style="bold")
    return table
