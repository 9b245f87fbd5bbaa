"""The music bed under the narration: the filtergraph that ducks, places and mixes it.

Per voice stream (the render has one; the graph is written for several):

- the music, brought to its bed level, looped and cut to the reel, faded in and out, goes
  through ``sidechaincompress`` keyed by the voice: while words are spoken it drops by well
  over 15 dB, in pauses it comes back up;
- the transition sound plays at every cut, its loudest point on the cut, and the hit at the
  start, under the title; neither is ducked (the cuts fall in the pauses);
- voice, ducked music and effects are summed (no normalisation) and limited at the voice's
  ceiling, so overlaps can not push the true peak over it.

Loudness needs no analysis of the mix: the bed sits at -26 LUFS (``BED_LUFS`` in the music
stage), 12 LU under the voice, so in EBU R128's gating its pause blocks fall under the
relative gate (10 LU below the voice) and do not count, while under words it is ducked by
20 dB and more. The whole mix then measures what the voice's plan measured, within a few
tenths of a LU (measured -14.0 to -14.3 LUFS), and the loudness search keeps its cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.models import RenderSpec
from pipeline.render.audio import AUDIO_RATE
from pipeline.render.ffmpeg import file_url

# The music's fades; shorter reels get shorter ones.
FADE_IN = 1.5
FADE_OUT = 2.0
# Ducking: the key is the voice after its loudness chain (about -14 LUFS in words). From a
# -34 dBFS threshold at ratio 20 the music drops ~25 dB under words (measured on espeak: median
# 25 dB, 10th percentile 18.5 dB) and a 100 ms release has it fully back in a 0.3 s pause.
_DUCK = (
    "sidechaincompress=threshold=0.02:ratio=20:attack=5:release=100:knee=4:detection=rms:makeup=1"
)
# Where the transition sound peaks (synth whoosh: 40% in); it is placed so that lands on the cut.
TRANSITION_PEAK = 0.4
TITLE_HIT_AT = 0.05  # seconds: the hit lands with the first frame's title


@dataclass(frozen=True, slots=True)
class Cue:
    """One effect sound starting ``at`` seconds into the reel."""

    path: Path
    at: float
    gain_db: float


@dataclass(frozen=True, slots=True)
class Bed:
    """A bed placed on one reel's timeline: what :func:`mix_graph` needs."""

    duration: float  # of the reel, seconds
    music: Path | None = None
    music_gain_db: float = 0.0
    cues: tuple[Cue, ...] = ()

    @property
    def sources(self) -> list[Path]:
        """The bed's input files, in input order: the music, then each distinct cue file."""
        files: list[Path] = [self.music] if self.music is not None else []
        for cue in self.cues:
            if cue.path not in files:
                files.append(cue.path)
        return files

    def input_args(self) -> list[str]:
        args: list[str] = []
        for path in self.sources:
            if path == self.music:
                # A track shorter than the reel repeats; the graph cuts it to length.
                args += ["-stream_loop", "-1"]
            args += ["-i", file_url(path)]
        return args

    @property
    def empty(self) -> bool:
        return self.music is None and not self.cues


def place_bed(spec: RenderSpec, transition_length: float = 1.0) -> Bed | None:
    """``spec.bed`` on the reel's timeline: the transition at every cut, the hit at 0."""
    bed = spec.bed
    if bed is None:
        return None
    duration = spec.total_frames / spec.fps
    cues: list[Cue] = []
    if bed.title_hit is not None:
        cues.append(Cue(bed.title_hit, min(TITLE_HIT_AT, duration / 2), bed.title_hit_gain_db))
    if bed.transition is not None:
        lead = TRANSITION_PEAK * transition_length
        for cut in spec.cuts[1:]:
            at = cut.start_frame / spec.fps - lead
            cues.append(Cue(bed.transition, max(at, 0.0), bed.transition_gain_db))
    placed = Bed(duration, bed.music, bed.music_gain_db, tuple(cues))
    return None if placed.empty else placed


def _formats() -> str:
    return f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=mono"


def _fades(duration: float) -> str:
    fade_in = min(FADE_IN, duration / 4)
    fade_out = min(FADE_OUT, duration / 3)
    return (
        f"afade=t=in:d={fade_in:.3f}:curve=qsin,"
        f"afade=t=out:st={max(duration - fade_out, 0):.3f}:d={fade_out:.3f}:curve=qsin"
    )


def _split(label: str, count: int, names: list[str]) -> str:
    """``asplit`` into ``names`` (or a plain rename when there is one)."""
    outs = "".join(f"[{name}]" for name in names)
    return f"asplit={count}{outs}" if count > 1 else f"anull{outs}"


def mix_graph(
    bed: Bed, *, voices: list[str], outs: list[str], first_input: int, ceiling_db: float
) -> list[str]:
    """Filtergraph chains mixing ``bed`` under each voice stream ``voices[i]`` (a label,
    48 kHz mono float) into ``outs[i]``. The bed's files are inputs ``first_input`` on, in
    :attr:`Bed.sources` order; each is decoded once and split among the voices."""
    copies = len(voices)
    index = {path: first_input + n for n, path in enumerate(bed.sources)}
    parts: list[str] = []
    if bed.music is not None:
        names = [f"bed{i}" for i in range(copies)]
        parts.append(
            f"[{index[bed.music]}:a:0]{_formats()},volume={bed.music_gain_db:.2f}dB,"
            f"atrim=end={bed.duration:.3f},asetpts=N/SR/TB,{_fades(bed.duration)},"
            + _split("music", copies, names)
        )
    uses: dict[Path, list[Cue]] = {}
    for cue in bed.cues:
        uses.setdefault(cue.path, []).append(cue)
    cue_labels: list[list[str]] = [[] for _ in range(copies)]
    for n, (path, cues) in enumerate(uses.items()):
        names = [f"fx{n}_{i}_{j}" for i in range(copies) for j in range(len(cues))]
        parts.append(f"[{index[path]}:a:0]{_formats()}," + _split("fx", len(names), names))
        for i in range(copies):
            for j, cue in enumerate(cues):
                delay = round(cue.at * 1000)
                label = f"fxd{n}_{i}_{j}"
                parts.append(
                    f"[fx{n}_{i}_{j}]volume={cue.gain_db:.2f}dB,"
                    f"adelay=delays={delay}:all=1[{label}]"
                )
                cue_labels[i].append(label)
    limit = 10 ** (ceiling_db / 20)
    for i, (voice, out) in enumerate(zip(voices, outs, strict=True)):
        inputs = [f"vm{i}"]
        if bed.music is not None:
            parts.append(f"[{voice}]asplit=2[vm{i}][vk{i}]")
            parts.append(f"[bed{i}][vk{i}]{_DUCK}[duck{i}]")
            inputs.append(f"duck{i}")
        else:
            parts.append(f"[{voice}]anull[vm{i}]")
        inputs += cue_labels[i]
        pads = "".join(f"[{label}]" for label in inputs)
        parts.append(
            f"{pads}amix=inputs={len(inputs)}:normalize=0:duration=first,"
            # level=false: no rescaling to 0 dBFS; latency=true keeps the words in place.
            f"alimiter=limit={limit:.5f}:attack=2:release=40:level=false:latency=true[{out}]"
        )
    return parts


def audio_graph(voice_input: int, voice_filters: str, bed: Bed, ceiling_db: float) -> str:
    """The render's audio filtergraph: input ``voice_input`` through its loudness chain,
    ``bed`` (inputs from ``voice_input + 1`` on) mixed under it, out as ``[mix]``."""
    mix = mix_graph(
        bed, voices=["voice"], outs=["mix"], first_input=voice_input + 1, ceiling_db=ceiling_db
    )
    return ";".join([f"[{voice_input}:a:0]{voice_filters}[voice]", *mix])
