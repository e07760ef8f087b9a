"""Gateway sharding as Discord does it: each connection identifies as ``[shard_id, count]``
and carries the guilds with ``(guild_id >> 22) % count == shard_id`` and their events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

Socket = TypeVar("Socket")


def shard_of(guild_id: int, count: int) -> int:
    return (guild_id >> 22) % count


class Shards:
    """Which shard each gateway connection identified as."""

    def __init__(self) -> None:
        self.recommended = 1
        """What ``GET /gateway/bot`` advises (``shard_count=None`` bots follow it)."""
        self.identified: list[tuple[int, int]] = []
        self._of: dict[int, tuple[int, int]] = {}

    def identify(self, socket: object, data: dict[str, Any]) -> None:
        shard_id, count = data.get("shard") or (0, 1)
        self._of[id(socket)] = (int(shard_id), int(count))
        self.identified.append((int(shard_id), int(count)))

    def of(self, socket: object) -> tuple[int, int]:
        return self._of.get(id(socket), (0, 1))

    def forget(self, socket: object) -> None:
        self._of.pop(id(socket), None)

    def carries(self, socket: object, guild_id: int) -> bool:
        shard_id, count = self.of(socket)
        return shard_of(guild_id, count) == shard_id

    def sockets_for(self, sockets: Iterable[Socket], data: Any) -> list[Socket]:
        """The connections an event goes to: its guild's shard, or all for other events."""
        guild_id = data.get("guild_id") if isinstance(data, dict) else None
        if guild_id is None:
            return list(sockets)
        return [socket for socket in sockets if self.carries(socket, int(guild_id))]


def ready_payload(fake: Any, guild_ids: Iterable[int], shard: tuple[int, int]) -> dict[str, Any]:
    """The READY event of one connection (its guilds follow as GUILD_CREATE)."""
    return {
        "shard": list(shard),
        "v": 10,
        "user": fake.bot_user,
        "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in guild_ids],
        "session_id": fake.session_id,
        "resume_gateway_url": fake.http_url.replace("http", "ws") + "/gateway",
        "application": {"id": str(fake.application_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
    }
