"""Rendering reels with ffmpeg: timeline, stills, loudness, scene segments and their join,
probing."""

from pipeline.render import encoders
from pipeline.render.audio import LoudnessReport, measure_loudness
from pipeline.render.ffmpeg import resolve_ffmpeg, run_ffmpeg
from pipeline.render.graph import Codec, video_maxrate
from pipeline.render.mix import Bed, place_bed
from pipeline.render.narration import VoicePlan, plan_voice
from pipeline.render.probe import MediaInfo, count_frames, probe
from pipeline.render.reel import RenderResult, render_reel
from pipeline.render.soundtrack import render_soundtrack
from pipeline.render.stills import Motion, prepare_still
from pipeline.render.timeline import plan_cuts, total_frames_for

__all__ = [
    "Bed",
    "Codec",
    "LoudnessReport",
    "MediaInfo",
    "Motion",
    "RenderResult",
    "VoicePlan",
    "count_frames",
    "encoders",
    "measure_loudness",
    "plan_cuts",
    "place_bed",
    "plan_voice",
    "prepare_still",
    "probe",
    "render_reel",
    "render_soundtrack",
    "resolve_ffmpeg",
    "run_ffmpeg",
    "total_frames_for",
    "video_maxrate",
]
