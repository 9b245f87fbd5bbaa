"""The sound cache: one generation per (provider, kind, prompt, length)."""

from __future__ import annotations

from pathlib import Path

from pipeline.adapters.sound_cache import CachedSounds, sound_key


class CountingMaker:
    name = "counting"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []

    def music_prompt(self, mood: str, seed: int) -> str:
        return f"{mood} {seed}"

    async def music(self, prompt: str, *, mood: str, seed: int, seconds: float, out: Path) -> Path:
        self.calls.append(("music", prompt, seconds))
        path = out.with_suffix(".mp3")
        path.write_bytes(f"music {prompt} {seconds}".encode())
        return path

    async def effect(self, prompt: str, *, seconds: float, out: Path) -> Path:
        self.calls.append(("effect", prompt, seconds))
        path = out.with_suffix(".wav")
        path.write_bytes(f"effect {prompt} {seconds}".encode())
        return path


async def test_a_second_job_gets_the_first_ones_sound(tmp_path: Path) -> None:
    inner = CountingMaker()
    cache = CachedSounds(inner, tmp_path / "cache")
    (tmp_path / "job1").mkdir()
    (tmp_path / "job2").mkdir()
    first = await cache.effect("whoosh", seconds=1.0, out=tmp_path / "job1" / "sfx")
    second = await cache.effect("whoosh", seconds=1.0, out=tmp_path / "job2" / "sfx")
    assert inner.calls == [("effect", "whoosh", 1.0)]
    assert second == tmp_path / "job2" / "sfx.wav" and second.read_bytes() == first.read_bytes()
    assert (
        tmp_path / "cache" / "sounds" / f"{sound_key('counting', 'effect', 'whoosh', 1.0)}.wav"
    ).is_file()


async def test_another_prompt_length_or_kind_is_another_entry(tmp_path: Path) -> None:
    inner = CountingMaker()
    cache = CachedSounds(inner, tmp_path / "cache")
    await cache.music("calm 1", mood="calm", seed=1, seconds=30.0, out=tmp_path / "a")
    await cache.music("calm 1", mood="calm", seed=1, seconds=31.0, out=tmp_path / "b")
    await cache.music("calm 2", mood="calm", seed=2, seconds=30.0, out=tmp_path / "c")
    await cache.effect("calm 1", seconds=30.0, out=tmp_path / "d")
    await cache.music(
        "calm 1", mood="calm", seed=1, seconds=30.04, out=tmp_path / "e"
    )  # same 0.1 s
    assert len(inner.calls) == 4
    assert (tmp_path / "e.mp3").read_bytes() == b"music calm 1 30.0"
    assert cache.name == "counting" and cache.music_prompt("calm", 3) == "calm 3"
