"""Chatterbox (original, turbo, multilingual) behind Parrot's TTS backend protocol.

Parrot drives the model's parts itself rather than calling ``generate()``, because
``generate()`` hard-codes 1000 speech tokens per call (40 s: a model that misses its
stop token runs that long), offers no seed and no decoder-step control. The steps
below follow the library's own order: normalise punctuation, tokenise, T3 speech
tokens, drop special tokens, S3Gen waveform, Perth watermark.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import EngineConfig, TTSModel
from engine.executor import CancelToken
from engine.files import atomic_path
from engine.models import ModelSpec, find_weights
from engine.tts.errors import ModelNotDownloadedError
from engine.tts.params import SpeechParams, token_budget

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000  # S3GEN_SR
_SPEECH_TOKEN_LIMIT = 6561  # tokens at or above this are special, not speech


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
        text = module.punc_norm(text)
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

    def _with_exaggeration(self, conditionals: Any, exaggeration: float) -> Any:
        import torch
        from chatterbox.models.t3.modules.cond_enc import T3Cond

        current = conditionals.t3
        if float(current.emotion_adv[0, 0, 0]) == float(exaggeration):
            return current
        return T3Cond(
            speaker_emb=current.speaker_emb,
            cond_prompt_speech_tokens=current.cond_prompt_speech_tokens,
            emotion_adv=exaggeration * torch.ones(1, 1, 1),
        ).to(device=self.device)

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
        import torch.nn.functional as functional
        from chatterbox.models.s3tokenizer import drop_invalid_tokens

        if self.variant is TTSModel.MULTILINGUAL:
            language = (params.language or "en").lower()
            if language not in module.SUPPORTED_LANGUAGES:
                raise ValueError(f"language {language!r} is not supported by the model")
            text_tokens = model.tokenizer.text_to_tokens(text, language_id=language)
        else:
            text_tokens = model.tokenizer.text_to_tokens(text)
        text_tokens = text_tokens.to(self.device)
        text_tokens = torch.cat([text_tokens, text_tokens], dim=0)  # guided batch of two
        hp = model.t3.hp
        text_tokens = functional.pad(text_tokens, (1, 0), value=hp.start_text_token)
        text_tokens = functional.pad(text_tokens, (0, 1), value=hp.stop_text_token)
        speech = model.t3.inference(
            t3_cond=self._with_exaggeration(conditionals, params.exaggeration),
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

        encoded = model.tokenizer(text, return_tensors="pt", padding=True, truncation=True)
        speech = model.t3.inference_turbo(
            t3_cond=conditionals.t3,
            text_tokens=encoded.input_ids.to(self.device),
            temperature=params.temperature,
            top_p=params.top_p,
            repetition_penalty=params.repetition_penalty,
            max_gen_len=budget,
        )
        speech = speech[speech < _SPEECH_TOKEN_LIMIT].to(self.device)
        silence = torch.tensor([S3GEN_SIL] * 3, dtype=torch.long, device=self.device)
        return torch.cat([speech, silence])
