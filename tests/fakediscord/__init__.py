"""A fake Discord on loopback for end-to-end tests of the real bot: gateway, REST, CDN, and
voice (voice gateway + UDP that decrypts and decodes what the bot plays)."""

from tests.fakediscord.server import FakeDiscord, FakeGuild, InteractionLog
from tests.fakediscord.voice_session import ReceivedPacket, SpeakingEvent, VoiceSession

__all__ = [
    "FakeDiscord",
    "FakeGuild",
    "InteractionLog",
    "ReceivedPacket",
    "SpeakingEvent",
    "VoiceSession",
]
