"""How a render's files travel between the bot and a worker through a shared data folder.

The bot and its workers mount the same ``data_dir`` (possibly at different paths), so a spec
travels with its paths relative to it; an input outside it (a bundled sound, say) is copied in
under ``renders/<job>/inputs`` first. A worker renders into ``renders/<job>/<attempt>/``, a
folder of its own attempt: a worker that lost its job and finishes late writes only there, and
the bot takes the files of the one attempt the queue accepted.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..artifacts import REEL, THUMB, THUMB_SMALL
from ..errors import RenderError
from ..files import atomic_copy
from ..models import RenderSpec

STAGING = "renders"
OUTPUTS = (REEL, THUMB, THUMB_SMALL)


def _inputs(spec: RenderSpec) -> list[tuple[str, Path]]:
    """Every input file of ``spec`` with a name for it (its field, or cut number)."""
    files = [("audio", spec.audio_path), ("subtitles", spec.subtitles_path)]
    files += [(f"cut{index}", cut.image) for index, cut in enumerate(spec.cuts)]
    if spec.bed is not None:
        for field in ("music", "transition", "title_hit"):
            path = getattr(spec.bed, field)
            if path is not None:
                files.append((field, path))
    return files


def _with_paths(spec: RenderSpec, paths: dict[str, Path], out: Path) -> RenderSpec:
    cuts = [
        cut.model_copy(update={"image": paths[f"cut{index}"]})
        for index, cut in enumerate(spec.cuts)
    ]
    bed = spec.bed
    if bed is not None:
        fields = ("music", "transition", "title_hit")
        update: dict[str, Any] = {field: paths[field] for field in fields if field in paths}
        bed = bed.model_copy(update=update)
    return spec.model_copy(
        update={
            "cuts": cuts,
            "audio_path": paths["audio"],
            "subtitles_path": paths["subtitles"],
            "bed": bed,
            "out_path": out,
        }
    )


class SharedFolder:
    """The bot's and the workers' common ``data_dir``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def job_dir(self, job_id: str) -> Path:
        return self.root / STAGING / job_id

    def export(self, job_id: str, spec: RenderSpec) -> dict[str, Any]:
        """The bot's side: ``spec`` as JSON with paths relative to the shared folder."""
        inputs = self.job_dir(job_id) / "inputs"
        paths: dict[str, Path] = {}
        for name, path in _inputs(spec):
            source = path.resolve()
            if not source.is_file():
                raise RenderError(f"render input missing: {path}", stage="render")
            if not source.is_relative_to(self.root):
                source = inputs / f"{name}-{path.name}"
                atomic_copy(path, source)
            paths[name] = source.relative_to(self.root)
        out = Path(STAGING, job_id, "out", REEL)  # the worker puts its attempt's folder here
        return _with_paths(spec, paths, out).model_dump(mode="json")

    def bring_in(self, job_id: str, wire: dict[str, Any], attempt: str) -> RenderSpec:
        """The worker's side: the spec with its own paths, rendering into its attempt's folder."""
        spec = RenderSpec.model_validate(wire)
        paths = {name: self._inside(path) for name, path in _inputs(spec)}
        out = self.job_dir(job_id) / attempt / REEL
        out.parent.mkdir(parents=True, exist_ok=True)
        return _with_paths(spec, paths, out)

    def result_dir(self, out: Path) -> str:
        return str(out.parent.relative_to(self.root))

    def take(self, folder: str, reel: Path) -> None:
        """The bot's side: the accepted attempt's reel and thumbnails, beside ``reel``."""
        source = self._inside(Path(folder))
        for name in OUTPUTS:
            atomic_copy(source / name, reel.with_name(name))

    def clean(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def _inside(self, relative: Path) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise RenderError(f"render path escapes the shared folder: {relative}", stage="render")
        return path
