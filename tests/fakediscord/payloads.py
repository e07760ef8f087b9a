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
VIEW_CHANNEL = 1 << 10
CONNECT = 1 << 20
SPEAK = 1 << 21
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
    guild_id: int, name: str = "Voice", channel_id: int | None = None, position: int = 1
) -> dict[str, Any]:
    return {
        "id": str(channel_id or snowflake()),
        "type": 2,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
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
    voice_states: list[dict[str, Any]] | None = None,
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
        "voice_states": voice_states or [],
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
    guild_id: int | None = None,
    member_payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message; ``guild_id`` and ``member_payload`` make it a guild message (MESSAGE_CREATE)."""
    payload: dict[str, Any] = {
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
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if member_payload is not None:
        payload["member"] = {k: v for k, v in member_payload.items() if k != "user"}
    return payload


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


def voice_state(
    guild_id: int,
    member_payload: dict[str, Any],
    channel_id: int | None,
    session_id: str,
    *,
    self_mute: bool = False,
    self_deaf: bool = False,
) -> dict[str, Any]:
    """A VOICE_STATE_UPDATE body; ``channel_id`` None means the user left voice."""
    return {
        "guild_id": str(guild_id),
        "channel_id": None if channel_id is None else str(channel_id),
        "user_id": member_payload["user"]["id"],
        "member": member_payload,
        "session_id": session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": self_deaf,
        "self_mute": self_mute,
        "self_stream": False,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }


def voice_server_update(guild_id: int, token: str, endpoint: str) -> dict[str, Any]:
    return {"token": token, "guild_id": str(guild_id), "endpoint": endpoint}


def member_overwrite(user_id: int, *, allow: int = 0, deny: int = 0) -> dict[str, Any]:
    """A channel permission overwrite for one member (type 1)."""
    return {"id": str(user_id), "type": 1, "allow": str(allow), "deny": str(deny)}
