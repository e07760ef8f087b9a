"""``/history`` (a member's own generations, paged) and ``/stats`` (a server's usage)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import guild_member, require_manager
from bot.store.generations import Generation, Usage, UsageLine
from bot.usage import days_ago, format_duration, stored_time

if TYPE_CHECKING:
    from bot.client import ParrotBot
    from bot.store import Store

PAGE_SIZE = 10
STATS_LINES = 10


def describe_generation(generation: Generation) -> str:
    """One line of history: when, what, which voice, how much, how long it took."""
    when = f"<t:{int(stored_time(generation.created_at).timestamp())}:R>"
    voice = discord.utils.escape_markdown(generation.voice_name or "a deleted voice")
    if generation.kind == "cover":
        amount = f"{format_duration(generation.input_seconds)} song"
        if generation.method:
            amount += f" ({generation.method})"
    else:
        amount = f"{generation.characters or 0} characters"
    made = f"{format_duration(generation.audio_seconds)} of audio"
    took = f"in {format_duration(generation.elapsed_seconds)}"
    return f"{when} · **{generation.kind}** · {voice} · {amount} → {made} {took}"


class HistoryPages(discord.ui.View):
    """Previous / Next over a member's history; only that member may turn the pages."""

    def __init__(self, store: Store, user_id: int, guild_id: int, total: int) -> None:
        super().__init__(timeout=300)
        self.store = store
        self.user_id = user_id
        self.guild_id = guild_id
        self.pages = max(1, math.ceil(total / PAGE_SIZE))
        self.page = 0
        self._sync_buttons()

    async def embed(self) -> discord.Embed:
        generations = await self.store.generations.for_user(
            self.user_id, guild_id=self.guild_id, limit=PAGE_SIZE, offset=self.page * PAGE_SIZE
        )
        embed = discord.Embed(
            title="Your Parrot history in this server",
            description="\n".join(describe_generation(g) for g in generations) or "Nothing here.",
        )
        embed.set_footer(text=f"Page {self.page + 1} of {self.pages}")
        return embed

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                "This is someone else's history; use `/history` for yours.", ephemeral=True
            )
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.embed(), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, _: discord.ui.Button[HistoryPages]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction, _: discord.ui.Button[HistoryPages]
    ) -> None:
        await self._turn(interaction, 1)


def _usage_lines(lines: list[UsageLine], name: str) -> str:
    shown = []
    for line in lines[:STATS_LINES]:
        parts = [f"{line.uses} use(s)"]
        if line.speeches:
            parts.append(f"{line.characters} characters spoken")
        if line.covers:
            parts.append(f"{line.covers} cover(s)")
        parts.append(f"{format_duration(line.audio_seconds)} of audio")
        shown.append(f"{name_of(line, name)}: {', '.join(parts)}")
    if len(lines) > STATS_LINES:
        shown.append(f"… and {len(lines) - STATS_LINES} more")
    return "\n".join(shown)[:1024] or "-"


def name_of(line: UsageLine, kind: str) -> str:
    if kind == "member":
        return f"<@{line.key}>" if line.key is not None else "the bot owner (CLI)"
    return f"**{discord.utils.escape_markdown(line.label)}**"


def usage_embed(usage: Usage, days: int | None) -> discord.Embed:
    totals = usage.totals
    window = f"in the last {days} day(s)" if days else "since Parrot joined"
    embed = discord.Embed(
        title="Parrot usage in this server",
        description=(
            f"{window.capitalize()}: {totals.uses} generation(s) — {totals.speeches} spoken "
            f"({totals.characters} characters), {totals.covers} cover(s); "
            f"{format_duration(totals.audio_seconds)} of audio made in "
            f"{format_duration(totals.elapsed_seconds)}."
        ),
    )
    if totals.uses:
        embed.add_field(name="By voice", value=_usage_lines(usage.by_voice, "voice"), inline=False)
        embed.add_field(
            name="By member", value=_usage_lines(usage.by_member, "member"), inline=False
        )
    return embed


class HistoryCog(commands.Cog):
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot

    @app_commands.command(name="history", description="What you made with Parrot in this server")
    @app_commands.guild_only()
    async def history(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        store = self.bot.store
        total = await store.generations.count_for_user(member.id, guild_id=member.guild.id)
        if total == 0:
            await interaction.response.send_message(
                "You have not made anything with Parrot in this server yet.", ephemeral=True
            )
            return
        pages = HistoryPages(store, member.id, member.guild.id, total)
        embed = await pages.embed()
        if pages.pages == 1:
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, view=pages, ephemeral=True)

    @app_commands.command(
        name="stats", description="Parrot usage in this server, per voice and member"
    )
    @app_commands.describe(days="Only the last N days (default: all time)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def stats(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] | None = None
    ) -> None:
        member = require_manager(interaction)
        since = days_ago(days) if days else None
        usage = await self.bot.store.generations.usage(guild_id=member.guild.id, since=since)
        await interaction.response.send_message(embed=usage_embed(usage, days), ephemeral=True)


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(HistoryCog(parrot_bot))
