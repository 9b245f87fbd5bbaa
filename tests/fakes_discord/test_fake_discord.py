"""The fake Discord, driven by the real discord.py client over HTTP and the gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord import DcUser, FakeDiscord, connected, pointed_at
from tests.fakes.discord.checks import Problems, check_modal, pinged
from tests.fakes.discord.wire import ApiError

from .reel_bot import Bot, EagerBot

ALICE, BOB = DcUser(1001, "alice", locale="de"), DcUser(1002, "bob")


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py logs what it swallows (a failing callback, an unparsable event): fail on it."""
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert not errors, errors


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(ack_deadline=0.3) as fake:
        guild = fake.add_guild("Reel Lab", channels=("general", "renders"))
        fake.add_member(guild, ALICE)
        fake.add_member(guild, BOB)
        yield fake


@pytest.fixture
async def bot(dc: FakeDiscord) -> AsyncIterator[Bot]:
    async with connected(dc, Bot()) as client:
        yield client


def general(dc: FakeDiscord) -> Any:
    return next(iter(dc.guilds.values())).channel("general")


async def test_login_ready_and_guild_create(dc: FakeDiscord, bot: Bot) -> None:
    guild = next(iter(dc.guilds.values()))
    assert [g.name for g in bot.guilds] == ["Reel Lab"]
    channel = bot.get_channel(guild.channel("renders").id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "renders"
    # Without the GUILD_MEMBERS intent, GUILD_CREATE carries only the bot's own member.
    assert [m.id for m in bot.guilds[0].members] == [dc.bot.id]
    assert bot.user is not None and bot.user.id == dc.APP_ID
    assert [c.route for c in dc.calls[:2]] == ["get_me", "application_info"]
    assert dc.identify_count == 1 and dc.resume_count == 0 and dc.gateway.heartbeats >= 1
    query = dc.gateway.connections[0]
    assert (query["v"], query["encoding"], query["compress"]) == ("10", "json", "zlib-stream")


async def test_slash_command_registered_invoked_and_answered(dc: FakeDiscord, bot: Bot) -> None:
    registered = {c["name"]: c for c in dc.commands[None]}
    assert set(registered) == {"reel", "slow", "edit", "voice", "video", "say"}
    assert [o["name"] for o in registered["reel"]["options"]] == ["topic", "clip"]

    ask = dc.slash(ALICE, "reel", {"topic": "octopus"}, channel=general(dc))
    reply = (await dc.wait_until(lambda: ask.original)).payload()
    assert ask.response_type == 4 and ask.data["id"] == registered["reel"]["id"]
    assert reply["content"] == "octopus (de)"
    assert ask.original is not None and ask.original.interaction is ask
    assert ask.original.button("Approve") == "reel:approve:job42"
    assert dc.visible_to(BOB, general(dc)) == [ask.original]


async def test_attachment_option_is_downloadable(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(
        ALICE, "reel", {"topic": "t", "clip": ("clip.txt", b"hello")}, channel=general(dc)
    )
    original = await dc.wait_until(lambda: ask.original)
    assert original.content == "t (de) clip=hello"


async def test_defer_then_followups(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(BOB, "slow", channel=general(dc))
    await dc.wait_until(lambda: len(ask.followups) == 1)
    original = ask.original
    assert original is not None and ask.response_type == 5
    # The first followup replaced the "thinking" message; the second is a message of its own.
    assert original.content == "rendered" and not original.loading
    assert original.versions[0]["flags"] & 128
    assert [m.content for m in ask.messages] == ["rendered", "second"]
    assert ask.followups[0].ephemeral
    assert dc.visible_to(ALICE, general(dc)) == [original]
    assert dc.visible_to(BOB, general(dc)) == [original, ask.followups[0]]


async def test_button_press_reaches_dynamic_item(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(ALICE, "reel", {"topic": "octopus"}, channel=general(dc))
    message = await dc.wait_until(lambda: ask.original)
    press = dc.press(BOB, message, "reel:approve:job42")
    await dc.wait_until(lambda: press.acked)
    assert press.response_type == 7 and press.original is message
    assert message.content == "approved job42" and message.components == []
    assert message.versions[0]["content"] == "octopus (de)"
    with pytest.raises(AssertionError, match="no component"):
        dc.press(BOB, message, "reel:approve:job42")


async def test_select_values_reach_the_view(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(ALICE, "voice", channel=general(dc))
    message = await dc.wait_until(lambda: ask.original)
    choice = dc.select(ALICE, message, "reel:voice", ["bright"])
    answer = await dc.wait_until(lambda: choice.original)
    assert answer.content == "voice bright" and answer.ephemeral
    with pytest.raises(ValueError, match="not among"):
        dc.select(ALICE, message, "reel:voice", ["loud"])


async def test_modal_opened_and_submitted(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(ALICE, "edit", channel=general(dc))
    modal = await dc.wait_until(lambda: ask.modal)
    assert ask.response_type == 9 and modal["title"] == "Edit the script"
    assert [c["type"] for c in modal["components"]] == [18, 1]
    submitted = dc.submit_modal(ALICE, ask, {"script": "Octopuses have three hearts."})
    answer = await dc.wait_until(lambda: submitted.original)
    assert answer.content == "script=Octopuses have three hearts. note="
    with pytest.raises(ValueError, match="required"):
        dc.submit_modal(ALICE, ask, {"script": ""})


async def test_interaction_in_a_dm(dc: FakeDiscord, bot: Bot) -> None:
    channel = dc.dm_channel(ALICE)
    ask = dc.slash(ALICE, "reel", {"topic": "dm"}, channel=channel)
    answer = await dc.wait_until(lambda: ask.original)
    assert "guild_id" not in ask.payload and ask.payload["user"]["id"] == str(ALICE.id)
    assert answer.channel is channel and dc.messages(channel) == [answer]
    with pytest.raises(ValueError, match="not offered in DMs"):
        dc.slash(ALICE, "edit", channel=channel)  # guild_only


async def test_attachments_stored_and_refused_over_the_limit(dc: FakeDiscord, bot: Bot) -> None:
    ok = dc.slash(ALICE, "video", {"size": 2048}, channel=general(dc))
    message = await dc.wait_until(lambda: ok.original)
    assert [(a.filename, a.data) for a in message.attachments] == [("reel.mp4", b"v" * 2048)]
    async with aiohttp.ClientSession() as http, http.get(message.attachments[0].url) as got:
        assert await got.read() == b"v" * 2048

    big = dc.slash(ALICE, "video", {"size": 2048}, channel=general(dc), attachment_size_limit=1024)
    answer = await dc.wait_until(lambda: big.original)
    assert answer.content == "too big" and answer.attachments == []
    [error] = bot.errors
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (413, 40005)


async def test_deferred_update_then_attachments_replaced(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(ALICE, "video", {"size": 16}, channel=general(dc))
    message = await dc.wait_until(lambda: ask.original)
    press = dc.press(ALICE, message, "reel:rerender")
    await dc.wait_until(lambda: message.content == "v2")
    assert press.response_type == 6 and press.original is message
    assert [(a.filename, a.data) for a in message.attachments] == [("reel-v2.mp4", b"w" * 10)]
    assert message.versions[-1]["attachments"] == ["reel.mp4"]
    [edit] = dc.of("edit_webhook_message")
    assert edit.params["message_id"] == "@original" and [f.filename for f in edit.files] == [
        "reel-v2.mp4"
    ]


async def test_late_ack_is_refused(dc: FakeDiscord) -> None:
    async with connected(dc, Bot(pause=0.4)) as late:
        ask = dc.slash(ALICE, "reel", {"topic": "late"}, channel=general(dc))
        await asyncio.wait_for(late.done.wait(), 2)
    [error] = late.errors
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert not ask.acked and dc.messages(general(dc)) == []


async def test_token_rules_over_raw_http(dc: FakeDiscord) -> None:
    """What discord.py guards locally (a second ack, a followup before the ack), by hand."""
    auth = {"Authorization": f"Bot {dc.TOKEN}"}
    async with aiohttp.ClientSession() as http:

        async def call(method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
            url = f"{dc.base_url}{path}"
            async with http.request(method, url, json=body, **kw) as answer:
                assert answer.headers["Content-Type"] == "application/json"
                return answer.status, await answer.json()

        command = {"name": "reel", "description": "Make a reel"}
        status, _ = await call(
            "PUT", f"/applications/{dc.APP_ID}/commands", [command], headers=auth
        )
        assert status == 200
        assert (await call("GET", "/users/@me"))[0] == 401
        async with http.ws_connect(dc.gateway.url) as ws:
            assert (await ws.receive_json())["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": dc.TOKEN, "intents": 0}})
            await dc.wait_connected()
            ask = dc.slash(ALICE, "reel", channel=general(dc))
            hook = f"/webhooks/{dc.APP_ID}/{ask.token}"
            callback = f"/interactions/{ask.id}/{ask.token}/callback?with_response=1"

            status, body = await call("POST", hook, {"content": "too early"})
            assert (status, body["code"]) == (404, 10015)
            status, body = await call("POST", callback, {"type": 7, "data": {"content": "x"}})
            assert (status, body["code"]) == (400, 50035) and "type" in body["errors"]
            status, body = await call("POST", callback, {"type": 4, "data": {"content": "hi"}})
            assert status == 200 and body["resource"]["message"]["content"] == "hi"
            assert ask.original is not None
            assert body["interaction"]["response_message_id"] == str(ask.original.id)
            status, body = await call("POST", callback, {"type": 4, "data": {"content": "again"}})
            assert (status, body["code"]) == (400, 40060)
            status, body = await call("POST", hook, {"content": "followup"})
            assert status == 200 and [m.content for m in ask.messages] == ["hi", "followup"]
            dc.expire(ask)
            status, body = await call("PATCH", hook + "/messages/@original", {"content": "x"})
            assert (status, body["code"]) == (401, 50027)
            status, body = await call(
                "POST", f"/webhooks/{dc.APP_ID}/not-a-token", {"content": "x"}
            )
            assert (status, body["code"]) == (401, 50027)


async def test_expired_token_refused_channel_still_works(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(ALICE, "voice", channel=general(dc))
    await dc.wait_until(lambda: ask.acked)
    dc.expire(ask)
    webhook = discord.Webhook.partial(dc.APP_ID, ask.token, client=bot)
    with pytest.raises(discord.HTTPException) as refused:
        await webhook.send("late result")
    assert (refused.value.status, refused.value.code) == (401, 50027)
    channel = bot.get_channel(general(dc).id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("late result, by the channel")
    assert dc.message(sent.id).content == "late result, by the channel"


async def test_content_over_2000_refused(dc: FakeDiscord, bot: Bot) -> None:
    ask = dc.slash(ALICE, "say", {"text": "x" * 2001}, channel=general(dc))
    answer = await dc.wait_until(lambda: ask.original)
    assert answer.content == "too long"
    [error] = bot.errors
    assert isinstance(error, discord.HTTPException) and error.code == 50035
    assert "In data.content: Must be 2000 or fewer in length." in error.text


async def test_reconnect_resumes_and_still_receives(dc: FakeDiscord, bot: Bot) -> None:
    await dc.reconnect()
    assert (dc.identify_count, dc.resume_count) == (1, 1)
    assert dc.gateway.connections[-1]["path"] == "/resume"
    ask = dc.slash(ALICE, "reel", {"topic": "after"}, channel=general(dc))
    answer = await dc.wait_until(lambda: ask.original)
    assert answer.content == "after (de)"


async def test_dispatch_during_reconnect_is_replayed(dc: FakeDiscord, bot: Bot) -> None:
    dc.gateway.send_reconnect()
    ask = dc.slash(ALICE, "reel", {"topic": "in the gap"}, channel=general(dc))
    answer = await dc.wait_until(lambda: ask.original)
    assert answer.content == "in the gap (de)" and dc.resume_count == 1
    assert len(dc.of("interaction_callback")) == 1  # delivered once, not twice


async def test_invalid_session_makes_the_client_identify_again(dc: FakeDiscord) -> None:
    async with connected(dc, EagerBot()):
        first = dc.gateway.session
        dc.gateway.invalidate()
        await dc.wait_until(lambda: dc.identify_count == 2)
        await dc.wait_connected()
        assert dc.resume_count == 0 and dc.gateway.session is not first
        ask = dc.slash(ALICE, "reel", {"topic": "fresh"}, channel=general(dc))
        assert (await dc.wait_until(lambda: ask.original)).content == "fresh (de)"


async def test_pinged_follows_allowed_mentions(dc: FakeDiscord, bot: Bot) -> None:
    text = f"<@{BOB.id}> look @everyone"
    loud = dc.slash(ALICE, "say", {"text": text}, channel=general(dc))
    quiet = dc.slash(ALICE, "say", {"text": text, "quiet": True}, channel=general(dc))
    loud_message = await dc.wait_until(lambda: loud.original)
    quiet_message = await dc.wait_until(lambda: quiet.original)
    assert dc.pinged(loud_message) == {f"user:{BOB.id}", "everyone"}
    assert dc.pinged(quiet_message) == set()
    assert quiet_message.allowed_mentions == {"parse": []}


async def test_rate_limit_retried_and_server_error_raised(dc: FakeDiscord, bot: Bot) -> None:
    channel = bot.get_channel(general(dc).id)
    assert isinstance(channel, discord.TextChannel)
    dc.fail("create_message", 429, retry_after=0.01)
    await channel.send("after a 429")
    assert [c.status for c in dc.of("create_message")] == [429, 200]
    dc.fail("POST /channels/{channel_id}/messages", 503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("never")


async def test_invalid_bodies_refused(dc: FakeDiscord, bot: Bot) -> None:
    def row(*ids: str) -> dict[str, Any]:
        return {
            "type": 1,
            "components": [{"type": 2, "style": 1, "label": i, "custom_id": i} for i in ids],
        }

    select = {"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}]}
    with_select = {"type": 1, "components": [select, row("b")["components"][0]]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"components": [with_select]}, "components.0.components"),
        ({"embeds": [{"description": "d"}] * 11}, "embeds"),
        ({"embeds": [{"description": "d" * 3500}, {"description": "d" * 3500}]}, "embeds"),
        ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title"),
        ({"allowed_mentions": {"parse": ["users"], "users": ["1"]}}, "allowed_mentions"),
    ]
    cases += [
        ({"components": components}, where)
        for components, where in [
            ([row(f"b{i}") for i in range(6)], "components"),
            ([row(*(f"b{i}" for i in range(6)))], "components.0.components"),
            ([row("x" * 101)], "components.0.components.0.custom_id"),
            ([row("same", "same")], "components.0.components.1.custom_id"),
        ]
    ]
    for fields, where in cases:
        body = {"content": "x", **fields}
        with pytest.raises(discord.HTTPException) as refused:
            await bot.http.send_message(
                general(dc).id, params=discord.http.MultipartParameters(body, None, None)
            )
        assert refused.value.code == 50035 and f"In {where}:" in refused.value.text, where
    with pytest.raises(discord.HTTPException) as empty:
        await bot.http.send_message(
            general(dc).id, params=discord.http.MultipartParameters({}, None, None)
        )
    assert empty.value.code == 50006
    assert dc.messages(general(dc)) == []


def test_pointed_at_restores_the_globals() -> None:
    fake = FakeDiscord()
    fake.base_url, fake.gateway.url = "http://127.0.0.1:1/api/v10", "ws://127.0.0.1:1/"
    before = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with pointed_at(fake):
        assert fake.base_url == discord.http.Route.BASE
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway.url
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (None, {"everyone", "here", "user:5", "role:7"}),
        ({"parse": []}, set()),
        ({"parse": ["users"]}, {"user:5"}),
        ({"parse": [], "users": ["5", "6"], "roles": ["8"]}, {"user:5"}),
        ({"parse": ["everyone", "roles"]}, {"everyone", "here", "role:7"}),
    ],
)
def test_pinged(allowed: dict[str, Any] | None, expected: set[str]) -> None:
    assert pinged("<@!5> <@&7> @everyone @here <#9>", allowed) == expected


def test_modal_limits() -> None:
    text = {"type": 4, "custom_id": "t", "style": 1, "label": "T", "max_length": 4000}
    ok = {"title": "t" * 45, "custom_id": "m", "components": [{"type": 1, "components": [text]}]}
    check_modal(ok, Problems("data"))
    bad = {
        **ok,
        "title": "t" * 46,
        "components": [
            {"type": 1, "components": [{**text, "max_length": 4001, "value": "v" * 4001}]}
        ],
    }
    with pytest.raises(ApiError) as refused:
        check_modal(bad, Problems("data"))
    errors = refused.value.errors or {}
    assert set(errors["data"]) == {"title", "components"}
    assert set(errors["data"]["components"]["0"]["components"]["0"]) == {"max_length", "value"}
