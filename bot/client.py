"""The discord.py Bot subclass: owns the store, the engine, the shared runners and the
extensions."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from types import ModuleType
from typing import Any

import discord
from discord.ext import commands

import bot.exts
from bot.errors import ParrotCommandTree
from bot.exts.covers.runner import CoverRunner
from bot.runtime import build_engine
from bot.settings import Settings
from bot.store import Store
from bot.training.runner import TrainingRunner
from bot.voice.player import Utterance
from bot.voice.players import PlayerRegistry
from bot.voices.files import VoiceLibrary
from bot.voices.standing import why_not_now
from engine.api import VoiceEngine

log = logging.getLogger(__name__)


def discover_extensions(package: ModuleType = bot.exts) -> tuple[str, ...]:
    """The modules and subpackages directly under ``package`` that define ``setup``, by name.

    A subpackage is loaded as one extension (its ``__init__`` defines ``setup``); its inner
    modules are not walked. Names starting with ``_`` are private. No extension depends
    on another being loaded first: shared objects are built in ``setup_hook``.
    """
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        name = f"{package.__name__}.{info.name}"
        if inspect.isfunction(getattr(importlib.import_module(name), "setup", None)):
            found.append(name)
    return tuple(found)


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

    def __init__(
        self, settings: Settings, *, engine: VoiceEngine | None = None, **options: Any
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=default_intents(read_messages=settings.read_messages),
            tree_cls=ParrotCommandTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.engine: VoiceEngine = engine or build_engine(settings)
        self._store: Store | None = None
        self._library: VoiceLibrary | None = None
        self._cover_runner: CoverRunner | None = None
        self._training_runner: TrainingRunner | None = None
        self.players = PlayerRegistry(
            self.engine,
            max_queue=settings.max_queue_per_guild,
            admit=self._may_speak,
            connect_timeout=settings.voice_connect_timeout_seconds,
        )

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

    @property
    def cover_runner(self) -> CoverRunner:
        """Cover jobs of the whole bot: ``/cover`` submits, ``/privacy delete`` cancels."""
        if self._cover_runner is None:
            raise RuntimeError("the cover runner is created in setup_hook; it is not ready yet")
        return self._cover_runner

    @property
    def training_runner(self) -> TrainingRunner:
        """Training jobs of the whole bot: ``/voice train`` submits, deletions cancel."""
        if self._training_runner is None:
            raise RuntimeError("the training runner is created in setup_hook; it is not ready yet")
        return self._training_runner

    async def setup_hook(self) -> None:
        self._store = await Store.open(self.settings.database_path)
        self._library = VoiceLibrary(self._store, self.settings.data_dir)
        await self._library.sweep()
        self._cover_runner = CoverRunner(self._store, self._library, self.engine, self.settings)
        self._training_runner = TrainingRunner(
            self._store, self._library, self.engine, self.settings
        )
        # Deleting a voice (any command, any way) stops its covers and its training before
        # its files go.
        self._library.on_removal(self._cover_runner.cancel_voice)
        self._library.on_removal(self._training_runner.cancel_voice)
        self._library.on_removal(self.players.recheck_voice)
        extensions = discover_extensions()
        for extension in extensions:
            await self.load_extension(extension)
        log.info("loaded %d extension(s)", len(extensions))

    async def recheck_voice(self, voice_id: str) -> None:
        """A voice's use changed (hidden in a server, made private): what was asked for
        with it and may no longer be done stops, each requester told why. Trainings go on:
        only the owner trains, and hiding does not stop the owner changing their voice."""
        await self.players.recheck_voice(voice_id)
        await self.cover_runner.recheck_voice(voice_id)

    async def _may_speak(self, utterance: Utterance, guild_id: int) -> str | None:
        return await why_not_now(
            self.store,
            utterance.voice_id,
            utterance.requester_id,
            guild_id,
            "I stopped speaking your message",
        )

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d server(s)", self.user, len(self.guilds))

    async def close(self) -> None:
        """Stop playback and covers, log out, stop trainings, release the engine, close the
        database: in that order. Covers and trainings stopped here stay unfinished and resume
        at the next start."""
        await self.players.close()
        for voice_client in list(self.voice_clients):
            try:
                await voice_client.disconnect(force=True)
            except Exception:  # shutting down: note it and carry on closing the rest
                log.exception("could not disconnect a voice client")
        if self._cover_runner is not None:
            await self._cover_runner.close()
        await super().close()  # unloads the cogs: the training cog stops its recovery first
        if self._training_runner is not None:
            await self._training_runner.close()
        await self.engine.shutdown()
        if self._store is not None:
            await self._store.close()
            self._store = None


class ShardedParrotBot(ParrotBot, commands.AutoShardedBot):
    """Parrot on several gateway connections (``PARROT_SHARDS``). Nothing else changes:
    players, autoread and every other per-server state are keyed by server already."""


def create_bot(
    settings: Settings, *, engine: VoiceEngine | None = None, **options: Any
) -> ParrotBot:
    """One gateway connection, or ``AutoShardedBot`` with Discord's advice (``auto``) or
    a fixed count of shards."""
    if not settings.shards:
        return ParrotBot(settings, engine=engine, **options)
    count = None if settings.shards == "auto" else int(settings.shards)
    return ShardedParrotBot(settings, engine=engine, shard_count=count, **options)
