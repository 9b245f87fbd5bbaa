"""Retired models: the providers' own lists (the real SDKs against the fakes) say which of our
models are gone; the fakes answer a retired id as the services do; a gone model is reported,
skipped in its chain, and alerted once."""

from __future__ import annotations

import groq
import pytest
from groq import AsyncGroq
from pydantic import SecretStr

from pipeline import catalog
from pipeline.adapters.gemini import GeminiScriptWriter
from pipeline.adapters.gemini import available_models as gemini_models
from pipeline.adapters.groq import GroqScriptWriter, available_models
from pipeline.alerts import Alerter
from pipeline.errors import ProviderError
from pipeline.providers import build
from pipeline.retired import alert_gone, check_models, retire
from pipeline.settings import Settings
from storage import AlertRepository, Database
from tests.fakes.gemini import FakeGemini
from tests.fakes.groq import FakeGroq, status

MAVERICK = "meta-llama/llama-4-maverick-17b-128e-instruct"
KEY = "gsk_" + "R" * 40


def test_the_catalog_uses_current_ids() -> None:
    assert catalog.GROQ_CHAT_MODEL == "openai/gpt-oss-120b"
    assert catalog.RETIRED_MODELS[MAVERICK] == catalog.GROQ_CHAT_MODEL
    assert catalog.GROQ_CHAT_MODEL not in catalog.RETIRED_MODELS


async def test_groq_lists_its_models_and_refuses_retired_ids() -> None:
    async with FakeGroq() as fake:
        listed = await available_models(KEY, base_url=fake.base_url, timeout=5)
        assert catalog.GROQ_CHAT_MODEL in listed and catalog.GROQ_WHISPER_MODEL in listed
        assert MAVERICK not in listed
        assert fake.of("models")[0].headers["Authorization"] == f"Bearer {KEY}"
        client = AsyncGroq(api_key=KEY, base_url=fake.base_url, max_retries=0)
        async with client:
            with pytest.raises(groq.BadRequestError) as retired:
                await client.chat.completions.create(
                    model=MAVERICK, messages=[{"role": "user", "content": "hi"}]
                )
            with pytest.raises(groq.NotFoundError) as unknown:
                await client.chat.completions.create(
                    model="llama-9-giant", messages=[{"role": "user", "content": "hi"}]
                )
        assert retired.value.status_code == 400 and unknown.value.status_code == 404
        assert error_code(retired.value.body) == "model_decommissioned"
        assert error_code(unknown.value.body) == "model_not_found"
        assert "has been decommissioned" in retired.value.message


def error_code(body: object) -> object:
    assert isinstance(body, dict)
    return body["error"]["code"]


async def test_a_writer_on_a_retired_id_fails_without_retrying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog, "GROQ_CHAT_MODEL", MAVERICK)
    async with FakeGroq() as fake:
        writer = GroqScriptWriter(KEY, base_url=fake.base_url, timeout=5, attempts=3)
        try:
            with pytest.raises(ProviderError) as caught:
                await writer.policy.call(lambda: writer.write("octopus", language="en", seconds=30))
        finally:
            await writer.aclose()
    assert not caught.value.retryable and caught.value.status == 400
    assert "decommissioned" in str(caught.value)
    assert len(fake.of("chat")) == 1


async def test_gemini_lists_its_models_over_pages_and_404s_unknown_ones() -> None:
    async with FakeGemini() as fake:
        fake.models = [f"gemini-extra-{n}" for n in range(30)] + [catalog.GEMINI_SCRIPT_MODEL]
        listed = await gemini_models("AIza" + "G" * 35, base_url=fake.base_url, timeout=5)
        assert catalog.GEMINI_SCRIPT_MODEL in listed and len(listed) == 31
        writer = GeminiScriptWriter(
            "AIza" + "G" * 35, base_url=fake.base_url, timeout=5, attempts=1, model="gemini-1.0-pro"
        )
        try:
            with pytest.raises(ProviderError) as caught:
                await writer.write("octopus", language="en", seconds=30)
        finally:
            await writer.aclose()
    assert caught.value.status == 404 and "not found" in str(caught.value)


def settings_for(settings: Settings, groq: FakeGroq, gemini: FakeGemini) -> Settings:
    return settings.model_copy(
        update={
            "groq_api_key": SecretStr(KEY),
            "groq_base_url": groq.base_url,
            "gemini_api_key": SecretStr("AIza" + "G" * 35),
            "gemini_base_url": gemini.base_url,
            "script_chain": ["gemini", "groq"],
            "voice_chain": ["gemini", "espeak"],
            "image_chain": ["gemini", "cards"],
        }
    )


class Notes:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, admin: str, text: str) -> None:
        self.sent.append(text)


async def test_a_gone_model_is_reported_skipped_and_alerted_once(
    settings: Settings, db: Database
) -> None:
    async with FakeGroq() as groq, FakeGemini() as gemini:
        groq.models.remove(catalog.GROQ_CHAT_MODEL)  # as if retired
        gemini.models.remove(catalog.GEMINI_TTS_MODEL)
        config = settings_for(settings, groq, gemini)
        check = await check_models(config, timeout=5)
        assert [(g.provider, g.model, g.used_for) for g in check.gone] == [
            ("gemini", catalog.GEMINI_TTS_MODEL, "voice"),
            ("groq", catalog.GROQ_CHAT_MODEL, "script"),
        ]
        assert check.unreadable == {} and check.listed["groq"] == len(groq.models)

        providers = build(config)
        try:
            assert providers.describe()["script"] == ["gemini", "groq"]
            assert providers.describe()["voice"] == ["gemini", "espeak"]
            await retire(config, providers, timeout=5)
            assert providers.describe()["script"] == ["gemini"]
            assert providers.describe()["voice"] == ["espeak"]
            assert providers.describe()["align"] == ["groq"]  # Whisper is still there
            assert providers.describe()["images"] == ["gemini", "cards"]
        finally:
            await providers.aclose()

        notes = Notes()
        alerter = Alerter.from_settings(config, AlertRepository(db), notes, admins=["telegram:1"])
        await alert_gone(alerter, check)
        await alert_gone(alerter, check)  # a restart: the same causes are not sent again
    assert len(notes.sent) == 2
    assert all("a configured model is retired" in text for text in notes.sent)
    assert any(catalog.GROQ_CHAT_MODEL in text for text in notes.sent)
    assert all(KEY not in text for text in notes.sent)


async def test_an_unreadable_list_changes_nothing(settings: Settings) -> None:
    async with FakeGroq() as groq, FakeGemini() as gemini:
        groq.push("models", status(500))
        config = settings_for(settings, groq, gemini)
        providers = build(config)
        try:
            check = await retire(config, providers, timeout=5)
            assert "500" in check.unreadable["groq"] and check.gone == []
            assert providers.describe()["script"] == ["gemini", "groq"]
        finally:
            await providers.aclose()
