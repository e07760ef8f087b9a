"""After login, rebuild in the background every voice the configured TTS model has no
conditionals for (``PARROT_TTS_MODEL`` changed): login is not held up, speech keeps the
executor's first place, and a restart continues where this one stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.store.audit import Who
from bot.voices.rebuild import RebuildReport, VoiceRebuilder
from engine.api import ParrotError

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class StartupRebuild:
    """The one background rebuild of a bot's start; tests and the admin may await
    :attr:`task`."""

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.task: asyncio.Task[RebuildReport | None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="parrot-voice-rebuild")

    async def stop(self) -> None:
        """Cancel it (at close): the voices still waiting are rebuilt at the next start."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> RebuildReport | None:
        try:
            await self.bot.wait_until_ready()
        except RuntimeError:  # loaded without logging in (nothing to serve)
            return None
        await self._presets_imported()
        rebuilder = VoiceRebuilder(self.bot.store, self.bot.library, self.bot.engine, Who.system())
        try:
            waiting = await rebuilder.queue_missing()
            if not waiting:
                return None
            log.info("rebuilding %d voice(s) for %s", len(waiting), rebuilder.tts_model)
            report = await rebuilder.run(waiting)
        except ParrotError as error:  # the model or the device, not a voice
            log.warning(
                "voices are not rebuilt for %s: %s; the next start continues",
                rebuilder.tts_model,
                error.for_operator(),
            )
            return None
        except Exception:  # the bot keeps serving; `parrot voices rebuild` retries
            log.exception("rebuilding voices for %s failed", rebuilder.tts_model)
            return None
        log.info("%s", report.summary())
        return report

    async def _presets_imported(self) -> None:
        """Let the start-up preset import finish first: it replaces presets whose
        conditionals are missing, and the two must not work on the same voice. (Looked up
        by name: an extension's classes are new objects after a reload.)"""
        task = getattr(self.bot.get_cog("PresetsCog"), "import_task", None)
        if isinstance(task, asyncio.Task):
            await asyncio.wait({task})
