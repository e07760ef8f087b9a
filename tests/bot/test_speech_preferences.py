"""Languages and speaking style on the Discord side, through the real bot and the fake
Discord: ``/speech``, the ``/say`` options, ``/settings default_language``, and the
cooldown that refusals do not spend. No model loads here: bots configured for the
multilingual or the English model answer all of this before any voice work (the real
models speak in tests/bot/test_speech_multilingual_e2e.py and the turbo tests)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.settings import Settings
from bot.store.audit import AuditAction, Who
from engine.api import TTSModel
from tests.bot.conftest import reply_text
from tests.bot.speech_support import ephemeral_command as run
from tests.bot.speech_support import in_voice, say
from tests.bot.speech_support import speech_options as speech
from tests.conftest import started_bot
from tests.fakediscord import FakeDiscord, FakeGuild

EPHEMERAL = 64


@pytest.fixture
async def multilingual_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, settings: Settings
) -> AsyncIterator[ParrotBot]:
    """Configured for the 23-language model, which is never loaded here."""
    async with started_bot(settings.model_copy(update={"tts_model": TTSModel.MULTILINGUAL})) as bot:
        yield bot


@pytest.fixture
async def english_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, settings: Settings
) -> AsyncIterator[ParrotBot]:
    """The original (English-only) model, with a long /say cooldown."""
    async with started_bot(settings.model_copy(update={"say_cooldown_seconds": 600})) as bot:
        yield bot


async def test_language_autocomplete_offers_the_models_languages(
    multilingual_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild, people: Any
) -> None:
    owner, admin = people["owner"], people["admin"]
    offered = await fake_discord.autocomplete(guild, owner, "say", None, "language", "")
    assert len(offered) == 23
    assert {"name": "French (fr)", "value": "fr"} in offered
    typed = await fake_discord.autocomplete(guild, owner, "say", None, "language", "germ")
    assert typed == [{"name": "German (de)", "value": "de"}]
    mine = await fake_discord.autocomplete(guild, owner, "speech", "language", "language", "swa")
    assert [c["value"] for c in mine] == ["sw"]
    server = await fake_discord.autocomplete(
        guild, admin, "settings", None, "default_language", "no"
    )
    assert [c["value"] for c in server] == ["none", "no"]


async def test_member_language_and_style_are_saved_shown_and_reset(
    multilingual_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild, people: Any
) -> None:
    bot, owner = multilingual_bot, people["owner"]
    member_id = int(owner["id"])

    log = await run(fake_discord, guild, owner, "speech", speech("language", language="French"))
    assert "I'll speak French (fr) for you in this server" in reply_text(log)
    log = await run(fake_discord, guild, owner, "speech", speech("language", language="xx"))
    assert "I don't know the language `xx`" in reply_text(log)
    log = await run(
        fake_discord, guild, owner, "speech", speech("style", expressiveness=0.9, seed=7)
    )
    assert "Saved." in reply_text(log)
    saved = await bot.store.settings.preferences(guild.id, member_id)
    assert (saved.language, saved.exaggeration, saved.seed, saved.temperature) == (
        "fr",
        0.9,
        7,
        None,
    )

    refusals = {
        "Temperature can be at most 1.5 on this bot (you gave 1.9).": {"temperature": 1.9},
        "Guidance must be above 0 and at most 1 (you gave 0).": {"guidance": 0.0},
        "Expressiveness must be between 0 and 2 (you gave 2.5).": {"expressiveness": 2.5},
        "Give at least one of expressiveness": {},
    }
    for sentence, options in refusals.items():
        log = await run(fake_discord, guild, owner, "speech", speech("style", **options))
        assert sentence in reply_text(log)
    assert await bot.store.settings.preferences(guild.id, member_id) == saved  # unchanged

    log = await run(fake_discord, guild, owner, "speech", speech("show"))
    (embed,) = log.messages()[0]["embeds"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Language"] == "French (fr)"
    assert fields["Expressiveness"] == "0.9 (yours)" and fields["Seed"] == "7 (yours)"
    assert fields["Guidance"] == "0.5 (default)" and fields["Temperature"] == "0.8 (default)"

    await run(fake_discord, guild, owner, "speech", speech("reset", setting="style"))
    kept = await bot.store.settings.preferences(guild.id, member_id)
    assert kept.language == "fr" and kept.style == {}
    await run(fake_discord, guild, owner, "speech", speech("reset"))
    assert (await bot.store.settings.preferences(guild.id, member_id)).language is None
    # The member's own preferences, like /voice default: not in the audit trail.
    assert await bot.store.audit.entries(guild_id=guild.id) == []


async def test_server_default_language_is_shown_and_audited(
    multilingual_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild, people: Any
) -> None:
    bot, admin, other = multilingual_bot, people["admin"], people["other"]
    option = [{"name": "default_language", "type": 3, "value": "German"}]
    denied = await run(fake_discord, guild, other, "settings", option)
    assert "Manage Server" in reply_text(denied)
    log = await run(fake_discord, guild, admin, "settings", option)
    (embed,) = log.messages()[0]["embeds"]
    assert {f["name"]: f["value"] for f in embed["fields"]}["Default language"] == "German (de)"
    assert (await bot.store.settings.guild(guild.id)).default_language == "de"

    # A member without a language of their own now hears German.
    log = await run(fake_discord, guild, other, "speech", speech("show"))
    assert "German (de), the server's" in json.dumps(log.messages()[0]["embeds"])

    clear = [{"name": "default_language", "type": 3, "value": "none"}]
    await run(fake_discord, guild, admin, "settings", clear)
    assert (await bot.store.settings.guild(guild.id)).default_language is None
    entries = await bot.store.audit.entries(guild_id=guild.id)
    details = [e.detail for e in reversed(entries) if e.action is AuditAction.SETTINGS]
    assert details == [
        {"setting": "default_language", "value": "de"},
        {"setting": "default_language", "value": None},
    ]
    assert all(e.who == Who.member(int(admin["id"])) for e in entries)


async def test_refused_say_leaves_the_cooldown_unspent_and_english_model_says_so(
    english_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild, people: Any
) -> None:
    bot, owner, admin = english_bot, people["owner"], people["admin"]
    offered = await fake_discord.autocomplete(guild, owner, "say", None, "language", "")
    assert offered == [{"name": "English (en)", "value": "en"}]

    log = await say(fake_discord, guild, owner, "Bonjour.", language="fr")
    assert "Join a voice channel first" in reply_text(log)
    await in_voice(bot, fake_discord, guild, owner)
    refusals = {
        "speaks only English, so I can't speak French": {"language": "fr"},
        "Expressiveness must be between 0 and 2 (you gave 3).": {"expressiveness": 3.0},
        "Temperature must be above 0 and at most 1.5 (you gave 0).": {"temperature": 0.0},
        "Pick a voice with the `voice` option": {"language": "en", "seed": 3},
    }
    for sentence, options in refusals.items():
        log = await say(fake_discord, guild, owner, "Bonjour.", **options)
        assert sentence in reply_text(log), reply_text(log)
        assert "Slow down" not in reply_text(log)
        assert all(body.get("flags", 0) & EPHEMERAL for body in log.messages())
    assert bot.engine._executor is None  # refused before any voice work

    for command, options in [
        ("speech", speech("language", language="fr")),
        ("settings", [{"name": "default_language", "type": 3, "value": "fr"}]),
    ]:
        log = await run(fake_discord, guild, admin, command, options)
        assert "This bot's voice model speaks only English" in reply_text(log)
    assert (await bot.store.settings.guild(guild.id)).default_language is None
