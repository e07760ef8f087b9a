"""Builders for the JSON objects Discord sends, with just the fields discord.py reads."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
_counter = itertools.count()

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
# View channel, send messages, embed links, attach files, read history, connect, speak,
# use application commands: what an ordinary member has.
MEMBER_PERMISSIONS = (
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 20) | (1 << 21) | (1 << 31)
)


def snowflake() -> int:
    """A fresh id carrying the current time, as Discord's do (cooldowns read it)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) % 4096)


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


def user(user_id: int | None = None, name: str = "member", *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id or snowflake()),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member(
    user_payload: dict[str, Any], *, roles: list[int] | None = None, permissions: int | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "user": user_payload,
        "roles": [str(role) for role in roles or []],
        "joined_at": iso_now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "pending": False,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def text_channel(
    guild_id: int, name: str = "general", channel_id: int | None = None
) -> dict[str, Any]:
    return {
        "id": str(channel_id or snowflake()),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def voice_channel(
    guild_id: int, name: str = "Voice", channel_id: int | None = None
) -> dict[str, Any]:
    return {
        "id": str(channel_id or snowflake()),
        "type": 2,
        "guild_id": str(guild_id),
        "name": name,
        "position": 1,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "bitrate": 64000,
        "user_limit": 0,
        "rtc_region": None,
    }


def role(role_id: int, name: str, permissions: int, position: int = 0) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild(
    guild_id: int,
    name: str,
    *,
    owner_id: int,
    channels: list[dict[str, Any]],
    members: list[dict[str, Any]],
    roles: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": iso_now(),
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    }


def application(app_id: int, owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(app_id),
        "name": "Parrot",
        "icon": None,
        "description": "test application",
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": owner,
        "verify_key": secrets.token_hex(32),
        "flags": 0,
        "team": None,
        "summary": "",
    }


def message(
    channel_id: int,
    author: dict[str, Any],
    content: str = "",
    *,
    embeds: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    flags: int = 0,
    message_id: int | None = None,
) -> dict[str, Any]:
    return {
        "id": str(message_id or snowflake()),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": [],
    }


def attachment(
    attachment_id: int, filename: str, size: int, url: str, content_type: str | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type is not None:
        payload["content_type"] = content_type
    return payload
