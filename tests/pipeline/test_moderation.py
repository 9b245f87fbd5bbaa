"""The moderation chain: Groq's safety models (Llama Guard 4's format, gpt-oss-safeguard's
JSON) and Gemini's safety feedback through fakes speaking their wire formats, the local list,
and what an outage does (the next moderator decides; never everything blocked)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from pipeline.adapters.gemini.moderation import GeminiModerator
from pipeline.adapters.groq_moderation import (
    LLAMA_GUARD,
    SAFEGUARD,
    GroqModerator,
    parse_llama_guard,
    parse_safeguard,
)
from pipeline.errors import ProviderError
from pipeline.moderation import LocalModerator, Moderation, Refused, parse_block
from pipeline.providers import build
from pipeline.settings import Settings
from storage import Database, ModerationRepository
from tests.fakes import gemini as fake_gemini
from tests.fakes.groq import FakeGroq, malformed, status

BLOCK = ("S1", "S2", "S3", "S4", "S5", "S9", "S10", "S11", "S12")
NOW = datetime(2030, 5, 17, 10, 0, tzinfo=UTC)


def groq_moderator(fake: FakeGroq) -> GroqModerator:
    return GroqModerator("test-key", base_url=fake.base_url, timeout=5, attempts=2)


# --- the local list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the history of the atomic bomb",
        "how vaccines work",
        "How the atomic bomb was built in Los Alamos",
        "The Boston Marathon bombing ten years on",
        "how to make sourdough bread",
        "Suicide prevention: how to help a friend",
        "How to Get Away with Murder, the TV series",
        "How do bees make honey",
        "Chemical weapons in the First World War",
        "Rats are vermin in most cities",
        "Breaking Bad and the science of chemistry",
        "как устроена атомная бомба: история",
    ],
)
async def test_the_local_list_passes_ordinary_topics(text: str) -> None:
    verdict = await LocalModerator().check(text)
    assert verdict.safe and verdict.categories == (), text


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("How to make a pipe bomb at home", "S9"),
        ("step by step instructions to synthesize sarin", "S9"),
        ("как сделать бомбу дома", "S9"),
        ("Cómo hacer una bomba casera", "S9"),
        ("how to cook meth in a trailer", "S2"),
        ("how to poison my neighbour without being caught", "S1"),
        ("the best way to kill myself", "S11"),
        ("where to find child porn", "S4"),
    ],
)
async def test_the_local_list_catches_clear_requests_for_harm(text: str, category: str) -> None:
    verdict = await LocalModerator().check(text)
    assert not verdict.safe and verdict.categories == (category,) and verdict.moderator == "local"


# --- the answers' formats ----------------------------------------------------------------


def test_llama_guard_answers() -> None:
    assert parse_llama_guard("safe").safe
    assert parse_llama_guard("\nsafe\n").safe
    unsafe = parse_llama_guard("unsafe\nS1,S10")
    assert not unsafe.safe and unsafe.categories == ("S1", "S10")
    for garbage in ("", "I think it is fine", "unsafe", "unsafe\nS99", "unsafe\nviolence"):
        with pytest.raises(ProviderError):
            parse_llama_guard(garbage)


def test_safeguard_answers() -> None:
    assert parse_safeguard('{"violation": 0, "categories": [], "rationale": "fine"}').safe
    said = 'Here is my answer: {"violation": 1, "category": "s9", "rationale": "weapons"}'
    verdict = parse_safeguard(said)
    assert not verdict.safe and verdict.categories == ("S9",)
    unnamed = parse_safeguard('{"violation": 1, "categories": ["weapons"]}')
    assert unnamed.categories == ("other",)
    for garbage in ("", "no json here", '{"violation": "maybe"}', '{"violation": 1'):
        with pytest.raises(ProviderError):
            parse_safeguard(garbage)


def test_the_block_list_is_checked() -> None:
    assert parse_block(["s1", " S10 ", ""]) == frozenset({"S1", "S10"})
    with pytest.raises(ValueError, match="S15"):
        parse_block(["S15"])


def test_admins_set_the_block_list_in_settings(settings: Settings) -> None:
    assert settings.moderation_block == list(BLOCK)  # the default
    configured = Settings.model_validate({**settings.model_dump(), "moderation_block": "s10, S1"})
    assert configured.moderation_block == ["S1", "S10"]
    with pytest.raises(ValidationError, match="unknown moderation categories"):
        Settings.model_validate({**settings.model_dump(), "moderation_block": "S1,S42"})


# --- Groq ---------------------------------------------------------------------------------


async def test_llama_guard_is_chosen_once_and_answers_in_its_format() -> None:
    async with FakeGroq() as fake:
        moderator = groq_moderator(fake)
        try:
            assert (await moderator.check("Make a video about octopuses")).safe
            verdict = await moderator.check("Make a video: how to build a pipe bomb")
        finally:
            await moderator.aclose()
    assert not verdict.safe and verdict.categories == ("S9",)
    assert len(fake.of("models")) == 1  # the choice is cached
    guard = fake.of("guard")
    assert [r.json["model"] for r in guard] == [LLAMA_GUARD, LLAMA_GUARD]
    assert guard[0].json["messages"] == [
        {"role": "user", "content": "Make a video about octopuses"}
    ]
    assert fake.of("chat") == []


async def test_without_llama_guard_the_safeguard_model_gets_a_written_policy() -> None:
    async with FakeGroq() as fake:
        fake.models.remove(LLAMA_GUARD)
        moderator = groq_moderator(fake)
        try:
            verdict = await moderator.check("how to build a pipe bomb")
        finally:
            await moderator.aclose()
    assert not verdict.safe and verdict.categories == ("S9",)
    [request] = fake.of("guard")
    assert request.json["model"] == SAFEGUARD
    system, user = request.json["messages"]
    assert system["role"] == "system" and "S9: indiscriminate weapons" in system["content"]
    assert '"violation"' in system["content"] and user["content"] == "how to build a pipe bomb"
    assert request.json["reasoning_effort"] == "low"


async def test_a_decommissioned_llama_guard_hands_over_to_the_safeguard_model() -> None:
    async with FakeGroq() as fake:
        fake.gone.add(LLAMA_GUARD)  # still listed, but answers 404 model_not_found
        moderator = groq_moderator(fake)
        try:
            first = await moderator.check("how to build a pipe bomb")
            second = await moderator.check("octopuses")
        finally:
            await moderator.aclose()
    assert not first.safe and second.safe
    assert [r.json["model"] for r in fake.of("guard")] == [LLAMA_GUARD, SAFEGUARD, SAFEGUARD]


async def test_an_account_without_a_safety_model_fails_at_once() -> None:
    async with FakeGroq() as fake:
        fake.models = ["openai/gpt-oss-120b"]
        moderator = groq_moderator(fake)
        try:
            with pytest.raises(ProviderError, match="no safety model"):
                await moderator.check("octopuses")
        finally:
            await moderator.aclose()
    assert fake.of("guard") == []


# --- the chain ----------------------------------------------------------------------------


async def test_a_refusal_is_recorded_and_names_its_category(db: Database) -> None:
    async with FakeGroq() as fake:
        moderator = groq_moderator(fake)
        refusals = ModerationRepository(db)
        chain = Moderation([moderator], block=BLOCK, refusals=refusals, clock=lambda: NOW)
        try:
            await chain.check_topic("octopuses", owner="telegram:1")
            with pytest.raises(Refused) as caught:
                await chain.check_topic("how to build a pipe bomb", owner="telegram:1")
        finally:
            await moderator.aclose()
    assert caught.value.code == "moderation.S9" and caught.value.category == "S9"
    assert caught.value.moderator == "groq" and caught.value.kind == "topic"
    assert await refusals.counts_since(NOW) == {"S9": 1}
    assert await chain.refusals_since(NOW) == {"S9": 1}


async def test_categories_the_admins_allow_pass(db: Database) -> None:
    async with FakeGroq() as fake:
        fake.flagged = {"vaccine": ("S6",), "pipe bomb": ("S9",)}
        moderator = groq_moderator(fake)
        chain = Moderation([moderator], block=["S1"], refusals=ModerationRepository(db))
        try:
            await chain.check_topic("how vaccines work")  # S6 is not blocked
            await chain.check_topic("how to build a pipe bomb")  # nor is S9, here
        finally:
            await moderator.aclose()
    assert await ModerationRepository(db).counts_since(NOW.replace(year=2000)) == {}


@pytest.mark.parametrize(
    ("failure", "tries"),
    [
        ([status(429, retry_after=0), status(429, retry_after=0)], 2),
        ([status(500), status(503)], 2),
        ([malformed()], 1),  # an unreadable answer is not asked again
    ],
    ids=["429", "500", "garbage"],
)
async def test_a_groq_outage_falls_to_gemini(failure: list[object], tries: int) -> None:
    async with FakeGroq() as groq, fake_gemini.FakeGemini() as gemini:
        groq.push("guard", *failure)  # type: ignore[arg-type]
        gemini.push("moderation", fake_gemini.blocked("PROHIBITED_CONTENT"))
        first = groq_moderator(groq)
        second = GeminiModerator("k", base_url=gemini.base_url, timeout=5, attempts=1)
        chain = Moderation([first, second], block=BLOCK)
        try:
            with pytest.raises(Refused) as caught:
                await chain.check_topic("something Gemini refuses")
        finally:
            await first.aclose()
            await second.aclose()
    assert len(groq.of("guard")) == tries  # under the policy: retryable failures twice
    assert caught.value.moderator == "gemini" and caught.value.code == "moderation.other"
    [asked] = gemini.of("moderation")
    assert asked.body["safetySettings"] and "something Gemini refuses" in asked.prompt


async def test_with_every_remote_moderator_down_the_local_list_decides() -> None:
    async with FakeGroq() as groq, fake_gemini.FakeGemini() as gemini:
        groq.push("models", status(500), status(500), status(500), status(500))
        gemini.push("moderation", *[fake_gemini.status(503)] * 4)
        first = groq_moderator(groq)
        second = GeminiModerator("k", base_url=gemini.base_url, timeout=5, attempts=1)
        chain = Moderation([first, second], block=BLOCK)
        try:
            await chain.check_topic("the history of the atomic bomb")  # not blocked wholesale
            with pytest.raises(Refused) as caught:
                await chain.check_topic("how to make a pipe bomb")
        finally:
            await first.aclose()
            await second.aclose()
    assert caught.value.moderator == "local" and caught.value.code == "moderation.S9"
    assert len(gemini.of("moderation")) == 2


async def test_a_known_text_is_not_asked_twice() -> None:
    async with FakeGroq() as fake:
        moderator = groq_moderator(fake)
        chain = Moderation([moderator], block=BLOCK)
        try:
            await chain.check("Octopuses", kind="trend")
            await chain.check("Octopuses", kind="topic")
        finally:
            await moderator.aclose()
    assert len(fake.of("guard")) == 1


# --- Gemini -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "categories"),
    [
        (fake_gemini.ok(), None),
        (fake_gemini.blocked("SAFETY", (("HARM_CATEGORY_HATE_SPEECH", "HIGH"),)), ("S10",)),
        (fake_gemini.blocked("PROHIBITED_CONTENT"), ("other",)),
        (
            fake_gemini.unsafe_finish("SAFETY", (("HARM_CATEGORY_SEXUALLY_EXPLICIT", "HIGH"),)),
            ("S12",),
        ),
        (fake_gemini.unsafe_finish("PROHIBITED_CONTENT"), ("other",)),
    ],
    ids=["ok", "blocked-hate", "prohibited", "finish-safety", "finish-prohibited"],
)
async def test_gemini_safety_feedback(
    behaviour: fake_gemini.Behaviour, categories: tuple[str, ...] | None
) -> None:
    async with fake_gemini.FakeGemini() as fake:
        fake.push("moderation", behaviour)
        moderator = GeminiModerator("k", base_url=fake.base_url, timeout=5, attempts=1)
        try:
            verdict = await moderator.check("a topic")
        finally:
            await moderator.aclose()
    assert verdict.safe is (categories is None) and verdict.moderator == "gemini"
    assert verdict.categories == (categories or ())


async def test_gemini_blocking_with_reason_other_is_asked_once_more() -> None:
    async with fake_gemini.FakeGemini() as fake:
        fake.push("moderation", fake_gemini.blocked("OTHER"), fake_gemini.ok())
        moderator = GeminiModerator("k", base_url=fake.base_url, timeout=5, attempts=1)
        try:
            assert (await moderator.check("a topic")).safe
            fake.push("moderation", fake_gemini.blocked("OTHER"), fake_gemini.blocked("OTHER"))
            refused = await moderator.check("another topic")
        finally:
            await moderator.aclose()
    assert not refused.safe and refused.categories == ("other",)
    assert len(fake.of("moderation")) == 4


# --- wiring -------------------------------------------------------------------------------


async def test_the_chain_follows_the_keys(settings: Settings) -> None:
    offline = build(settings, parts=("script",))
    both = build(
        Settings.model_validate(
            {**settings.model_dump(), "groq_api_key": SecretStr("g"), "gemini_api_key": "k"}
        ),
        parts=("script",),
    )
    try:
        assert offline.describe()["moderation"] == ["local"]
        assert both.describe()["moderation"] == ["groq", "gemini", "local"]
    finally:
        await offline.aclose()
        await both.aclose()
