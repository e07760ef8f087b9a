"""Server and member options in SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from bot.store.models import VoiceStatus


async def test_defaults_then_partial_updates(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "p.db") as store:
        current = await store.settings.guild(5)
        assert (current.max_text_chars, current.announce_names, current.idle_timeout_s) == (
            300,
            False,
            300,
        )
        await store.settings.update_guild(5, announce_names=1, max_text_chars=120)
        updated = await store.settings.update_guild(5, required_role_id=99)
        assert updated.announce_names and updated.max_text_chars == 120
        assert updated.required_role_id == 99
        cleared = await store.settings.update_guild(5, required_role_id=None)
        assert cleared.required_role_id is None and cleared.max_text_chars == 120
        with pytest.raises(ValueError, match="unknown"):
            await store.settings.update_guild(5, **{"guild_id; DROP TABLE voices": 1})


async def test_autoread_channels_and_member_defaults(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "p.db") as store:
        await store.settings.update_guild(1, autoread_channel_id=11)
        await store.settings.update_guild(2, autoread_channel_id=None)
        assert await store.settings.autoread_guilds() == {1: 11}
        voice = await store.voices.create(
            name="A", owner_id=7, guild_id=1, status=VoiceStatus.READY
        )
        await store.settings.set_member_voice(1, 7, voice.id)
        assert await store.settings.member_voice(1, 7) == voice.id
        await store.voices.delete(voice.id)  # ON DELETE SET NULL: no dangling default
        assert await store.settings.member_voice(1, 7) is None
