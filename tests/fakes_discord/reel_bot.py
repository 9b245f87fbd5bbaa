"""A small bot doing what the Reel Factory front does (slash commands, a DynamicItem
button, a select, a modal with a 2.7 Label, files, allowed_mentions), to drive the fake."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands


class Approve(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"reel:approve:(?P<job>\w+)"
):
    def __init__(self, job: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Approve", style=discord.ButtonStyle.success, custom_id=f"reel:approve:{job}"
        )
        super().__init__(button)
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Approve:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"approved {self.job}", view=None)


class EditScript(discord.ui.Modal, title="Edit the script"):
    script: discord.ui.Label[Any] = discord.ui.Label(
        text="Script",
        component=discord.ui.TextInput(
            custom_id="script", style=discord.TextStyle.long, max_length=4000
        ),
    )
    note: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note", custom_id="note", required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.script.component, discord.ui.TextInput)
        text = f"script={self.script.component.value} note={self.note.value}"
        await interaction.response.send_message(text)


class Voice(discord.ui.View):
    @discord.ui.select(
        custom_id="reel:voice",
        options=[discord.SelectOption(label=v, value=v) for v in ("calm", "bright")],
    )
    async def voice(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.send_message(f"voice {select.values[0]}", ephemeral=True)


class Rerender(discord.ui.View):
    @discord.ui.button(label="Render again", custom_id="reel:rerender")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        new = discord.File(io.BytesIO(b"w" * 10), "reel-v2.mp4")
        await interaction.edit_original_response(content="v2", attachments=[new])


class Bot(commands.Bot):
    """A small bot covering what the Reel Factory front does; errors land in ``errors``."""

    def __init__(self, *, pause: float = 0.0) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.01,
        )
        self.pause = pause
        self.errors: list[Exception] = []
        self.done = asyncio.Event()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(Approve)
        tree = self.tree

        @tree.command(description="Make a reel")
        async def reel(
            interaction: discord.Interaction,
            topic: str,
            clip: discord.Attachment | None = None,
        ) -> None:
            await asyncio.sleep(self.pause)
            extra = f" clip={(await clip.read()).decode()}" if clip else ""
            view = discord.ui.View(timeout=None).add_item(Approve("job42"))
            try:
                await interaction.response.send_message(
                    f"{topic} ({interaction.locale.value}){extra}", view=view
                )
            except discord.HTTPException as exc:
                self.errors.append(exc)
            self.done.set()

        @tree.command(description="Slow work")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("rendered")
            await interaction.followup.send("second", ephemeral=True)

        @tree.command(description="Edit the script")
        @app_commands.guild_only()
        async def edit(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(EditScript())

        @tree.command(description="Choose a voice")
        async def voice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick one", view=Voice(timeout=None))

        @tree.command(description="Send a file")
        async def video(interaction: discord.Interaction, size: int) -> None:
            file = discord.File(io.BytesIO(b"v" * size), "reel.mp4")
            try:
                await interaction.response.send_message("here", file=file, view=Rerender())
            except discord.HTTPException as exc:
                self.errors.append(exc)
                await interaction.response.send_message("too big")
            self.done.set()

        @tree.command(description="Say something")
        async def say(interaction: discord.Interaction, text: str, quiet: bool = False) -> None:
            mentions = discord.AllowedMentions.none() if quiet else discord.AllowedMentions()
            try:
                await interaction.response.send_message(text, allowed_mentions=mentions)
            except discord.HTTPException as exc:
                self.errors.append(exc)
                await interaction.response.send_message("too long")
            self.done.set()

        await tree.sync()


class EagerBot(Bot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before identifying again; a test needs no such courtesy."""
