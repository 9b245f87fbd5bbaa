"""The names of a job's files, the same in its work folder and under its prefix in the blob
store (``reels/YYYY/MM/DD/<job-id>/``). Defined once; every module uses these."""

from __future__ import annotations

__all__ = [
    "CLI_OUTPUTS",
    "REEL",
    "RENDER_JSON",
    "SCRIPT",
    "SUBTITLES",
    "THUMB",
    "THUMB_SMALL",
    "TIMINGS",
    "VOICE_AUDIO",
    "VOICE_JSON",
]

REEL = "reel.mp4"
THUMB = "thumb.jpg"  # 360x640, taken from the reel
THUMB_SMALL = "thumb-small.jpg"  # at most 320 px a side: a chat's video preview
SCRIPT = "script.json"
SUBTITLES = "subs.ass"
TIMINGS = "timings.json"
VOICE_AUDIO = "voice.wav"
VOICE_JSON = "voice.json"
RENDER_JSON = "render.json"  # the render's facts: width, height, duration, bytes

# What ``reelfactory render`` and ``make`` copy to their output folder.
CLI_OUTPUTS = (REEL, THUMB, SUBTITLES, SCRIPT, TIMINGS)
