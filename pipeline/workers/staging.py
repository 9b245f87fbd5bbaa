"""How a render's files travel between the bot and a worker: a ``Staging``.

Without R2 the bot and its workers mount the same ``data_dir`` (possibly at different paths),
so a spec travels with its paths relative to it (``SharedFolder``); an input outside it (a
bundled sound, say) is copied in under ``renders/<job>/inputs`` first. With R2 the inputs go up
under ``renders/<job>/inputs/`` in the bucket and the worker fetches them
(``pipeline.workers.blob_staging``). Either way a worker renders into a folder of its own
attempt, ``renders/<job>/<attempt>/``: a worker that lost its job and finishes late writes only
there, and the bot takes the files of the one attempt the queue accepted.

A job's scene segments already encoded in its work folder (a speculative render, an earlier
try) are linked into the attempt's folder in shared-folder mode, so the worker does not encode
them again (their keys name the pictures' paths, which match when the folder is mounted at the
same path).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Protocol

from ..artifacts import REEL, THUMB, THUMB_SMALL
from ..errors import RenderError
from ..files import atomic_copy
from ..models import RenderSpec
from ..render.segments import FOLDER as SEGMENTS
from ..render.segments import folder_for

logger = logging.getLogger(__name__)

STAGING = "renders"
OUTPUTS = (REEL, THUMB, THUMB_SMALL)


def beside(reel: Path, names: tuple[str, ...] = OUTPUTS) -> dict[str, Path]:
    """Each output's place beside the job's ``reel``."""
    return {name: reel.with_name(name) for name in names}


class Staging(Protocol):
    """The bot's side: ``export`` (the worker's keyword arguments), ``take`` (the accepted
    attempt's files, each name in its folder to a path of the job's), ``clean``. The worker's
    side: ``bring_in`` (the spec with paths of its own), ``send_out`` (the files ``names`` of
    the attempt's folder, and where the bot takes them from), ``drop`` (a lost attempt's
    files)."""

    name: str

    async def export(self, job_id: str, spec: RenderSpec) -> dict[str, Any]: ...

    async def take(self, folder: str, files: dict[str, Path]) -> None: ...

    async def clean(self, job_id: str) -> None: ...

    async def bring_in(self, job_id: str, parcel: dict[str, Any], attempt: str) -> RenderSpec: ...

    async def send_out(
        self, job_id: str, local: RenderSpec, names: tuple[str, ...] = OUTPUTS
    ) -> str: ...

    async def drop(self, local: RenderSpec) -> None: ...

    async def aclose(self) -> None: ...


def inputs_of(spec: RenderSpec) -> list[tuple[str, Path]]:
    """Every input file of ``spec`` with a name for it (its field, or cut number)."""
    files = [("audio", spec.audio_path), ("subtitles", spec.subtitles_path)]
    files += [(f"cut{index}", cut.image) for index, cut in enumerate(spec.cuts)]
    if spec.bed is not None:
        for field in ("music", "transition", "title_hit"):
            path = getattr(spec.bed, field)
            if path is not None:
                files.append((field, path))
    return files


def with_paths(spec: RenderSpec, paths: dict[str, Path], out: Path) -> RenderSpec:
    """``spec`` with every input named in ``paths`` replaced, rendering to ``out``."""
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


def link_tree(source: Path, target: Path) -> int:
    """Hard-link (else copy) every finished file of ``source`` into ``target``; how many."""
    if not source.is_dir():
        return 0
    target.mkdir(parents=True, exist_ok=True)
    linked = 0
    for path in source.iterdir():
        if not path.is_file() or path.name.endswith(".part"):
            continue
        try:
            os.link(path, target / path.name)
        except FileExistsError:
            continue
        except OSError:  # another file system: a copy
            atomic_copy(path, target / path.name)
        linked += 1
    return linked


class SharedFolder:
    """The bot's and the workers' common ``data_dir``."""

    name = "shared-folder"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def job_dir(self, job_id: str) -> Path:
        return self.root / STAGING / job_id

    async def export(self, job_id: str, spec: RenderSpec) -> dict[str, Any]:
        return await asyncio.to_thread(self._export, job_id, spec)

    def _export(self, job_id: str, spec: RenderSpec) -> dict[str, Any]:
        inputs = self.job_dir(job_id) / "inputs"
        paths: dict[str, Path] = {}
        for name, path in inputs_of(spec):
            source = path.resolve()
            if not source.is_file():
                raise RenderError(f"render input missing: {path}", stage="render")
            if not source.is_relative_to(self.root):
                source = inputs / f"{name}-{path.name}"
                atomic_copy(path, source)
            paths[name] = source.relative_to(self.root)
        out = Path(STAGING, job_id, "out", REEL)  # the worker puts its attempt's folder here
        parcel: dict[str, Any] = {"spec": with_paths(spec, paths, out).model_dump(mode="json")}
        segments = folder_for(spec).resolve()
        if segments.is_dir() and segments.is_relative_to(self.root):
            parcel["segments"] = str(segments.relative_to(self.root))
        return parcel

    async def bring_in(self, job_id: str, parcel: dict[str, Any], attempt: str) -> RenderSpec:
        return await asyncio.to_thread(self._bring_in, job_id, parcel, attempt)

    def _bring_in(self, job_id: str, parcel: dict[str, Any], attempt: str) -> RenderSpec:
        spec = RenderSpec.model_validate(parcel["spec"])
        paths = {name: self._inside(path) for name, path in inputs_of(spec)}
        out = self.job_dir(job_id) / attempt / REEL
        out.parent.mkdir(parents=True, exist_ok=True)
        if parcel.get("segments"):
            kept = link_tree(self._inside(Path(parcel["segments"])), out.parent / SEGMENTS)
            logger.info("render %s: %d segment file(s) of the job's folder reused", job_id, kept)
        return with_paths(spec, paths, out)

    async def send_out(
        self, job_id: str, local: RenderSpec, names: tuple[str, ...] = OUTPUTS
    ) -> str:
        return str(local.out_path.parent.relative_to(self.root))

    async def drop(self, local: RenderSpec) -> None:
        await asyncio.to_thread(shutil.rmtree, local.out_path.parent, True)

    async def take(self, folder: str, files: dict[str, Path]) -> None:
        """The bot's side: the accepted attempt's files (its reel and thumbnails, say)."""
        source = self._inside(Path(folder))
        for name, target in files.items():
            await asyncio.to_thread(atomic_copy, source / name, target)

    async def clean(self, job_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.job_dir(job_id), True)

    async def aclose(self) -> None:
        return None

    def _inside(self, relative: Path) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise RenderError(f"render path escapes the shared folder: {relative}", stage="render")
        return path
