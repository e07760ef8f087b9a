"""The discord.py Bot subclass: owns the store, the engine and the extensions."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.errors import ParrotCommandTree
from bot.library import VoiceLibrary
from bot.runtime import build_engine
from bot.settings import Settings
from bot.store import Store
from bot.voice.players import PlayerRegistry
from engine.engine import Engine

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "bot.exts.status",
    "bot.exts.maintenance",
    "bot.exts.voices",
    "bot.exts.speech",
    "bot.exts.autoread",
    "bot.exts.settings",
    "bot.exts.detect",
    "bot.exts.covers",
    "bot.exts.presets",
    "bot.exts.retention",
    "bot.exts.history",
    "bot.exts.privacy",
)


def default_intents(*, read_messages: bool = True) -> discord.Intents:
    """Guilds and voice states; message content (privileged) only for auto-reading."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    if read_messages:
        intents.guild_messages = True
        intents.message_content = True
    return intents


class ParrotBot(commands.Bot):
    """Parrot. Slash commands only; messages are read only for ``/autoread``."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=default_intents(read_messages=settings.read_messages),
            tree_cls=ParrotCommandTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.engine = engine or build_engine(settings)
        self._store: Store | None = None
        self._library: VoiceLibrary | None = None
        self.players = PlayerRegistry(self.engine, max_queue=settings.max_queue_per_guild)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened in setup_hook; it is not open yet")
        return self._store

    @property
    def library(self) -> VoiceLibrary:
        if self._library is None:
            raise RuntimeError("the voice library is created in setup_hook; it is not ready yet")
        return self._library

    async def setup_hook(self) -> None:
        self._store = await Store.open(self.settings.database_path)
        self._library = VoiceLibrary(self._store, self.settings.data_dir)
        await self._library.sweep()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        log.info("loaded %d extension(s)", len(EXTENSIONS))

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d server(s)", self.user, len(self.guilds))

    async def close(self) -> None:
        """Stop playback, log out, release the engine, close the database: in that order."""
        await self.players.close()
        for voice_client in list(self.voice_clients):
            try:
                await voice_client.disconnect(force=True)
            except Exception:  # shutting down: note it and carry on closing the rest
                log.exception("could not disconnect a voice client")
        await super().close()
        await self.engine.shutdown()
        if self._store is not None:
            await self._store.close()
            self._store = None
