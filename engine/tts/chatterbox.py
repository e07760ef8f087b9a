"""Chatterbox (original, turbo, multilingual) behind Parrot's TTS backend protocol.

Parrot drives the model's parts itself rather than calling ``generate()``, because
``generate()`` hard-codes 1000 speech tokens per call (40 s: a model that misses its
stop token runs that long), offers no seed and no decoder-step control. The steps
below follow the library's own order: normalise punctuation, tokenise, T3 speech
tokens, drop special tokens, S3Gen waveform, Perth watermark.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import EngineConfig, SpeechDtype, TTSModel
from engine.executor import CancelToken
from engine.files import atomic_path
from engine.models import ModelSpec, find_weights
from engine.tts.backend import AudioStream, DecodeRequest, SpeechDecoder, VocodeJob
from engine.tts.chatterbox_prompt import conditioning, guided_text_tokens, turbo_text_tokens
from engine.tts.decode.params import DecodeParams
from engine.tts.errors import ModelNotDownloadedError
from engine.tts.params import SpeechParams, token_budget
from engine.tts.quiet import quiet_chatterbox_progress

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000  # S3GEN_SR
_SPEECH_TOKEN_LIMIT = 6561  # tokens at or above this are special, not speech
S3GEN_SILENCE_TOKEN = 4299  # chatterbox.models.s3gen.const.S3GEN_SIL
TURBO_TOP_K = 1000  # ChatterboxTurboTTS.generate's default


WEIGHTS: dict[TTSModel, ModelSpec] = {
    TTSModel.ORIGINAL: ModelSpec(
        key="chatterbox",
        repo_id="ResembleAI/chatterbox",
        required_files=(
            "ve.safetensors",
            "t3_cfg.safetensors",
            "s3gen.safetensors",
            "tokenizer.json",
        ),
        download_patterns=(
            "ve.safetensors",
            "t3_cfg.safetensors",
            "s3gen.safetensors",
            "tokenizer.json",
            "conds.pt",
        ),
        description="Chatterbox TTS (English, 0.5 B)",
    ),
    TTSModel.TURBO: ModelSpec(
        key="chatterbox-turbo",
        repo_id="ResembleAI/chatterbox-turbo",
        required_files=("ve.safetensors", "t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors"),
        download_patterns=("*.safetensors", "*.json", "*.txt", "*.pt", "*.model"),
        description="Chatterbox Turbo (English, fast)",
    ),
    TTSModel.MULTILINGUAL: ModelSpec(
        key="chatterbox-multilingual",
        repo_id="ResembleAI/chatterbox",
        required_files=(
            "ve.pt",
            "t3_mtl23ls_v2.safetensors",
            "s3gen.pt",
            "grapheme_mtl_merged_expanded_v1.json",
        ),
        download_patterns=(
            "ve.pt",
            "t3_mtl23ls_v2.safetensors",
            "s3gen.pt",
            "grapheme_mtl_merged_expanded_v1.json",
            "conds.pt",
            "Cangjie5_TC.json",
        ),
        description="Chatterbox Multilingual (23 languages)",
    ),
}
"""Where each variant's weights live on the hub and which files make them whole."""

MULTILINGUAL_LANGUAGES = (
    *("ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja"),
    *("ko", "ms", "nl", "no", "pl", "pt", "ru", "sv", "sw", "tr", "zh"),
)
"""The language codes of Chatterbox Multilingual (``chatterbox.mtl_tts.SUPPORTED_LANGUAGES``)."""


def _module(variant: TTSModel) -> Any:
    """The chatterbox module of a variant (imported lazily: it costs about 10 s)."""
    if variant is TTSModel.TURBO:
        import chatterbox.tts_turbo as module
    elif variant is TTSModel.MULTILINGUAL:
        import chatterbox.mtl_tts as module
    else:
        import chatterbox.tts as module
    return module


class ChatterboxBackend:
    sample_rate = SAMPLE_RATE

    def __init__(self, config: EngineConfig, device: str, variant: TTSModel | None = None) -> None:
        self.config = config
        self.device = device
        self.variant = variant or config.tts_model
        self.spec = WEIGHTS[self.variant]
        self.name = f"chatterbox-{self.variant.value}"
        self._model: Any = None

    # lifetime ------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def weights_folder(self) -> Path:
        folder = find_weights(self.config, self.spec)
        if folder is None:
            where = (
                f" or copy its files into {self.config.models_dir / self.spec.key}"
                if self.config.models_dir
                else ""
            )
            raise ModelNotDownloadedError(
                f"{self.spec.description} is not downloaded: run `parrot models download "
                f"{self.variant.value}` on a machine with internet access{where}"
            )
        return folder

    def check_available(self) -> None:
        if self._model is None:
            self.weights_folder()

    def load(self) -> None:
        if self._model is not None:
            return
        folder = self.weights_folder()
        module = _module(self.variant)
        quiet_chatterbox_progress()
        model_class = {
            TTSModel.ORIGINAL: "ChatterboxTTS",
            TTSModel.TURBO: "ChatterboxTurboTTS",
            TTSModel.MULTILINGUAL: "ChatterboxMultilingualTTS",
        }[self.variant]
        self._model = getattr(module, model_class).from_local(folder, self.device)
        if self._model.watermarker is None:
            raise RuntimeError("Perth watermarker unavailable: install setuptools<81")

    def unload(self) -> None:
        self._model = None
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    @property
    def model(self) -> Any:
        if self._model is None:
            self.load()
        return self._model

    def voice_converter(self) -> Any:
        """The loaded S3Gen module: zero-shot singing converts voices with it."""
        return self.model.s3gen

    # conditionals ---------------------------------------------------------------------------
    def make_conditionals(self, reference_wav: Path, exaggeration: float) -> Any:
        model = self.model
        model.prepare_conditionals(str(reference_wav), exaggeration=exaggeration)
        conditionals, model.conds = model.conds, None
        return conditionals

    def save_conditionals(self, conditionals: Any, path: Path) -> None:
        with atomic_path(path) as temporary:
            conditionals.save(temporary)

    def load_conditionals(self, path: Path) -> Any:
        module = _module(self.variant)
        return module.Conditionals.load(path, map_location="cpu").to(self.device)

    # synthesis ------------------------------------------------------------------------------
    def generate(
        self, conditionals: Any, text: str, params: SpeechParams, token: CancelToken
    ) -> np.ndarray:
        import torch

        model = self.model
        module = _module(self.variant)
        if params.seed is not None:
            torch.manual_seed(params.seed)
        budget = token_budget(text, params)
        with torch.inference_mode():
            if self.variant is TTSModel.TURBO:
                speech_tokens = self._turbo_tokens(model, conditionals, text, params, budget)
            else:
                speech_tokens = self._guided_tokens(
                    model, module, conditionals, text, params, budget
                )
            token.raise_if_cancelled()
            if speech_tokens.numel() == 0:
                # S3Gen's vocoder cannot take an empty sequence (a conv padding error); a
                # model that stops at once has said nothing, so this chunk is a short pause.
                log.warning("the model produced no speech for %r", text[:40])
                return np.zeros(self.sample_rate // 10, dtype=np.float32)
            steps = params.decoder_steps or (2 if self.variant is TTSModel.TURBO else None)
            wav, _ = model.s3gen.inference(
                speech_tokens=speech_tokens, ref_dict=conditionals.gen, n_cfm_timesteps=steps
            )
        audio = wav.squeeze(0).detach().float().cpu().numpy()
        marked = model.watermarker.apply_watermark(audio, sample_rate=self.sample_rate)
        return np.ascontiguousarray(marked, dtype=np.float32)

    # batched speech (BatchedSpeechBackend) -----------------------------------------------
    def speech_decoder(self, max_requests: int, max_length: int) -> SpeechDecoder:
        import torch

        from engine.tts.decode.factory import decoder_for  # deferred: imports torch

        t3 = self.model.t3
        if self.config.speech_dtype is SpeechDtype.BFLOAT16:
            t3.to(torch.bfloat16)
        return decoder_for(
            t3,
            max_requests=max_requests,
            max_length=max_length,
            cuda_graphs=self.config.speech_cuda_graphs and self.device.startswith("cuda"),
        )

    def decode_request(
        self, conditionals: Any, text: str, params: SpeechParams, *, seed: int, budget: int
    ) -> DecodeRequest:
        model = self.model
        module = _module(self.variant)
        t3 = model.t3
        dtype = t3.speech_emb.weight.dtype
        voice = conditioning(conditionals, params, device=self.device, dtype=dtype)
        if self.variant is TTSModel.TURBO:
            text_tokens = turbo_text_tokens(model, module, text, params.language)
            decode = DecodeParams(
                cfg_weight=0.0,
                temperature=params.temperature,
                repetition_penalty=params.repetition_penalty,
                min_p=0.0,
                top_p=params.top_p,
                top_k=TURBO_TOP_K,
                seed=seed,
                max_new_tokens=budget,
            )
        else:
            text_tokens = guided_text_tokens(model, module, self.variant, text, params.language)
            decode = DecodeParams(
                cfg_weight=params.cfg_weight,
                temperature=params.temperature,
                repetition_penalty=params.repetition_penalty,
                min_p=params.min_p,
                top_p=params.top_p,
                seed=seed,
                max_new_tokens=budget,
            )
        return DecodeRequest(voice, text_tokens.to(self.device), decode)

    def audio_stream(
        self, conditionals: Any, params: SpeechParams, *, seed: int, first_tokens: int
    ) -> AudioStream:
        from engine.tts.vocoder import S3GenStream, StreamSchedule  # deferred: imports torch

        steps = params.decoder_steps or (2 if self.variant is TTSModel.TURBO else None)
        schedule = StreamSchedule(first_tokens=first_tokens)
        return S3GenStream(
            self.model.s3gen, conditionals.gen, steps=steps, seed=seed, schedule=schedule
        )

    def vocode(self, jobs: Sequence[VocodeJob]) -> list[np.ndarray]:
        from engine.tts.vocoder import S3GenStream, vocode_pieces  # deferred: imports torch

        own: list[tuple[S3GenStream, Sequence[int], bool]] = []
        for stream, tokens, finished in jobs:
            if not isinstance(stream, S3GenStream):
                raise TypeError("vocode takes the streams this backend's audio_stream made")
            own.append((stream, tokens, finished))
        return vocode_pieces(self.model.s3gen, own)

    def speech_tokens(self, tokens: Sequence[int], finished: bool) -> list[int]:
        valid = [token for token in tokens if token < _SPEECH_TOKEN_LIMIT]
        if finished and self.variant is TTSModel.TURBO:
            valid += [S3GEN_SILENCE_TOKEN] * 3  # Turbo ends every sentence with them
        return valid

    def watermark(self, samples: np.ndarray) -> np.ndarray:
        marked = self.model.watermarker.apply_watermark(samples, sample_rate=self.sample_rate)
        return np.ascontiguousarray(marked, dtype=np.float32)

    def _guided_tokens(
        self,
        model: Any,
        module: Any,
        conditionals: Any,
        text: str,
        params: SpeechParams,
        budget: int,
    ) -> Any:
        import torch
        from chatterbox.models.s3tokenizer import drop_invalid_tokens

        text_tokens = guided_text_tokens(model, module, self.variant, text, params.language)
        text_tokens = text_tokens.to(self.device)[None].expand(2, -1)  # guided batch of two
        speech = model.t3.inference(
            t3_cond=conditioning(conditionals, params, device=self.device, dtype=torch.float32),
            text_tokens=text_tokens,
            max_new_tokens=budget,
            temperature=params.temperature,
            cfg_weight=params.cfg_weight,
            repetition_penalty=params.repetition_penalty,
            min_p=params.min_p,
            top_p=params.top_p,
        )
        speech = drop_invalid_tokens(speech[0])
        return speech[speech < _SPEECH_TOKEN_LIMIT].to(self.device)

    def _turbo_tokens(
        self, model: Any, conditionals: Any, text: str, params: SpeechParams, budget: int
    ) -> Any:
        import torch
        from chatterbox.models.s3gen.const import S3GEN_SIL

        speech = model.t3.inference_turbo(
            t3_cond=conditionals.t3,
            text_tokens=turbo_text_tokens(model, _module(self.variant), text, params.language).to(
                self.device
            ),
            temperature=params.temperature,
            top_p=params.top_p,
            repetition_penalty=params.repetition_penalty,
            max_gen_len=budget,
        )
        speech = speech[speech < _SPEECH_TOKEN_LIMIT].to(self.device)
        silence = torch.tensor([S3GEN_SIL] * 3, dtype=torch.long, device=self.device)
        return torch.cat([speech, silence])
