"""The multilingual model speaking through the fake Discord: the real bot, a random-weight
Chatterbox Multilingual checkpoint (its real classes and ``MTLTokenizer``), and the
language a member chose reaching the model, whether they asked in ``/say``, saved it
with ``/speech language``, left it to the server's default, or were read aloud.

The model tokenises a text with its language's token first (``[fr]``...): the spy reads
that token from every decode request the engine made. One bot serves the whole module;
each accepted ``/say`` comes from another member, because the cooldown here is long.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.client import ParrotBot
from bot.store.models import Voice
from engine.api import TTSModel
from tests.bot.conftest import reply_text
from tests.bot.speech_support import (
    enrolled_voice,
    eventually,
    in_voice,
    live_stage,
    quick_speech_settings,
    say,
)
from tests.bot.speech_support import ephemeral_command as run
from tests.bot.speech_support import speech_options as speech
from tests.checkpoints.chatterbox import shrunk_t3
from tests.checkpoints.chatterbox_multilingual import (
    TOKENIZER_FILE,
    language_token,
    multilingual_checkpoint,
)
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.fakediscord.payloads import MANAGE_GUILD

pytestmark = pytest.mark.asyncio(loop_scope="module")


class LanguageSpy:
    """Records the language token (the first after T3's start token) of every sentence the
    engine asked the model to decode."""

    def __init__(self, parrot: ParrotBot, checkpoint: Path) -> None:
        from tokenizers import Tokenizer

        vocabulary = Tokenizer.from_file(str(checkpoint / TOKENIZER_FILE))
        self.codes = {vocabulary.token_to_id(language_token(c)): c for c in ("de", "es", "fr")}
        self.spoken: list[tuple[str, str | None]] = []
        """(text, language) of every sentence decoded, by the language token it began with."""
        backend: Any = parrot.engine._backend
        assert backend is not None
        original = backend.decode_request

        def decode_request(conditionals: Any, text: str, params: Any, **kwargs: Any) -> Any:
            request = original(conditionals, text, params, **kwargs)
            self.spoken.append((text, self.codes.get(int(request.text_tokens[1]))))
            return request

        backend.decode_request = decode_request  # a spy around the real method

    async def next_language(self, text: str) -> str | None:
        await eventually(lambda: any(t == text for t, _ in self.spoken), f"{text!r} decoded")
        return next(language for t, language in self.spoken if t == text)


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    bot: ParrotBot
    people: dict[str, dict[str, Any]]
    voice: Voice
    spy: LanguageSpy


@pytest.fixture(scope="module")
def multilingual_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with shrunk_t3():
        models = tmp_path_factory.mktemp("multilingual-models")
        target = models / "chatterbox-multilingual"
        target.symlink_to(multilingual_checkpoint(), target_is_directory=True)
        yield models


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    multilingual_models: Path,
    tmp_path_factory: pytest.TempPathFactory,
    short_speech_clips: dict[str, Path],
) -> AsyncIterator[World]:
    root = tmp_path_factory.mktemp("multilingual-e2e")
    settings = quick_speech_settings(
        root / "data",
        multilingual_models,
        tts_model=TTSModel.MULTILINGUAL,
        say_cooldown_seconds=600,
    )
    async with live_stage(settings, root / "cwd") as stage:
        fake, guild = stage.fake, stage.guild
        names = ("owner", "french", "spanish", "german", "latecomer")
        people = {name: fake.add_member(guild, name) for name in names}
        people["admin"] = fake.add_member(guild, "admin", permissions=MANAGE_GUILD)
        voice = await enrolled_voice(stage.bot, people["owner"], short_speech_clips["wav"])
        spy = LanguageSpy(stage.bot, multilingual_models / "chatterbox-multilingual")
        yield World(fake, guild, stage.bot, people, voice, spy)


async def test_say_in_french_is_spoken_in_french_in_the_channel(world: World) -> None:
    fake, guild, member = world.fake, world.guild, world.people["french"]
    await in_voice(world.bot, fake, guild, member)
    log = await say(fake, guild, member, "Bonjour.", voice=world.voice.id, language="fr")
    assert "Saying it now" in reply_text(log) and "with **Olive** in French." in reply_text(log)
    assert await world.spy.next_language("Bonjour.") == "fr"
    await fake.voice_session(guild).wait_for_packets(5, timeout=60)


async def test_saved_server_and_autoread_languages_reach_the_model(world: World) -> None:
    fake, guild, people, voice = world.fake, world.guild, world.people, world.voice
    await run(fake, guild, people["admin"], "settings", [_option("default_language", "de")])
    await run(fake, guild, people["spanish"], "speech", speech("language", language="es"))
    for name in ("spanish", "german"):
        await in_voice(world.bot, fake, guild, people[name])

    log = await say(fake, guild, people["spanish"], "Hola.", voice=voice.id)
    assert "in Spanish." in reply_text(log)
    assert await world.spy.next_language("Hola.") == "es"
    log = await say(fake, guild, people["german"], "Hallo.", voice=voice.id)
    assert "in German." in reply_text(log)  # the server's default: no language of their own
    assert await world.spy.next_language("Hallo.") == "de"

    # Auto-read speaks each listener's messages in their language.
    await world.bot.store.settings.set_member_voice(
        guild.id, int(people["spanish"]["id"]), voice.id
    )
    await run(fake, guild, people["admin"], "autoread", [_option("enabled", True, kind=5)])
    await fake.post_message(guild, people["spanish"], "Buenas tardes.")
    assert await world.spy.next_language("Buenas tardes.") == "es"


async def test_the_cooldown_counts_only_accepted_requests(world: World) -> None:
    fake, guild, member, voice = world.fake, world.guild, world.people["latecomer"], world.voice
    refused = [
        ({"voice": voice.id}, "Join a voice channel first"),
        ({"voice": voice.id, "language": "xx"}, "I don't know the language `xx`"),
        ({"voice": voice.id, "guidance": 1.5}, "Guidance must be above 0 and at most 1"),
        ({"voice": "nobody"}, "don't know a voice called `nobody`"),
    ]
    for number, (options, sentence) in enumerate(refused):
        if number == 1:
            await in_voice(world.bot, fake, guild, member)
        log = await say(fake, guild, member, "Ciao.", **options)
        assert sentence in reply_text(log)
    log = await say(fake, guild, member, "Ciao.", voice=voice.id, language="it")
    assert "with **Olive** in Italian." in reply_text(log)  # accepted: the refusals spent nothing
    log = await say(fake, guild, member, "Ciao ancora.", voice=voice.id)
    assert "Slow down a little" in reply_text(log)  # the accepted one did


def _option(name: str, value: Any, *, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}
