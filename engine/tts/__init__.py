"""Text to speech: the backend protocol, Chatterbox, parameters and voice profiles."""

from engine.tts.backend import TTSBackend
from engine.tts.errors import ModelNotDownloadedError, VoiceNotEnrolledError
from engine.tts.params import InvalidSpeechParamsError, SpeechParams
from engine.tts.profile import PreparedSample, VoiceProfile

__all__ = [
    "InvalidSpeechParamsError",
    "ModelNotDownloadedError",
    "PreparedSample",
    "SpeechParams",
    "TTSBackend",
    "VoiceNotEnrolledError",
    "VoiceProfile",
]
