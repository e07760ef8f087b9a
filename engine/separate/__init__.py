"""Song separation with Demucs: vocals and instrumental stems, cached by content."""

from engine.separate.cache import StageCache, cache_key
from engine.separate.demucs import DemucsSeparator, SeparationPlan
from engine.separate.errors import (
    DemucsCheckpointError,
    DemucsNotDownloadedError,
    SongTooLongError,
)
from engine.separate.pieces import OverlapAdd, Piece, plan_pieces
from engine.separate.service import StemService, StemsResult
from engine.separate.song import DEFAULT_MAX_SONG_SECONDS, check_song_length, load_song
from engine.separate.stems import Stems, Track
from engine.separate.weights import (
    DOWNLOAD_COMMAND,
    check_demucs_available,
    download_demucs,
    load_demucs,
    remote_files,
)

__all__ = [
    "DEFAULT_MAX_SONG_SECONDS",
    "DOWNLOAD_COMMAND",
    "DemucsCheckpointError",
    "DemucsNotDownloadedError",
    "DemucsSeparator",
    "OverlapAdd",
    "Piece",
    "SeparationPlan",
    "SongTooLongError",
    "StageCache",
    "StemService",
    "Stems",
    "StemsResult",
    "Track",
    "cache_key",
    "check_demucs_available",
    "check_song_length",
    "download_demucs",
    "load_demucs",
    "load_song",
    "plan_pieces",
    "remote_files",
]
