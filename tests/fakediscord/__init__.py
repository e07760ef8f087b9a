"""A fake Discord (gateway, REST, CDN) on loopback for end-to-end tests of the real bot."""

from tests.fakediscord.server import FakeDiscord, FakeGuild, InteractionLog

__all__ = ["FakeDiscord", "FakeGuild", "InteractionLog"]
