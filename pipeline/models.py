"""Data that flows between the stages. Pydantic at every boundary that is serialised."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field


class JobState(StrEnum):
    DRAFTING = "drafting"
    SCRIPT_REVIEW = "script_review"
    IMAGES_REVIEW = "images_review"
    QUEUED = "queued"
    PRODUCING = "producing"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in {JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED}


class Scene(BaseModel):
    narration: str
    visual_query: str = ""
    image_prompt: str = ""
    # The user's own media: a local path (relative to the script) or an http(s) URL.
    media: str | None = None


class Script(BaseModel):
    title: str
    language: str = "en"
    hook: str = ""
    scenes: list[Scene]
    hashtags: list[str] = Field(default_factory=list)
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    style_bible: str = ""
    grounded: bool = False
    # Background music: None for the default (generated), "off" for none, else the user's
    # own track: a local path or an http(s) URL (see pipeline.stages.music).
    music: str | None = None

    @property
    def narration(self) -> str:
        return "\n\n".join(scene.narration for scene in self.scenes)


class WordTiming(BaseModel):
    """One word of the script as spoken: seconds from the start of the voice track."""

    text: str
    start: float
    end: float
    scene: int


class Voiceover(BaseModel):
    audio_path: Path
    duration: float
    words: list[WordTiming]
    provider: str
    sample_rate: int


class VoiceChoice(BaseModel):
    language: str = "en"
    voice: str | None = None
    # Words per minute for engines that take one; 1.0-relative speed for others.
    rate: int = 165


class ImageCandidate(BaseModel):
    scene: int
    path: Path
    provider: str
    source_url: str | None = None


class SceneCut(BaseModel):
    """A scene's slice of the reel, in frames (the render works on the frame grid)."""

    scene: int
    image: Path
    start_frame: int
    frames: int


class AudioBed(BaseModel):
    """What plays under the narration: a music track and the effect sounds, each with the
    gain (dB) that brings it to its level in the mix. ``music`` loops when shorter than the
    reel; the transition plays at every cut, the hit under the title at the start."""

    music: Path | None = None
    music_gain_db: float = 0.0
    transition: Path | None = None
    transition_gain_db: float = 0.0
    title_hit: Path | None = None
    title_hit_gain_db: float = 0.0


class Soundtrack(BaseModel):
    """The music stage's result (``music.json``): the bed and where it came from."""

    bed: AudioBed = Field(default_factory=AudioBed)
    music_provider: str | None = None  # "user", "elevenlabs", "synth"; None: no music
    music_prompt: str | None = None
    effects_provider: str | None = None
    # How the caption credits the user's own track ("♪ name.mp3"); None for generated music.
    credit: str | None = None


class RenderSpec(BaseModel):
    width: int = 720
    height: int = 1280
    fps: int = 30
    cuts: list[SceneCut]
    audio_path: Path
    subtitles_path: Path
    total_frames: int
    out_path: Path
    bed: AudioBed | None = None


class Stage(StrEnum):
    """A job's stages (each recorded as a stage run), and the moments progress reports that
    are not stages of their own: waiting in the render queue, uploading, done."""

    SCRIPT = "script"
    IMAGES = "images"
    VOICE = "voice"
    SUBTITLES = "subtitles"
    RENDER = "render"
    PUBLISH = "publish"
    QUEUED = "queued"
    UPLOAD = "upload"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Emitted by the runner; fronts turn it into a bar or an edited chat message.
    ``position`` is the place in the render queue (1 is next) while ``stage`` is QUEUED, and
    ``eta`` the estimated seconds until that render starts (None: nothing to estimate from)."""

    stage: str
    fraction: float | None = None
    position: int | None = None
    eta: float | None = None


@dataclass(frozen=True, slots=True)
class StageTiming:
    stage: str
    provider: str
    seconds: float
    outcome: str
