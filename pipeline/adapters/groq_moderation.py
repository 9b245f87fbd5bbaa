"""Groq's safety models as a Moderator: Llama Guard 4 where the account still has it, else its
successor gpt-oss-safeguard-20b with a written policy (PROVIDERS.md 6a).

Which one is asked is chosen from ``GET /openai/v1/models`` (the SDK's model Literal is stale:
it still lists decommissioned models), once, and cached. A chosen model that Groq answers as
gone (404 ``model_not_found``, 400 ``model_decommissioned``) is dropped and the choice made
again at once; with neither model on the account every check fails at once and the chain moves on.

Answers:
- Llama Guard: exactly ``safe``, or ``unsafe`` and on the next line the categories,
  comma-separated (``unsafe\\nS1,S10``).
- Safeguard: whatever the policy asks for; ours asks for one JSON object
  ``{"violation": 0|1, "categories": ["S1"], "rationale": "..."}``, extracted from the text.
Anything else is an answer we cannot read: a ProviderError, so the next moderator decides.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import groq
from groq import AsyncGroq

from .. import catalog
from ..errors import ProviderError
from ..moderation import CATEGORIES, OTHER
from ..ports import Verdict
from ..resilience import Policy
from .groq import provider_error

logger = logging.getLogger(__name__)

PROVIDER = "groq"
LLAMA_GUARD = catalog.GROQ_LLAMA_GUARD_MODEL
SAFEGUARD = catalog.GROQ_SAFEGUARD_MODEL
PREFERENCE = (LLAMA_GUARD, SAFEGUARD)
_GONE_CODES = frozenset({"model_not_found", "model_decommissioned"})
_CODE = re.compile(r"^S(?:[1-9]|1[0-4])$")
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def policy_prompt() -> str:
    """The written policy for gpt-oss-safeguard: Llama Guard's categories, our JSON answer."""
    listed = "\n".join(f"- {code}: {name}" for code, name in CATEGORIES.items())
    return (
        "# Policy\n"
        "You check requests and scripts for a bot that makes short factual videos. Content "
        "VIOLATES the policy when it asks for, praises or gives real help with harm in one of "
        "these categories:\n"
        f"{listed}\n"
        "Content that only informs about such a subject (history, science, news, how "
        "something works) does NOT violate the policy.\n"
        "# Answer\n"
        'Answer with one JSON object and nothing else: {"violation": 0 or 1, "categories": '
        '["S1", ...] (empty when 0), "rationale": "one short sentence"}'
    )


def parse_llama_guard(content: str) -> Verdict:
    lines = [line.strip() for line in content.strip().splitlines() if line.strip()]
    head = lines[0].lower() if lines else ""
    if head == "safe":
        return Verdict(safe=True, moderator=PROVIDER)
    if head == "unsafe":
        codes = [c.strip().upper() for c in (lines[1] if len(lines) > 1 else "").split(",")]
        categories = tuple(c for c in codes if _CODE.match(c))
        if not categories:
            raise ProviderError(
                f"unreadable Llama Guard categories: {content[:80]!r}", provider=PROVIDER
            )
        return Verdict(safe=False, categories=categories, moderator=PROVIDER)
    raise ProviderError(f"unreadable Llama Guard answer: {content[:80]!r}", provider=PROVIDER)


def parse_safeguard(content: str) -> Verdict:
    match = _JSON.search(content)
    try:
        answer: Any = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        answer = None
    violation = answer.get("violation") if isinstance(answer, dict) else None
    if violation not in (0, 1, True, False):
        raise ProviderError(f"unreadable safeguard answer: {content[:80]!r}", provider=PROVIDER)
    if not violation:
        return Verdict(safe=True, moderator=PROVIDER)
    named = answer.get("categories", answer.get("category"))
    listed = named if isinstance(named, list) else [named]
    codes = [str(code).strip().upper() for code in listed if code]
    categories = tuple(code for code in codes if _CODE.match(code)) or (OTHER,)
    return Verdict(safe=False, categories=categories, moderator=PROVIDER)


class _Gone(Exception):
    """Groq says the model was removed (404 model_not_found, 400 model_decommissioned)."""


class GroqModerator:
    """Moderator on Groq; ``policy`` is the chain's retry policy for one check."""

    name = PROVIDER

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout: float = 20.0, attempts: int = 2
    ) -> None:
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._client = AsyncGroq(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self._listed: frozenset[str] | None = None  # the account's models, once read
        self._gone: set[str] = set()
        self._lock = asyncio.Lock()

    async def model(self) -> str:
        """The safety model to ask, from the account's model list (read once)."""
        async with self._lock:
            if self._listed is None:
                try:
                    listing: Any = await self._client.models.list()
                    self._listed = frozenset(str(m.id) for m in listing.data)
                except (groq.GroqError, ValueError, AttributeError, TypeError) as exc:
                    raise _translate(exc) from exc
                logger.info(
                    "groq moderation: %s",
                    next((m for m in PREFERENCE if m in self._listed), "no safety model"),
                )
        for candidate in PREFERENCE:
            if candidate in self._listed and candidate not in self._gone:
                return candidate
        raise ProviderError("no safety model on this account", provider=PROVIDER)

    async def check(self, text: str) -> Verdict:
        for _ in PREFERENCE:
            model = await self.model()
            try:
                content = await self._ask(model, text)
            except _Gone:
                continue  # dropped: the next model on the list is asked now
            return parse_llama_guard(content) if model == LLAMA_GUARD else parse_safeguard(content)
        raise ProviderError("every safety model is gone", provider=PROVIDER)

    async def _ask(self, model: str, text: str) -> str:
        if model == LLAMA_GUARD:
            messages: list[Any] = [{"role": "user", "content": text}]
            extra: dict[str, Any] = {"max_completion_tokens": 20}
        else:
            messages = [
                {"role": "system", "content": policy_prompt()},
                {"role": "user", "content": text},
            ]
            extra = {
                "max_completion_tokens": 1024,
                "reasoning_effort": "low",
                "include_reasoning": False,
            }
        try:
            completion: Any = await self._client.chat.completions.create(
                model=model, messages=messages, temperature=0, **extra
            )
        except groq.APIStatusError as exc:
            if (code := _error_code(exc.body)) in _GONE_CODES:
                self._gone.add(model)
                logger.warning("groq moderation: %s is gone (%s)", model, code)
                raise _Gone(model) from exc
            raise provider_error(exc) from exc
        except (groq.GroqError, ValueError) as exc:
            raise provider_error(exc) from exc
        return _content(completion)

    async def aclose(self) -> None:
        await self._client.close()


def _translate(exc: Exception) -> ProviderError:
    if isinstance(exc, groq.GroqError | ValueError):
        return provider_error(exc)
    return ProviderError(f"malformed model list ({type(exc).__name__})", provider=PROVIDER)


def _content(completion: Any) -> str:
    try:
        content = completion.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise ProviderError("malformed response: no message content", provider=PROVIDER)
    return content


def _error_code(body: object) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


__all__ = ["LLAMA_GUARD", "SAFEGUARD", "GroqModerator", "parse_llama_guard", "parse_safeguard"]
