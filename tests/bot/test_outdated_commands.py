"""Commands Discord still shows after an upgrade: an unknown command, a removed subcommand,
a group invoked as a command or a command missing a required option all answer that the
command is outdated and that the owner should run ``parrot sync``; typing into one of
their options gets no choices rather than an error."""

from __future__ import annotations

from typing import Any

from bot.client import ParrotBot
from bot.errors import OUTDATED_COMMAND
from tests.bot.conftest import reply_text
from tests.fakediscord import FakeDiscord, FakeGuild

EPHEMERAL = 64


OUTDATED = {
    "unknown": ("speak", []),  # a command this Parrot no longer has
    "subcommand": ("voice", [{"name": "clone", "type": 1, "options": []}]),  # removed since
    "group": ("voice", []),  # a group, as an older Parrot registered it as a command
    "signature": ("detect", []),  # its required option missing: an older signature
}


async def test_an_outdated_command_says_so(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    assert "`parrot sync`" in OUTDATED_COMMAND
    for case, (name, options) in OUTDATED.items():
        log = await fake_discord.slash(guild, people["other"], name, options)
        await fake_discord.wait_for(lambda: bool(log.callbacks))  # noqa: B023  # awaited here
        assert reply_text(log) == OUTDATED_COMMAND, case
        assert log.callbacks[0]["data"]["flags"] & EPHEMERAL, case

    # typing into an option of an outdated command: no choices, and no error
    choices = await fake_discord.autocomplete(guild, people["other"], "speak", None, "voice", "o")
    assert choices == []
