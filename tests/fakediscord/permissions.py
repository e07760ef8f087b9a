"""Discord's channel permission arithmetic: a member's guild permissions, then overwrites."""

from __future__ import annotations

from typing import Any

from tests.fakediscord.payloads import ADMINISTRATOR

ALL_PERMISSIONS = (1 << 53) - 1


def apply_overwrites(
    base: int, guild_id: int, user_id: int, role_ids: set[int], overwrites: list[dict[str, Any]]
) -> int:
    """The channel's overwrites in Discord's order: @everyone, the member's roles, the member."""
    if base & ADMINISTRATOR or base == ALL_PERMISSIONS:
        return base

    def pair(entry: dict[str, Any]) -> tuple[int, int]:
        return int(entry["allow"]), int(entry["deny"])

    value = base
    for entry in overwrites:
        if int(entry["id"]) == guild_id:
            allow, deny = pair(entry)
            value = (value & ~deny) | allow
    role_allow = role_deny = 0
    for entry in overwrites:
        if entry["type"] == 0 and int(entry["id"]) in role_ids:
            allow, deny = pair(entry)
            role_allow |= allow
            role_deny |= deny
    value = (value & ~role_deny) | role_allow
    for entry in overwrites:
        if entry["type"] == 1 and int(entry["id"]) == user_id:
            allow, deny = pair(entry)
            value = (value & ~deny) | allow
    return value
