"""Audio attachments from members: checked before download, streamed to disk under names we
choose, with the size bound enforced on the bytes as they arrive.

``Attachment.read()`` would hold the whole file in memory (songs are up to 100 MB, singing
models 512 MB, per request) and trusts nothing but the final length; here a file that
turns out larger than its declared size is cut off at the limit, whatever it claimed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path, PurePath

import aiohttp
import discord

from bot.errors import UserFacingError
from bot.voices.files import TEMP_PREFIX

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".flac", ".webm", ".weba"}
)
AUDIO_MIME_PREFIXES = ("audio/",)
AUDIO_MIME_TYPES = frozenset({"video/webm", "video/mp4", "video/ogg", "application/ogg"})
UNKNOWN_MIME_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/x-download"}
)
"""Content types that say nothing about the file: its extension decides."""
SUPPORTED = "wav, mp3, ogg/opus (voice messages too), m4a, flac or webm"

CHUNK_BYTES = 256 * 1024
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=15 * 60, sock_connect=30, sock_read=60)
"""Generous for 512 MB on a slow line; a stalled transfer still ends within a minute."""


def _megabytes(size: float) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _shown_name(attachment: discord.Attachment) -> str:
    return discord.utils.escape_markdown(attachment.filename)[:80]


def declared_type(attachment: discord.Attachment) -> str:
    """The content type Discord reports, without parameters (``""`` when there is none)."""
    return (attachment.content_type or "").split(";")[0].strip().lower()


def _is_audio_type(content_type: str) -> bool:
    return content_type.startswith(AUDIO_MIME_PREFIXES) or content_type in AUDIO_MIME_TYPES


class TooLargeError(UserFacingError):
    """More bytes arrived than the limit allows (whatever size was declared)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"That file is larger than the {_megabytes(max_bytes)} limit.")


class DownloadFailedError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("I could not download that attachment from Discord; please send it again.")


def check_audio_attachment(attachment: discord.Attachment, *, max_bytes: int) -> str:
    """Refuse what is not audio or too big, before a byte is downloaded; returns the suffix.

    A declared content type is honoured: ``photo.wav`` declared ``image/png`` is an image.
    Only when the type says nothing (missing, ``application/octet-stream``) does the
    extension decide."""
    suffix = PurePath(attachment.filename).suffix.lower()
    content_type = declared_type(attachment)
    if content_type not in UNKNOWN_MIME_TYPES and not _is_audio_type(content_type):
        raise UserFacingError(
            f"`{_shown_name(attachment)}` is not an audio file (Discord says it is "
            f"`{content_type[:60]}`); send {SUPPORTED}."
        )
    if content_type in UNKNOWN_MIME_TYPES and suffix not in AUDIO_EXTENSIONS:
        raise UserFacingError(
            f"`{_shown_name(attachment)}` is not an audio file; send {SUPPORTED}."
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
        raise UserFacingError(f"`{_shown_name(attachment)}` is not {what} (a `{suffix}` file).")
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
    becomes a path. The bytes are streamed to disk and counted as they arrive.

    Without ``suffix`` the attachment must be audio; with it, the caller has checked it
    (:func:`check_file_attachment`)."""
    if suffix is None:
        suffix = check_audio_attachment(attachment, max_bytes=max_bytes)
    elif attachment.size > max_bytes:
        raise TooLargeError(max_bytes)
    target = folder / f"{secrets.token_hex(8)}{suffix}"
    await stream_to_file(attachment.url, target, max_bytes=max_bytes)
    return target


async def stream_to_file(url: str, target: Path, *, max_bytes: int) -> int:
    """Download ``url`` into ``target`` without holding it in memory; returns its size.

    Written under a ``.tmp-`` name and renamed when complete, so a crash leaves only what
    the start-up sweep removes. Raises :class:`TooLargeError` as soon as more than
    ``max_bytes`` arrive, :class:`DownloadFailedError` for anything the network does."""
    partial = target.with_name(f"{TEMP_PREFIX}{target.name}")  # swept after a crash
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    handle = await asyncio.to_thread(partial.open, "wb")
    received = 0
    try:
        try:
            async with (
                aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT) as session,
                session.get(url) as response,
            ):
                if response.status != 200:
                    raise DownloadFailedError()
                if response.content_length is not None and response.content_length > max_bytes:
                    raise TooLargeError(max_bytes)
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    received += len(chunk)
                    if received > max_bytes:
                        raise TooLargeError(max_bytes)
                    await asyncio.to_thread(handle.write, chunk)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DownloadFailedError() from error
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(os.replace, partial, target)
    except BaseException:
        handle.close()
        await asyncio.shield(asyncio.to_thread(partial.unlink, True))
        raise
    return received
