"""The models conversion needs on one device, loaded on first use and released together.

Meant to live in one executor ``ModelSlot``: everything here is touched only by the
worker thread. Shared models (content encoder, pitch extractors) load once; voice
models are kept for the few most recently used voices.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from engine.audio import Audio
from engine.config import EngineConfig
from engine.convert.features import ContentFeatures
from engine.convert.index import FeatureIndex
from engine.convert.params import ConversionParams, PitchMethod
from engine.convert.pieces import Chunking
from engine.convert.pipeline import ProgressCallback, convert_voice
from engine.convert.pitch.base import PitchExtractor
from engine.convert.voice_model import RvcModel, load_rvc_model
from engine.convert.weights import content_encoder_folder, rmvpe_path
from engine.executor import CancelToken

log = logging.getLogger(__name__)

_FileKey = tuple[str, int, int]


def _file_key(path: Path) -> _FileKey:
    """Identity of a file's current contents (a re-uploaded model reloads)."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


class ConversionModels:
    def __init__(self, config: EngineConfig, device: str, *, voices_kept: int = 2) -> None:
        self.config = config
        self.device = device
        self.voices_kept = max(1, voices_kept)
        self._features: ContentFeatures | None = None
        self._pitch: dict[PitchMethod, PitchExtractor] = {}
        self._voices: OrderedDict[
            tuple[_FileKey, _FileKey | None], tuple[RvcModel, FeatureIndex | None]
        ]
        self._voices = OrderedDict()

    @property
    def loaded(self) -> list[str]:
        names = ["content encoder"] if self._features is not None else []
        names += [f"pitch: {method.value}" for method in self._pitch]
        names += [f"voice: {model.path.name}" for model, _ in self._voices.values()]
        return names

    def content_features(self) -> ContentFeatures:
        if self._features is None:
            self._features = ContentFeatures.load(content_encoder_folder(self.config), self.device)
        return self._features

    def pitch_extractor(self, method: PitchMethod) -> PitchExtractor:
        if method not in self._pitch:
            self._pitch[method] = self._load_pitch(method)
        return self._pitch[method]

    def _load_pitch(self, method: PitchMethod) -> PitchExtractor:
        if method is PitchMethod.RMVPE:
            # deferred: each extractor imports torch or its own package on first use
            from engine.convert.pitch.rmvpe import RmvpeExtractor

            return RmvpeExtractor.load(rmvpe_path(self.config), self.device)
        if method is PitchMethod.FCPE:
            from engine.convert.pitch.fcpe import FcpeExtractor  # deferred: torchfcpe

            return FcpeExtractor.load(self.device)
        from engine.convert.pitch.praat import PraatExtractor  # deferred: parselmouth

        return PraatExtractor.load()

    def voice(
        self, model_path: Path, index_path: Path | None = None
    ) -> tuple[RvcModel, FeatureIndex | None]:
        """The voice model (and its index) for these files, loading them when new or changed."""
        key = (_file_key(Path(model_path)), _file_key(Path(index_path)) if index_path else None)
        if key in self._voices:
            self._voices.move_to_end(key)
            return self._voices[key]
        model = load_rvc_model(Path(model_path), self.device)
        index = FeatureIndex.load(Path(index_path), model.version) if index_path else None
        self._voices[key] = (model, index)
        while len(self._voices) > self.voices_kept:
            self._voices.popitem(last=False)
        return model, index

    def convert(
        self,
        audio: Audio,
        model_path: Path,
        *,
        index_path: Path | None = None,
        params: ConversionParams | None = None,
        token: CancelToken | None = None,
        progress: ProgressCallback | None = None,
        chunking: Chunking | None = None,
    ) -> Audio:
        """Load what is missing, then :func:`engine.convert.pipeline.convert_voice`."""
        params = params or ConversionParams()
        model, index = self.voice(model_path, index_path)
        pitch = self.pitch_extractor(params.pitch_method) if model.has_f0 else None
        return convert_voice(
            audio,
            model,
            params=params,
            features=self.content_features(),
            pitch=pitch,
            index=index,
            token=token,
            progress=progress,
            chunking=chunking,
        )

    def release(self) -> None:
        """Drop every model (call on the worker thread, e.g. from ``ModelSlot`` unload)."""
        self._features = None
        self._pitch.clear()
        self._voices.clear()
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
