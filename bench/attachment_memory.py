"""Resident memory of downloading one large attachment: ``Attachment.read()`` (the whole
file in memory, then written) against Parrot's streamed download.

Each way runs in a fresh process that serves the file itself from a local HTTP server
(sendfile, so the server adds nothing) and reports its peak resident set (``VmHWM``,
reset just before the download). Linux only.

    python -m bench.attachment_memory            # 100 MB
    python -m bench.attachment_memory --mb 500
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
from aiohttp import web

from bench.process_memory import reset_peak, resident_kb, write_filler
from bot.attachments import download_attachment


async def serve(path: Path) -> tuple[web.AppRunner, str]:
    async def upload(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_get("/upload", upload)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/upload"


def attachment(url: str, size: int, http: Any) -> discord.Attachment:
    payload: Any = {
        "id": "1",
        "filename": "song.mp3",
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": "audio/mpeg",
    }
    return discord.Attachment(data=payload, state=SimpleNamespace(http=http))  # type: ignore[arg-type]


async def measure(way: str, source: Path, size: int, folder: Path) -> None:
    runner, url = await serve(source)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    session = aiohttp.ClientSession()
    http._HTTPClient__session = session  # type: ignore[attr-defined]  # what static_login sets
    upload = attachment(url, size, http)
    before = resident_kb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    if way == "read":
        data = await upload.read()
        (folder / "read.mp3").write_bytes(data)
        del data
    else:
        await download_attachment(upload, folder, max_bytes=size)
    elapsed = time.perf_counter() - started
    peak = resident_kb("VmHWM")
    await session.close()
    await runner.cleanup()
    figures = (before / 1024, peak / 1024, (peak - before) / 1024)
    print(way, *(f"{value:.0f}" for value in figures), f"{elapsed:.2f}", sep="\t")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--way", choices=("read", "stream"), help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(measure(args.way, args.source, args.source.stat().st_size, Path(folder)))
        return
    with tempfile.TemporaryDirectory() as folder:
        source = write_filler(Path(folder) / "upload.bin", args.mb)
        print(f"one {args.mb} MB attachment, peak resident memory of the process (MB)")
        print("way\tbefore\tpeak\tgrowth\tseconds")
        for way in ("read", "stream"):
            command = [sys.executable, "-m", "bench.attachment_memory", "--way", way]
            subprocess.run([*command, "--source", str(source)], check=True)


if __name__ == "__main__":
    main()
