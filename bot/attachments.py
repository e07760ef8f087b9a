"""Audio attachments from members: checked before download, saved under names we choose."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path, PurePath

import discord

from bot.errors import UserFacingError

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".flac", ".webm", ".weba"}
)
AUDIO_MIME_PREFIXES = ("audio/",)
AUDIO_MIME_TYPES = frozenset({"video/webm", "video/mp4", "video/ogg", "application/ogg"})


def _megabytes(size: float) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def check_audio_attachment(attachment: discord.Attachment, *, max_bytes: int) -> str:
    """Refuse what is not audio or too big, before a byte is downloaded; returns the suffix."""
    suffix = PurePath(attachment.filename).suffix.lower()
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    looks_like_audio = suffix in AUDIO_EXTENSIONS or (
        content_type.startswith(AUDIO_MIME_PREFIXES) or content_type in AUDIO_MIME_TYPES
    )
    if not looks_like_audio:
        raise UserFacingError(
            f"`{discord.utils.escape_markdown(attachment.filename)[:80]}` is not an audio file; "
            "send wav, mp3, ogg/opus (voice messages too), m4a, flac or webm."
        )
    if attachment.size > max_bytes:
        raise UserFacingError(
            f"That file is {_megabytes(attachment.size)}; the limit is {_megabytes(max_bytes)}. "
            "Send a shorter clip or a compressed format such as mp3 or ogg."
        )
    if attachment.size == 0:
        raise UserFacingError("That file is empty.")
    return suffix if suffix in AUDIO_EXTENSIONS else ".audio"


def check_file_attachment(
    attachment: discord.Attachment, *, suffix: str, what: str, max_bytes: int
) -> str:
    """Refuse a file without ``suffix`` (e.g. ``.pth``) or too big, before downloading it."""
    if PurePath(attachment.filename).suffix.lower() != suffix:
        raise UserFacingError(
            f"`{discord.utils.escape_markdown(attachment.filename)[:80]}` is not {what} "
            f"(a `{suffix}` file)."
        )
    if attachment.size > max_bytes:
        raise UserFacingError(
            f"That file is {_megabytes(attachment.size)}; the limit for {what} is "
            f"{_megabytes(max_bytes)}."
        )
    if attachment.size == 0:
        raise UserFacingError("That file is empty.")
    return suffix


async def download_attachment(
    attachment: discord.Attachment, folder: Path, *, max_bytes: int, suffix: str | None = None
) -> Path:
    """Save the attachment as ``folder/<random><suffix>``; the member's filename never
    becomes a path. The size is checked again on the bytes actually received.

    Without ``suffix`` the attachment must be audio; with it, the caller has checked it
    (:func:`check_file_attachment`)."""
    if suffix is None:
        suffix = check_audio_attachment(attachment, max_bytes=max_bytes)
    elif attachment.size > max_bytes:
        raise UserFacingError(f"That file is larger than the {_megabytes(max_bytes)} limit.")
    try:
        data = await attachment.read()
    except (discord.HTTPException, discord.NotFound) as error:
        raise UserFacingError(
            "I could not download that attachment from Discord; please send it again."
        ) from error
    if len(data) > max_bytes:
        raise UserFacingError(f"That file is larger than the {_megabytes(max_bytes)} limit.")
    target = folder / f"{secrets.token_hex(8)}{suffix}"

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    await asyncio.to_thread(write)
    return target
