"""RVC as the vocal converter of a cover (:class:`engine.cover.convert.VocalConverter`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from engine.audio import Audio
from engine.convert.params import MAX_PITCH_SHIFT, ConversionParams
from engine.convert.runtime import ConversionModels
from engine.executor import CancelToken
from engine.separate.progress import Progress, ignore_progress

METHOD = "rvc"

ModelsProvider = Callable[[], ConversionModels]
"""Returns the loaded conversion models; called on the worker thread (a ModelSlot's get)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class SingingModel:
    """A voice's RVC export, with the content hashes that key the cover cache."""

    model: Path
    index: Path | None = None
    model_sha256: str = ""
    index_sha256: str = ""

    @classmethod
    def hashed(cls, model: Path, index: Path | None = None) -> SingingModel:
        """Reads both files once (blocking: call from a worker thread)."""
        return cls(
            model,
            index,
            file_sha256(model),
            file_sha256(index) if index is not None else "",
        )


class RvcSinger:
    """Sings the song's vocals through a voice's RVC model.

    The key change reaches RVC as its own pitch shift (whole semitones); there is no
    octave fitting, because an RVC model is trained on the range it should sing in.
    """

    method = METHOD

    def __init__(
        self,
        models: ModelsProvider,
        singing_model: SingingModel,
        params: ConversionParams | None = None,
    ) -> None:
        if not singing_model.model_sha256:
            raise ValueError("hash the model files first (SingingModel.hashed)")
        self._models = models
        self.singing_model = singing_model
        self.params = params or ConversionParams()

    @property
    def cache_key(self) -> str:
        settings = asdict(replace(self.params, pitch_shift=0))
        parts = [
            METHOD,
            self.singing_model.model_sha256,
            self.singing_model.index_sha256,
            repr(sorted(settings.items())),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    @property
    def voice_pitch_hz(self) -> float | None:
        return None

    def convert(
        self,
        vocals: Audio,
        semitones: float,
        token: CancelToken,
        progress: Progress = ignore_progress,
    ) -> Audio:
        shift = max(-MAX_PITCH_SHIFT, min(MAX_PITCH_SHIFT, round(semitones)))
        return self._models().convert(
            vocals,
            self.singing_model.model,
            index_path=self.singing_model.index,
            params=replace(self.params, pitch_shift=shift),
            token=token,
            progress=progress,
        )
