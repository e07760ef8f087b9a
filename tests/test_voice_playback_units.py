"""PCM conversion and the streaming AudioSource: exact frames, padding, underruns, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bot.voice.pcm import (
    FRAME_BYTES,
    SILENCE,
    DiscordPcmStream,
    split_frames,
    to_discord_frames,
    to_discord_pcm,
)
from bot.voice.source import StreamingSource


def test_pcm_is_48k_stereo_s16_from_24k_mono() -> None:
    one_second_24k = np.sin(np.arange(24_000) * 0.05).astype(np.float32) * 0.5
    pcm = to_discord_pcm(one_second_24k, 24_000)
    assert len(pcm) == 48_000 * 2 * 2
    stereo = np.frombuffer(pcm, dtype="<i2").reshape(-1, 2)
    np.testing.assert_array_equal(stereo[:, 0], stereo[:, 1])
    assert 0.45 * 32767 < np.abs(stereo).max() <= 32767


def test_resampling_keeps_the_pitch() -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(24_000) / 24_000).astype(np.float32)
    left = np.frombuffer(to_discord_pcm(tone, 24_000), dtype="<i2")[::2].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(left))
    assert abs(np.argmax(spectrum) * 48_000 / len(left) - 440) < 2


def test_pcm_clips_instead_of_wrapping() -> None:
    pcm = to_discord_pcm(np.array([2.0, -2.0], dtype=np.float32), 48_000)
    values = np.frombuffer(pcm, dtype="<i2")
    assert values[:4].tolist() == [32767, 32767, -32767, -32767]
    assert len(pcm) == FRAME_BYTES  # the short tail is padded to one whole frame


def test_frames_are_exact_and_the_last_one_is_padded() -> None:
    frames = to_discord_frames(np.ones(1000, dtype=np.float32) * 0.1, 48_000)
    assert [len(f) for f in frames] == [FRAME_BYTES, FRAME_BYTES]
    assert frames[1].endswith(bytes(100))
    with pytest.raises(ValueError, match="multiple"):
        split_frames(b"\x00" * 10)


def test_source_plays_silence_while_waiting_and_ends_after_finish() -> None:
    source = StreamingSource()
    source.feed([b"\x01" * FRAME_BYTES])
    assert source.read() == b"\x01" * FRAME_BYTES
    assert source.read() == SILENCE  # the next sentence is late: an underrun, not the end
    source.feed([b"\x02" * FRAME_BYTES])
    source.finish()
    assert source.read() == b"\x02" * FRAME_BYTES
    assert source.read() == b""
    assert source.underruns == 1
    assert source.frames_played == 2
    assert source.played_to_end


def test_source_refuses_partial_frames() -> None:
    with pytest.raises(ValueError, match="exactly"):
        StreamingSource().feed([b"\x00" * 100])


def test_cleanup_ends_playback_at_the_next_read() -> None:
    source = StreamingSource()
    source.feed([bytes(FRAME_BYTES)] * 10)
    source.cleanup()
    assert source.read() == b""
    assert not source.played_to_end  # stopped (or given up on) with frames left: cut off


def test_feeding_from_another_thread_keeps_every_frame_in_order() -> None:
    source = StreamingSource()
    frames = [bytes([1 + i % 250]) * FRAME_BYTES for i in range(300)]

    def feeder() -> None:
        for start in range(0, len(frames), 7):
            source.feed(frames[start : start + 7])
        source.finish()

    thread = threading.Thread(target=feeder)
    thread.start()
    received = []
    while (frame := source.read()) != b"":
        assert len(frame) == FRAME_BYTES
        if frame != SILENCE:
            received.append(frame)
    thread.join()
    assert received == frames


async def test_the_server_queue_is_bounded() -> None:
    from types import SimpleNamespace

    from bot.voice.player import GuildPlayer, QueueFullError, Utterance
    from engine.tts.profile import VoiceProfile

    guild = SimpleNamespace(id=1, voice_client=None)  # a stand-in: nothing is played here
    player = GuildPlayer(guild, engine=None, max_queue=2, idle_timeout=60)  # type: ignore[arg-type]
    profile = VoiceProfile.at(Path("/nonexistent"), "chatterbox-original")
    item = Utterance("Hi.", "v", "V", profile, requester_id=5)
    try:
        assert player.enqueue(item) == 0
        assert player.enqueue(item) == 1
        with pytest.raises(QueueFullError, match="full \\(2 waiting\\)"):
            player.enqueue(item)
        assert player.stop() == 2
    finally:
        await player.close()


@pytest.mark.parametrize("sizes", [[100, 7, 2400, 1, 5000], [24_000], [3, 3, 3], [960] * 30])
def test_a_stream_of_pieces_sounds_like_the_whole_audio(sizes: list[int]) -> None:
    """Streamed pieces resample and frame exactly like the whole clip: no ringing at the
    cuts and no silence between pieces."""
    rng = np.random.default_rng(5)
    whole = (0.3 * rng.standard_normal(sum(sizes))).astype(np.float32)
    stream = DiscordPcmStream(24_000)
    frames: list[bytes] = []
    offset = 0
    for size in sizes:
        frames += stream.feed(whole[offset : offset + size])
        offset += size
    frames += stream.finish()
    assert all(len(frame) == FRAME_BYTES for frame in frames)
    streamed = np.frombuffer(b"".join(frames), dtype="<i2").astype(np.int32)
    at_once = np.frombuffer(to_discord_pcm(whole, 24_000), dtype="<i2").astype(np.int32)
    assert len(streamed) == len(at_once)
    assert np.max(np.abs(streamed - at_once)) <= 1  # float rounding of one int16 step
