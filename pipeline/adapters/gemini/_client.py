"""What the three Gemini adapters share: one SDK client per key and endpoint, the call, and the
translation of the SDK's failures into ProviderError at the boundary.

Our Policy must be the only retry layer. Without retry options google-genai already makes one
try per HTTP status, but it still retries an aiohttp connection error once, after sleeping 1-10 s;
only *setting* retry options turns that off, hence ``HttpRetryOptions(attempts=1)``.
We hand the SDK our own aiohttp session: the one it builds itself subclasses ClientSession, which
aiohttp answers with a DeprecationWarning (an error under ``filterwarnings = error``).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
from datetime import UTC, datetime
from typing import Any

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.genai.client import AsyncClient

from ...errors import ProviderError
from ...resilience import Policy

logger = logging.getLogger(__name__)

PROVIDER = "gemini"
# Large enough for the one-line base64 bodies of audio and image answers.
_READ_BUFSIZE = 2**22
_RETRYABLE_STATUSES = {408, 429}
_MAX_MESSAGE = 300
# We pass no Python functions as tools; disabling AFC also skips an INFO log line per call.
_NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


class _SharedClient:
    """A google-genai client and the aiohttp session under it, built lazily inside the running
    loop (an aiohttp session belongs to one loop) and closed when its last adapter closes."""

    def __init__(self, api_key: str, base_url: str | None, timeout: float) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_ms = max(1, round(timeout * 1000))
        self.users = 0
        self._client: genai.Client | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    async def aio(self) -> AsyncClient:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._client is not None:
                logger.warning("gemini client used from a second event loop; making a new one")
            self._client, self._session, self._loop = None, None, loop
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is None:
                session = aiohttp.ClientSession(trust_env=True, read_bufsize=_READ_BUFSIZE)
                options = types.HttpOptions(
                    base_url=self._base_url,
                    timeout=self._timeout_ms,
                    retry_options=types.HttpRetryOptions(attempts=1),
                    aiohttp_client=session,
                )
                try:
                    # Building the client loads CA bundles (~60-90 ms): not on the event loop.
                    client = await asyncio.to_thread(
                        genai.Client, api_key=self._api_key, http_options=options
                    )
                except BaseException:  # cancelled by a policy timeout, too
                    await session.close()
                    raise
                self._client, self._session = client, session
        return self._client.aio

    async def close(self) -> None:
        client, session = self._client, self._session
        self._client = self._session = self._loop = None
        if client is not None:
            await client.aio.aclose()
            client.close()
        if session is not None:
            await session.close()


_clients: dict[tuple[str, str | None, float], _SharedClient] = {}


class GeminiAdapter:
    """Base of the Gemini adapters: a Policy for the chain and a shared SDK client."""

    name = PROVIDER

    def __init__(
        self, api_key: str, *, base_url: str | None, timeout: float, attempts: int
    ) -> None:
        if not api_key:
            raise ValueError("a Gemini API key is required")
        self.policy = Policy(provider=PROVIDER, timeout=timeout, attempts=attempts)
        self._base_url = base_url
        key = (api_key, base_url, timeout)
        shared = _clients.get(key)
        if shared is None:
            shared = _clients[key] = _SharedClient(api_key, base_url, timeout)
        shared.users += 1
        self._shared = shared
        self._key: tuple[str, str | None, float] | None = key

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    async def aclose(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        self._shared.users -= 1
        if self._shared.users <= 0:
            if _clients.get(key) is self._shared:
                del _clients[key]
            await self._shared.close()

    async def _generate(
        self, model: str, contents: str, config: types.GenerateContentConfig
    ) -> types.GenerateContentResponse:
        if self._key is None:
            raise RuntimeError(f"{self!r} is closed")
        aio = await self._shared.aio()
        try:
            response = await aio.models.generate_content(
                model=model,
                contents=contents,
                config=config.model_copy(update={"automatic_function_calling": _NO_AFC}),
            )
        except (genai_errors.APIError, TimeoutError, aiohttp.ClientError, ValueError) as exc:
            # ValueError: a 200 whose body is not JSON (json.JSONDecodeError) or does not fit
            # the response model (pydantic.ValidationError).
            raise translate(exc) from exc
        _check_blocked(response)
        return response


async def available_models(
    api_key: str, *, base_url: str | None = None, timeout: float = 10.0
) -> set[str]:
    """The base model ids the key may use (``models.list``), without the ``models/``."""
    shared = _SharedClient(api_key, base_url, timeout)
    try:
        aio = await shared.aio()
        names: set[str] = set()
        async for model in await aio.models.list(config={"page_size": 1000}):
            if model.name:
                names.add(model.name.removeprefix("models/"))
        return names
    except (genai_errors.APIError, TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise translate(exc) from exc
    finally:
        await shared.close()


def translate(exc: BaseException) -> ProviderError:
    """The SDK's failure as a ProviderError: retryable for 408/429/5xx, timeouts and dropped
    connections; not for other 4xx or a malformed answer."""
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code or 0)
        detail = f"{code} {exc.status or ''}: {exc.message or ''}".replace(" :", ":")
        retryable = code in _RETRYABLE_STATUSES or code >= 500
        return ProviderError(
            detail[:_MAX_MESSAGE],
            provider=PROVIDER,
            retryable=retryable,
            retry_after=retry_after(exc) if code == 429 else None,
            status=code or None,
        )
    if isinstance(exc, TimeoutError):
        return ProviderError("the request timed out", provider=PROVIDER, retryable=True)
    if isinstance(exc, aiohttp.ClientError):
        return ProviderError(
            f"connection failed ({type(exc).__name__})", provider=PROVIDER, retryable=True
        )
    return ProviderError(
        f"malformed response ({type(exc).__name__}: {str(exc)[:120]})", provider=PROVIDER
    )


_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def retry_after(exc: genai_errors.APIError) -> float | None:
    """Seconds to wait before the next try: the Retry-After header (seconds or an HTTP date)
    when there is one, else the google.rpc.RetryInfo ``retryDelay`` the Gemini API puts in
    ``error.details`` of its 429s. ``exc.response`` is the aiohttp ClientResponse."""
    headers = getattr(exc.response, "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    for detail in _error_details(exc.details):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DELAY.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _error_details(body: Any) -> list[dict[str, Any]]:
    error = body.get("error", body) if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _check_blocked(response: types.GenerateContentResponse) -> None:
    feedback = response.prompt_feedback
    if not response.candidates and feedback is not None and feedback.block_reason:
        raise ProviderError(f"the prompt was blocked ({feedback.block_reason})", provider=PROVIDER)


def first_parts(response: types.GenerateContentResponse) -> list[types.Part]:
    candidates = response.candidates or []
    content = candidates[0].content if candidates else None
    return list(content.parts or []) if content is not None else []


def answer_text(response: types.GenerateContentResponse) -> str:
    """The first candidate's text without thought parts (``response.text`` logs a warning
    whenever other parts are present)."""
    return "".join(
        part.text for part in first_parts(response) if part.text is not None and not part.thought
    )


def finish_reason(response: types.GenerateContentResponse) -> str:
    candidates = response.candidates or []
    reason = candidates[0].finish_reason if candidates else None
    return str(reason.value if reason is not None else "none")
