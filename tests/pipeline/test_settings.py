from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.settings import Settings


def test_blank_lines_in_env_mean_not_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "REELFACTORY_GEMINI_API_KEY=\nREELFACTORY_ADMIN_IDS=\nREELFACTORY_DATA_DIR=\n"
        "REELFACTORY_GROQ_API_KEY=gsk_secret\nREELFACTORY_IMAGE_CHAIN=gemini, cards\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("REELFACTORY_")]:
        monkeypatch.delenv(name)
    settings = Settings()
    assert settings.gemini_api_key is None
    assert settings.admin_ids == []
    assert settings.data_dir == Path("data")
    assert settings.image_chain == ["gemini", "cards"]
    assert settings.groq_api_key is not None
    assert "gsk_secret" not in repr(settings) and "gsk_secret" not in str(settings.model_dump())
