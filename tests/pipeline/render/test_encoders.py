"""Choosing the H.264 encoder: probing the real ffmpeg, falling back to libx264 for real.

The wheel's static ffmpeg lists NVENC, QSV and VAAPI encoders, and this machine has no GPU:
each is listed and fails its test encode, which is the fallback path, run for real. A
hardware encode itself is not run here (see pipeline.render.encoders)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.app import App
from pipeline.providers import build_offline
from pipeline.render import encoders, resolve_ffmpeg
from pipeline.render.graph import Codec, build_segment_args
from pipeline.settings import Settings
from pipeline.stages.script import parse_script
from tests.pipeline.render.test_graph import spec_and_motions
from tests.pipeline.test_runner import SHORT_SCRIPT

BINARY = resolve_ffmpeg()


@pytest.fixture(autouse=True)
def fresh_probe() -> Iterator[None]:
    encoders._chosen.clear()
    yield
    encoders._chosen.clear()


async def test_the_ffmpeg_lists_its_encoders() -> None:
    found = await encoders.listed(BINARY)
    assert "libx264" in found and "h264_nvenc" in found and "aac" in found
    assert "h264_videotoolbox" not in found  # an Apple-only encoder in a Linux build


async def test_a_test_encode_works_with_libx264_and_fails_without_a_gpu() -> None:
    assert await encoders.trial(BINARY, "libx264", vaapi_device="/dev/dri/renderD128") is None
    failure = await encoders.trial(BINARY, "h264_nvenc", vaapi_device="/dev/dri/renderD128")
    assert failure  # listed, but there is no CUDA driver to open


async def test_auto_falls_back_to_libx264_when_the_listed_hardware_fails() -> None:
    choice = await encoders.choose("auto", binary=BINARY, vaapi_device="/dev/dri/renderD128")
    assert choice.encoder == "libx264" and not choice.fell_back
    assert set(choice.refused) == set(encoders.HARDWARE)
    assert choice.refused["h264_videotoolbox"] == "not in this ffmpeg"
    assert choice.refused["h264_nvenc"] != "not in this ffmpeg"  # tried, and failed
    again = await encoders.choose("auto", binary=BINARY, vaapi_device="/dev/dri/renderD128")
    assert again is choice  # probed once


async def test_a_named_hardware_encoder_that_fails_falls_back() -> None:
    choice = await encoders.choose("h264_vaapi", binary=BINARY, vaapi_device="/dev/dri/nothing")
    assert choice.encoder == "libx264" and choice.fell_back
    assert list(choice.refused) == ["h264_vaapi"]
    with pytest.raises(ValueError):
        await encoders.choose("h265_magic", binary=BINARY, vaapi_device="")


@pytest.mark.parametrize("encoder", encoders.HARDWARE)
def test_every_hardware_encoder_is_capped_by_bitrate(encoder: str) -> None:
    args = encoders.video_args(
        encoder, preset="veryfast", crf=23, maxrate=1_000_000, bufsize=2_000_000, x264_params=""
    )
    assert args[args.index("-maxrate") + 1] == "1000000"
    assert args[args.index("-bufsize") + 1] == "2000000"
    assert "-crf" not in args and args[args.index("-c:v") + 1] == encoder


def test_vaapi_uploads_its_frames_and_names_its_device() -> None:
    spec, motions = spec_and_motions([60, 45])
    vaapi = Codec(encoder="h264_vaapi", vaapi_device="/dev/dri/renderD129")
    args = build_segment_args(
        spec, 1, motions[1], Path("/s.mp4"), fonts_dir=Path("/fonts"), codec=vaapi
    )
    assert args.index("-vaapi_device") < args.index("-i")
    assert args[args.index("-vaapi_device") + 1] == "/dev/dri/renderD129"
    graph = args[args.index("-filter_complex") + 1]
    assert graph.endswith("format=nv12,hwupload[video]")
    software = build_segment_args(
        spec, 1, motions[1], Path("/s.mp4"), fonts_dir=Path("/fonts"), codec=Codec()
    )
    assert "-vaapi_device" not in software and "-crf" in software


async def test_the_render_records_the_encoder_that_served(settings: Settings) -> None:
    settings = settings.model_copy(update={"encoder": "h264_nvenc", "music_enabled": False})
    async with await App.open(settings, build_offline(settings)) as app:
        job = await app.new_job(parse_script(SHORT_SCRIPT), style="bold-yellow")
        await app.runner.produce(job.id, candidates=1)
        (render,) = [run for run in await app.runs.for_job(job.id) if run.stage == "render"]
        assert render.outcome == "ok" and render.provider == "ffmpeg:libx264"
        facts = json.loads((Path(job.work_dir) / "render.json").read_text())
        assert facts["encoder"] == "libx264"
