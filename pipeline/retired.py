"""Models a provider has retired: found from each provider's own model list (Groq
``GET /openai/v1/models``, Gemini ``models.list``), not from an SDK's stale list of names.

``doctor`` reports them; ``serve`` also takes the adapters that use them out of their chains
(so no job waits on a 400 ``model_decommissioned`` first) and alerts the admins. A list that
cannot be read changes nothing: the chains stay as built and the reason is reported.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from . import catalog
from .alerts import Alerter, Cause, Kind
from .errors import ProviderError
from .providers import Providers
from .settings import Settings

logger = logging.getLogger(__name__)

ERROR = "ModelRetired"


@dataclass(frozen=True, slots=True)
class Gone:
    provider: str
    model: str
    used_for: str  # the chain it serves: script, voice, align, images

    @property
    def replacement(self) -> str | None:
        return catalog.RETIRED_MODELS.get(self.model)

    def __str__(self) -> str:
        instead = f"; use {self.replacement}" if self.replacement else ""
        return f"{self.provider} no longer serves {self.model} ({self.used_for}){instead}"


@dataclass(slots=True)
class ModelCheck:
    gone: list[Gone] = field(default_factory=list)
    listed: dict[str, int] = field(default_factory=dict)  # provider -> models it listed
    unreadable: dict[str, str] = field(default_factory=dict)  # provider -> why


def configured_models(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """Per provider with a key: the (model, chain) pairs this deployment uses."""
    models: dict[str, list[tuple[str, str]]] = {}
    if settings.groq_api_key is not None:
        models["groq"] = [
            (catalog.GROQ_CHAT_MODEL, "script"),
            (catalog.GROQ_WHISPER_MODEL, "align"),
        ]
    if settings.gemini_api_key is not None:
        models["gemini"] = [
            (catalog.GEMINI_SCRIPT_MODEL, "script"),
            (catalog.GEMINI_TTS_MODEL, "voice"),
            (catalog.GEMINI_IMAGE_MODEL, "images"),
        ]
    return models


async def _listed(settings: Settings, provider: str, timeout: float) -> set[str]:
    if provider == "groq":
        from .adapters.groq import available_models

        assert settings.groq_api_key is not None
        return await available_models(
            settings.groq_api_key.get_secret_value(),
            base_url=settings.groq_base_url,
            timeout=timeout,
        )
    from .adapters.gemini import available_models as gemini_models

    assert settings.gemini_api_key is not None
    return await gemini_models(
        settings.gemini_api_key.get_secret_value(),
        base_url=settings.gemini_base_url,
        timeout=timeout,
    )


async def check_models(settings: Settings, *, timeout: float = 10.0) -> ModelCheck:
    """Ask every configured provider which models it serves now; the ones we use that it no
    longer lists are ``gone``."""
    check = ModelCheck()
    wanted = configured_models(settings)

    async def one(provider: str) -> None:
        try:
            listed = await asyncio.wait_for(_listed(settings, provider, timeout), timeout)
        except (ProviderError, TimeoutError) as exc:
            check.unreadable[provider] = str(exc) or type(exc).__name__
            return
        check.listed[provider] = len(listed)
        check.gone += [
            Gone(provider, model, used_for)
            for model, used_for in wanted[provider]
            if model not in listed
        ]

    await asyncio.gather(*(one(provider) for provider in wanted))
    check.gone.sort(key=lambda gone: (gone.provider, gone.used_for))
    return check


def skip_gone(providers: Providers, gone: list[Gone]) -> list[str]:
    """Take every adapter that would call a gone model out of its chain; what was taken."""
    chains = {
        "script": providers.writers,
        "voice": providers.synths,
        "align": providers.aligners,
        "images": providers.images,
    }
    skipped = []
    for item in gone:
        chain: list[object] = chains[item.used_for]  # type: ignore[assignment]
        for adapter in [a for a in chain if getattr(a, "name", None) == item.provider]:
            chain.remove(adapter)
            skipped.append(f"{item.used_for}:{item.provider}")
    return skipped


async def retire(settings: Settings, providers: Providers, *, timeout: float = 10.0) -> ModelCheck:
    """At start-up: check the models and skip the gone ones in ``providers``' chains."""
    check = await check_models(settings, timeout=timeout)
    for provider, why in check.unreadable.items():
        logger.warning("models: could not read %s's model list: %s", provider, why)
    for item in check.gone:
        logger.error("models: %s; skipped in the %s chain", item, item.used_for)
    skip_gone(providers, check.gone)
    return check


async def alert_gone(alerter: Alerter, check: ModelCheck) -> None:
    """One alert per gone model (deduplicated across restarts by the alerter)."""
    for item in check.gone:
        await alerter.report(
            Cause(Kind.MODEL_RETIRED, item.used_for, item.provider, ERROR),
            message=f"{item}; it is skipped in the {item.used_for} chain",
        )


__all__ = ["Gone", "ModelCheck", "alert_gone", "check_models", "retire", "skip_gone"]
