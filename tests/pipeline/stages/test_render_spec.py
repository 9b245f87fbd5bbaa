"""The codec every render, speculation and worker builds: its encoder threads."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.settings import Settings
from pipeline.stages.render_spec import (
    codec_for,
    segments_at_once,
    speculative_at_once,
    threads_per_segment,
)


def test_segments_encoded_side_by_side_share_the_cores() -> None:
    cores = os.cpu_count() or 1
    assert threads_per_segment(1) == cores
    assert threads_per_segment(2) == max(1, cores // 2)
    assert threads_per_segment(cores * 4) == 1  # never none


async def test_the_codec_takes_the_configured_threads_or_the_cores_share(tmp_path: Path) -> None:
    auto = Settings(data_dir=tmp_path, encoder="libx264", render_parallel=2)
    assert (await codec_for(auto)).threads == threads_per_segment(2)
    fixed = auto.model_copy(update={"render_threads": 3})
    assert (await codec_for(fixed)).threads == 3
    # Part of a segment's key: segments encoded with other threads are not reused.
    assert (await codec_for(auto)).key() != (await codec_for(fixed)).key()


def test_by_default_a_small_machine_encodes_one_segment_at_a_time(tmp_path: Path) -> None:
    cores = os.cpu_count() or 1
    auto = Settings(data_dir=tmp_path)
    assert segments_at_once(auto) == (1 if cores <= 2 else 2)
    assert speculative_at_once(auto) == segments_at_once(auto)  # as many as a render
    assert segments_at_once(auto.model_copy(update={"render_parallel": 3})) == 3
    assert speculative_at_once(auto.model_copy(update={"speculative_renders": 0})) == 0
